// shellcheck over every shell script of the project, checked the way it runs: the host scripts as
// the one program per concern that composeHostProgram makes of them (so shellcheck sees the
// header's variables and the functions each part defines for the others), every other script on
// its own, following what it sources. Any finding of any severity fails, with shellcheck's words.
import test from "ava";
import { spawnSync } from "child_process";
import { closeSync, openSync, readFileSync, readSync, readdirSync } from "fs";
import { join, relative } from "path";
import { Concern, composeHostProgram } from "../../components/remote/script";

const ROOT = join(__dirname, "..", "..", "..");
const HOST_DIR = join(ROOT, "components", "remote", "host");
// Not concerns: parts composed into the concerns' programs (the protocol library, and the update
// the wireguard concern shares with the lab operator).
const HOST_PARTS = ["lib.sh", "wg-update.sh"];
// Settings the deployer gives a concern besides ZT_RELEASE (zero-trust-node.ts), so that the
// program shellcheck reads assigns what the concern reads.
const CONCERN_VARS: Record<string, Record<string, string | number>> = { wireguard: { ZT_IFACE: "wg0", ZT_SWITCH_SECONDS: 60 } };
// Installed, generated or local state (.gitignore), not the project's own scripts.
const SKIP = new Set(["node_modules", "build", ".git", ".pulumi", "tmp", "audit"]);

function firstLine(path: string): string {
    const buf = Buffer.alloc(128);
    const fd = openSync(path, "r");
    try { return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString("latin1").split("\n")[0]; } finally { closeSync(fd); }
}

/** Every shell script under the project root, relative to it: *.sh, or a file with a sh or bash #! line. */
function shellScripts(dir = ROOT): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const path = join(dir, e.name);
        if (e.isDirectory()) return SKIP.has(e.name) ? [] : shellScripts(path);
        if (!e.isFile()) return [];
        return e.name.endsWith(".sh") || /^#!\s*\S*\/(env\s+)?(ba)?sh\b/.test(firstLine(path)) ? [relative(ROOT, path)] : [];
    }).sort();
}

/** shellcheck's findings (gcc format: "file:line:col: level: message [SCxxxx]"), empty when there are none. */
function shellcheck(args: string[], input?: string): string {
    // --norc: the result must not depend on a ~/.shellcheckrc of the machine.
    const r = spawnSync("shellcheck", ["--norc", "--external-sources", "--format=gcc", ...args], { cwd: ROOT, input, encoding: "utf8" });
    if (r.error) throw new Error(`shellcheck could not run (${r.error.message}): bash scripts/setup.sh installs it`);
    if (r.status !== 0 && !r.stdout) throw new Error(`shellcheck failed: ${r.stderr}`);
    return r.stdout.trim();
}

const scripts = shellScripts();
const hostScripts = scripts.filter((f) => join(ROOT, f).startsWith(HOST_DIR + "/"));
const concerns = hostScripts.map((f) => f.slice(f.lastIndexOf("/") + 1)).filter((n) => !HOST_PARTS.includes(n)).map((n) => n.replace(/\.sh$/, ""));

function hostProgram(concern: string): string {
    return composeHostProgram({
        concern: concern as Concern, action: "apply", token: "0123456789abcdef", rollbackSeconds: 60,
        vars: { ZT_RELEASE: "debian-12", ...CONCERN_VARS[concern] }, files: { "payload.conf": "setting = value\n" },
    });
}

/** A finding's "-:line:" in a composed program as the host script's own file and line, with that line. */
function locate(program: string, findings: string): string {
    const lines = program.split("\n");
    const parts = hostScripts.map((f) => {
        const text = readFileSync(join(ROOT, f), "utf8");
        const start = program.indexOf(text);
        const first = start < 0 ? -1 : program.slice(0, start).split("\n").length;
        return { f, first, last: first + text.split("\n").length - 1 };
    }).filter((p) => p.first > 0);
    return findings.split("\n").map((l) => {
        const m = /^-:(\d+):(.*)$/.exec(l);
        if (!m) return l;
        const n = Number(m[1]);
        const part = parts.find((p) => p.first <= n && n <= p.last);
        const where = part ? `${part.f}:${n - part.first + 1}` : `(the program's own line ${n})`;
        return `${where}:${m[2]}\n    ${lines[n - 1]?.trim()}`;
    }).join("\n");
}

test("the project's shell scripts are all found", (t) => {
    // Canaries for the search itself: a .sh script, two without .sh (the VM seed, CI's entry point), a host script.
    for (const f of ["scripts/setup.sh", "scripts/kvm/image/zerotrust-seed", ".ci/run", "components/remote/host/lib.sh"]) t.true(scripts.includes(f), f);
    t.true(concerns.length >= 4, `concerns: ${concerns.join(", ")}`);
});

for (const concern of concerns) {
    test(`shellcheck finds nothing in the ${concern} host program`, (t) => {
        const program = hostProgram(concern);
        const findings = shellcheck(["--shell=bash", "-"], program);
        if (findings) t.fail(`shellcheck on the ${concern} program:\n${locate(program, findings)}`); else t.pass();
    });
}

test("every host script is part of a concern's program", (t) => {
    const programs = concerns.map(hostProgram);
    for (const f of hostScripts) t.true(programs.some((p) => p.includes(readFileSync(join(ROOT, f), "utf8"))), `${f} is in no host program, so shellcheck never reads it`);
});

test("shellcheck finds nothing in the other shell scripts", (t) => {
    const others = scripts.filter((f) => !hostScripts.includes(f));
    t.log(`${others.length} scripts: ${others.join(" ")}`);
    const findings = shellcheck(others);
    if (findings) t.fail(`shellcheck:\n${findings}`); else t.pass();
});
