// On existing hosts a node must be retired before it is removed; a preview that removes a node
// configured at the last deployment, without retiring it first, fails naming it and the fix. The
// last deployment is recorded by the real engine: a local command under the URN a ZeroTrustNode
// gives its WireGuard concern (the staging hosts are placeholders, so nothing is deployed to them).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { readFileSync } from "fs";
import { load } from "js-yaml";
import { join } from "path";
import { ExistingHostSettings } from "../../stacks/placements/existing";
import { StackSettings, preflight, zeroTrustStack } from "../../stacks/program";
import { EngineStack } from "../helpers/engine";
import { collectRejections } from "../helpers/rejections";

const ROOT = join(__dirname, "..", "..", "..");

/** The staging stack's committed settings, as index.ts would read them. */
function stagingSettings(): StackSettings {
    const c = (load(readFileSync(join(ROOT, "stacks", "Pulumi.staging.yaml"), "utf8")) as { config: Record<string, any> }).config;
    return {
        hostKind: c["zerotrust:hostKind"], meshCidr: c["zerotrust:meshCidr"], sshOverMeshOnly: c["zerotrust:sshOverMeshOnly"],
        rollbackSeconds: c["zerotrust:rollbackSeconds"], extraAppServers: 0,
        bootstrapSshSources: c["zerotrust:bootstrapSshSources"], hosts: c["zerotrust:hosts"] as Record<string, ExistingHostSettings>,
    };
}

class RecordedNode extends pulumi.ComponentResource {
    constructor(name: string) {
        super("zerotrust:index:ZeroTrustNode", name, {});
        new command.local.Command(`${name}-wireguard`, { create: "true" }, { parent: this });
    }
}

test("a preview that removes a configured node from existing hosts without retiring it fails, naming it and the fix", async (t) => {
    const engine = await EngineStack.create("zt-removal", "staging", async () => { new RecordedNode("app-3"); });
    t.teardown(() => engine.dispose());
    t.is((await engine.up()).error, undefined);

    // As stacks/index.ts runs it: the preflight, then the program.
    const asIndexRunsIt = (s: StackSettings) => async () => { await preflight(s); zeroTrustStack("staging", s); };
    const refusals = collectRejections(t, /were removed without being retired first/);
    engine.withProgram(asIndexRunsIt(stagingSettings()));
    const e = await t.throwsAsync(engine.preview());
    t.regex(String(e?.message), /nodes.*app-3.*were removed without being retired first/);
    t.regex(String(e?.message), /list them in retiredNodes: \["app-3"\]/);
    t.true(refusals().length > 0, "the program itself refused (its rejection is the engine's error above)");

    // Kept and retired, it passes: app-3 is a node again (extraAppServers 1) and listed as retired.
    const hosts = { ...stagingSettings().hosts, "app-3": { address: "203.0.113.15", hostKey: stagingSettings().hosts!.db.hostKey } };
    engine.withProgram(asIndexRunsIt({ ...stagingSettings(), hosts, extraAppServers: 1, retiredNodes: ["app-3"] }));
    const planned = await engine.preview();
    t.true(planned.includes("delete app-3-wireguard"), planned.join(" "));
});
