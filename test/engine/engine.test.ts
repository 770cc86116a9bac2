// The real Pulumi engine (the CLI and language host built by scripts/setup-pulumi.sh) on the file
// backend, through the Automation API: preview, up, a second preview with no changes, destroy.
import test from "ava";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

const FIXTURE = join(__dirname, "..", "..", "..", "test", "engine", "fixture");
const WANTED_PLUGINS = ["command", "tls", "random"];

function installedPlugins(): Map<string, string> {
    const list = JSON.parse(execFileSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8" })) as { name: string; kind: string; version: string }[];
    return new Map(list.filter((p) => p.kind === "resource").map((p) => [p.name, p.version]));
}

test("the engine deploys, shows no changes on a second preview, and destroys", async (t) => {
    const version = execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim();
    const plugins = installedPlugins();
    const used = WANTED_PLUGINS.filter((p) => plugins.has(p));
    const missing = WANTED_PLUGINS.filter((p) => !plugins.has(p));
    t.log(`pulumi ${version}; resource plugins exercised: ${used.map((p) => `${p} ${plugins.get(p)}`).join(", ") || "none"}` +
        (missing.length ? `; NOT available here: ${missing.join(", ")} (see scripts/pulumi-toolchain/README.md)` : ""));

    const backend = mkdtempSync(join(tmpdir(), "zt-engine-"));
    const envVars = {
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: "engine-test-passphrase",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        ZEROTRUST_ENGINE_PLUGINS: used.join(","),
    };
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: "engine-check", workDir: FIXTURE }, { envVars });
    t.teardown(async () => {
        await stack.workspace.removeStack("engine-check", { force: true }).catch(() => undefined);
        rmSync(backend, { recursive: true, force: true });
    });

    const first = await stack.preview();
    t.true((first.changeSummary.create ?? 0) >= 2, JSON.stringify(first.changeSummary));

    const up = await stack.up();
    t.is(up.summary.result, "succeeded");
    t.is(up.outputs.greeting.value, "hello from the engine");
    t.true(up.outputs.secretValue.secret);
    if (used.includes("tls")) t.regex(up.outputs.certPem.value, /BEGIN CERTIFICATE/);
    if (used.includes("random")) t.regex(up.outputs.randomHex.value, /^[0-9a-f]{32}$/);
    if (used.includes("command")) t.is(up.outputs.commandOut.value, "engine-ok");
    // The secret is encrypted in the state file, never stored in the clear.
    const stateFiles = readdirSync(backend, { recursive: true }).map(String).filter((f) => f.endsWith(".json"));
    t.true(stateFiles.length > 0);
    for (const f of stateFiles) t.false(readFileSync(join(backend, f), "utf8").includes("s3cret-value"), f);

    const second = await stack.preview();
    t.deepEqual(Object.keys(second.changeSummary), ["same"], JSON.stringify(second.changeSummary));

    const destroyed = await stack.destroy();
    t.is(destroyed.summary.result, "succeeded");
    t.is((await stack.exportStack()).deployment.resources?.length ?? 0, 0);
});
