// `pulumi preview` of the staging and prod stacks with the real CLI, as committed: placeholder hosts
// from the documentation ranges and no deploy key. The project is laid out in a temporary
// directory (its Pulumi.yaml, the stack's file, the build and node_modules) so that creating the
// stacks writes nothing into the work tree.
import test from "ava";
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

const ROOT = join(__dirname, "..", "..", "..");

function projectCopy(env: string): { dir: string; pulumi: (args: string[]) => string } {
    const dir = mkdtempSync(join(tmpdir(), `zt-preview-${env}-`));
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    mkdirSync(join(dir, "stacks"));
    copyFileSync(join(ROOT, "stacks", `Pulumi.${env}.yaml`), join(dir, "stacks", `Pulumi.${env}.yaml`));
    symlinkSync(join(ROOT, "build"), join(dir, "build"));
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    mkdirSync(join(dir, "state"));
    const env_ = {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    return { dir, pulumi: (args) => execFileSync("pulumi", args, { cwd: dir, env: env_, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
}

for (const env of ["staging", "prod"]) {
    test(`${env}: pulumi preview plans every host's concerns with placeholder hosts and no deploy key`, (t) => {
        const { dir, pulumi } = projectCopy(env);
        t.teardown(() => rmSync(dir, { recursive: true, force: true }));
        pulumi(["stack", "init", env]);
        const preview = JSON.parse(pulumi(["preview", "--stack", env, "--json"]));
        const creates = (preview.steps as { op: string; urn: string }[]).filter((s) => s.op === "create");
        const commands = creates.filter((s) => /[:$]command:local:Command::/.test(s.urn)).map((s) => s.urn.split("::").pop()!).sort();
        t.is(commands.filter((c) => !c.endsWith("-p12")).length, 16, commands.join(" "));
        t.deepEqual(commands.filter((c) => c.endsWith("-p12")), ["gateway-alice-p12", "gateway-bob-p12", "gateway-carol-p12"], "a bundle per client");
        t.true(["db-firewall", "gateway-wireguard", "dev-box-ssh", "gateway-gateway"].every((c) => commands.includes(c)), commands.join(" "));
        t.false(commands.some((c) => c.endsWith("-namespace") || c.endsWith("-vm")), "existing hosts are not created");
        t.deepEqual(Object.keys(preview.changeSummary), ["create"]);
        // The program proved its rendered files before anything could be applied (README, "The exhaustive proof").
        const said = (preview.diagnostics ?? []).map((d: { message: string }) => d.message).join("\n");
        t.regex(said, /zerotrust proof at preview \(rendered files, real nft in a scratch namespace\): 25 pairs x 131,070 ports and ICMP echo: equal to the policy/, said);
    });
}

test("an existing-hosts stack without bootstrap sources is refused with the fix", (t) => {
    const { dir, pulumi } = projectCopy("staging");
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    pulumi(["stack", "init", "staging"]);
    pulumi(["config", "rm", "--stack", "staging", "zerotrust:bootstrapSshSources"]);
    const e = t.throws(() => pulumi(["preview", "--stack", "staging"]));
    t.regex(String((e as any).stdout) + String((e as any).stderr), /zerotrust:bootstrapSshSources is not set: list the deployer's underlay addresses/);
});
