// The real Pulumi engine (the CLI and language host built by scripts/setup-pulumi.sh) on the file
// backend, through the Automation API: the plugins' versions, preview, up, a second preview with no
// changes, destroy.
import test from "ava";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

const FIXTURE = join(__dirname, "..", "..", "..", "test", "engine", "fixture");
const ROOT = join(__dirname, "..", "..", "..");

function installedPlugins(): Map<string, string> {
    const list = JSON.parse(execFileSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8" })) as { name: string; kind: string; version: string }[];
    return new Map(list.filter((p) => p.kind === "resource").map((p) => [p.name, p.version]));
}

test("each resource plugin is installed at exactly the version its SDK asks for", (t) => {
    const plugins = installedPlugins();
    for (const name of ["command", "tls", "random"]) {
        const sdk = JSON.parse(readFileSync(join(ROOT, "node_modules", "@pulumi", name, "package.json"), "utf8")).version;
        t.is(plugins.get(name), sdk, `plugin ${name}`);
    }
    t.is(execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim(), `v${JSON.parse(readFileSync(join(ROOT, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).version}`);
});

test("the engine deploys with every plugin and no warning, shows no changes on a second preview, and destroys", async (t) => {
    const backend = mkdtempSync(join(tmpdir(), "zt-engine-"));
    const envVars = {
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: "engine-test-passphrase",
        PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: "engine-check", workDir: FIXTURE }, { envVars });
    t.teardown(async () => {
        await stack.workspace.removeStack("engine-check", { force: true }).catch(() => undefined);
        rmSync(backend, { recursive: true, force: true });
    });

    const first = await stack.preview();
    t.is(first.changeSummary.create, 6, JSON.stringify(first.changeSummary));

    const up = await stack.up({ color: "never" });
    t.is(up.summary.result, "succeeded");
    // A plugin whose reported version differs from its label makes the engine warn on every run.
    t.notRegex(up.stdout + up.stderr, /warning/i);
    t.is(up.outputs.greeting.value, "hello from the engine");
    t.true(up.outputs.secretValue.secret);
    t.regex(up.outputs.certPem.value, /BEGIN CERTIFICATE/);
    t.regex(up.outputs.randomHex.value, /^[0-9a-f]{32}$/);
    t.is(up.outputs.commandOut.value, "engine-ok");
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
