// staging and prod preview offline: their programs build from the committed stack files, with
// placeholder hosts and no deploy key, and every host gets its three concerns.
import test from "ava";
import { readFileSync } from "fs";
import { load } from "js-yaml";
import { join } from "path";
import * as pulumi from "@pulumi/pulumi";
import { Recorded } from "../../scripts/lab/mocks";

const recorded: Recorded[] = [];
pulumi.runtime.setMocks({
    newResource: (args) => { recorded.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? true }); return { id: `${args.name}-id`, state: args.inputs }; },
    call: (args) => args.inputs,
}, "zerotrust", "staging", true /* preview */);
import { zeroTrustStack } from "../../stacks/program";

function settingsFrom(env: string): any {
    const config = (load(readFileSync(join(__dirname, "..", "..", "..", "stacks", `Pulumi.${env}.yaml`), "utf8")) as any).config;
    const get = (k: string) => config[`zerotrust:${k}`];
    return {
        hostKind: get("hostKind"), meshCidr: get("meshCidr"), sshOverMeshOnly: get("sshOverMeshOnly") ?? false,
        rollbackSeconds: get("rollbackSeconds"), extraAppServers: 0, bootstrapSshSources: get("bootstrapSshSources"), hosts: get("hosts"),
    };
}

for (const env of ["staging", "prod"]) {
    test.serial(`${env}: the program previews with placeholder hosts and no deploy key`, async (t) => {
        recorded.length = 0;
        const built = zeroTrustStack(env, settingsFrom(env));
        await new Promise((r) => setTimeout(r, 1500));
        const commands = recorded.filter((r) => r.type === "command:local:Command").map((r) => r.name).sort();
        t.is(commands.filter((c) => !c.endsWith("-p12")).length, 16, commands.join(" "));
        t.deepEqual(commands.filter((c) => c.endsWith("-p12")), ["gateway-alice-p12", "gateway-bob-p12", "gateway-carol-p12"], "a bundle per client");
        t.true(commands.includes("db-firewall") && commands.includes("gateway-wireguard") && commands.includes("dev-box-ssh") && commands.includes("gateway-gateway"));
        t.false(commands.some((c) => c.endsWith("-namespace")), "existing hosts are not created");
        t.deepEqual(Object.keys(built.hosts).sort(), ["app-1", "app-2", "db", "dev-box", "gateway"]);
    });
}

test.serial("an existing-hosts stack without bootstrap sources is refused with the fix", (t) => {
    t.throws(() => zeroTrustStack("broken", { ...settingsFrom("staging"), bootstrapSshSources: undefined }), { message: /bootstrapSshSources is not set/ });
});
