// Programs in other languages (issue 18) run on the toolchain scripts/setup-pulumi.sh builds: the
// python and yaml language hosts beside pulumi, and the venv with the Python SDK. Each program makes
// a random resource with the plugin the set-up built; `pulumi up` must succeed with no warning (a
// host found away from pulumi, or a plugin at another version, makes the engine warn).
import test, { ExecutionContext } from "ava";
import { execFileSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { homedir, tmpdir } from "os";
import { join } from "path";

const CACHE = process.env.ZEROTRUST_PULUMI_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "zerotrust", "pulumi");
const VENV = join(CACHE, "python");

function pulumi(dir: string, backend: string, args: string[]): string {
    return execFileSync("pulumi", [...args, "--non-interactive", "--color", "never"], {
        cwd: dir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "languages-test", PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
}

// Runs preview and up of the program in a fresh directory and backend, returns its outputs.
function deploy(t: ExecutionContext, files: Record<string, string>): Record<string, unknown> {
    const dir = mkdtempSync(join(tmpdir(), "zt-lang-prog-"));
    const backend = mkdtempSync(join(tmpdir(), "zt-lang-state-"));
    t.teardown(() => {
        try { pulumi(dir, backend, ["destroy", "--yes", "--skip-preview", "--stack", "dev"]); } catch { /* nothing was made */ }
        rmSync(dir, { recursive: true, force: true });
        rmSync(backend, { recursive: true, force: true });
    });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    pulumi(dir, backend, ["stack", "init", "dev"]);
    const preview = pulumi(dir, backend, ["preview", "--stack", "dev"]);
    t.notRegex(preview, /warning/i, preview);
    const up = pulumi(dir, backend, ["up", "--yes", "--skip-preview", "--stack", "dev"]);
    t.notRegex(up, /warning/i, up);
    return JSON.parse(pulumi(dir, backend, ["stack", "output", "--json", "--show-secrets", "--stack", "dev"]));
}

test("a Python program deploys a random resource with the python host and the venv's SDK", (t) => {
    const outputs = deploy(t, {
        "Pulumi.yaml": `name: zt-python-check\nruntime:\n  name: python\n  options:\n    virtualenv: ${VENV}\n`,
        // No pulumi_random package: the resource is named by its type token, as the schema names it.
        "__main__.py": [
            "import pulumi",
            "rid = pulumi.CustomResource('random:index/randomId:RandomId', 'rid', {'byteLength': 8, 'hex': None})",
            "pulumi.export('hex', rid.hex)",
            "pulumi.export('greeting', 'hello from python')",
            "",
        ].join("\n"),
    });
    t.is(outputs.greeting, "hello from python");
    t.regex(String(outputs.hex), /^[0-9a-f]{16}$/);
});

test("a YAML program deploys a random password with the yaml host", (t) => {
    const outputs = deploy(t, {
        "Pulumi.yaml": [
            "name: zt-yaml-check",
            "runtime: yaml",
            "resources:",
            "  pw:",
            "    type: random:RandomPassword",
            "    properties:",
            "      length: 24",
            "      special: false",
            "outputs:",
            "  password: ${pw.result}",
            "  greeting: hello from yaml",
            "",
        ].join("\n"),
    });
    t.is(outputs.greeting, "hello from yaml");
    t.regex(String(outputs.password), /^[A-Za-z0-9]{24}$/);
});
