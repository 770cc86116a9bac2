// The project's command (scripts/pulumi.sh) and the stack's locks, with the real engine on a file
// backend: a lock a killed run left on this host is removed by the command itself, one that may be
// live is reported with its holder and the fix; two runs started together go one after the other;
// a run that waits longer than ZEROTRUST_LOCK_WAIT gives up with exit 75, naming the holder.
import test from "ava";
import { ChildProcess, spawn, spawnSync } from "child_process";
import { randomBytes, randomUUID } from "crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { hostname, tmpdir } from "os";
import { join, resolve } from "path";

const ROOT = resolve(__dirname, "..", "..", "..");
const STACK = "locks";
const dir = mkdtempSync(join(tmpdir(), "zt-locks-"));
const log = join(dir, "work.log");
const env = {
    ...process.env,
    PULUMI_BACKEND_URL: `file://${join(dir, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    ZT_RUNS_DIR: join(dir, "runs"),
};
const lockDir = join(dir, "state", ".pulumi", "locks", "organization", "zt-locks", STACK);
const started: ChildProcess[] = [];

// One command whose every run logs its start and its end, a few seconds apart: two updates that
// overlapped would interleave their lines.
const PROGRAM = `const { local } = require("@pulumi/command");
const id = process.env.ZT_TEST_RUN;
const run = \`echo start \${id} >> ${log}; sleep 3; echo end \${id} >> ${log}\`;
new local.Command("work", { create: run, update: run });
`;

/** scripts/pulumi.sh up on the test's stack; resolves with its status and output. */
function up(id: string, extra: Record<string, string> = {}): Promise<{ status: number | null; out: string }> {
    const child = spawn("bash", [join(ROOT, "scripts", "pulumi.sh"), "up", "--yes", "--skip-preview", "--stack", STACK],
        { cwd: dir, env: { ...env, ZT_TEST_RUN: id, ...extra }, stdio: ["ignore", "pipe", "pipe"] });
    started.push(child);
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    return new Promise((res) => child.on("close", (status) => res({ status, out })));
}

function writeLock(content: Record<string, unknown>): string {
    mkdirSync(lockDir, { recursive: true });
    const file = join(lockDir, `${randomUUID()}.json`);
    writeFileSync(file, JSON.stringify(content));
    return file;
}

/** A pid that no process has now: one of a process that has ended. */
function deadPid(): number {
    const r = spawnSync("bash", ["-c", "echo $$"], { encoding: "utf8" });
    return Number(r.stdout.trim());
}

test.before(() => {
    writeFileSync(join(dir, "Pulumi.yaml"), "name: zt-locks\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n");
    writeFileSync(join(dir, "index.js"), PROGRAM);
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    mkdirSync(join(dir, "state"));
    spawnSync("pulumi", ["stack", "init", STACK, "--non-interactive"], { cwd: dir, env, stdio: "inherit" });
});

test.after.always(() => {
    for (const c of started) if (c.exitCode === null && c.pid) spawnSync("kill", ["-TERM", String(c.pid)]);
    spawnSync("pulumi", ["destroy", "--yes", "--stack", STACK, "--non-interactive"], { cwd: dir, env, stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
});

test.serial("a lock left on this host by a process that is gone is removed by the command, which says so", async (t) => {
    const file = writeLock({ pid: deadPid(), username: "root", hostname: hostname(), timestamp: new Date().toISOString() });
    const r = await up("a");
    t.is(r.status, 0, r.out);
    t.regex(r.out, /zerotrust: removed the stale lock of stack locks left by root@\S+, pid \d+, since .*: its process \(pid \d+\) no longer exists on this host/);
    t.false(existsSync(file));
});

test.serial("a lock whose pid now belongs to a later process is stale too (the pid was reused)", async (t) => {
    const file = writeLock({ pid: process.pid, username: "root", hostname: hostname(), timestamp: "2020-01-01T00:00:00Z" });
    const r = await up("b");
    t.is(r.status, 0, r.out);
    t.regex(r.out, new RegExp(`removed the stale lock .*: pid ${process.pid} is now a different process`));
    t.false(existsSync(file));
});

test.serial("a lock that may be live (another host's) is kept and reported: who holds it, what to run", async (t) => {
    const file = writeLock({ pid: 1234, username: "alice", hostname: "ci-runner-7", timestamp: "2026-12-02T10:00:00Z" });
    const r = await up("c");
    t.is(r.status, 75, r.out);
    t.regex(r.out, /the stack locks is locked by alice@ci-runner-7, pid 1234, since 2026-12-02T10:00:00Z .*another host \(ci-runner-7\)/);
    t.regex(r.out, /pulumi cancel --yes --stack locks/);
    t.true(existsSync(file));
    rmSync(file);
});

test.serial("two runs started together both succeed, one after the other; the second says whom it waits for", async (t) => {
    rmSync(log, { force: true });
    const [a, b] = await Promise.all([up("one"), up("two")]);
    t.is(a.status, 0, a.out);
    t.is(b.status, 0, b.out);
    const waited = [a, b].filter((r) => /zerotrust: stack locks is in use by the run of \S+@\S+, pid \d+, since \S+; waiting for it \(up to 900 s\)/.test(r.out));
    t.is(waited.length, 1, `${a.out}\n${b.out}`);
    t.notRegex(a.out + b.out, /currently locked/);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    t.log(lines.join("\n"));
    t.is(lines.length, 4);
    const first = lines[0].split(" ")[1];
    const second = first === "one" ? "two" : "one";
    t.deepEqual(lines, [`start ${first}`, `end ${first}`, `start ${second}`, `end ${second}`]);
});

test.serial("a run that waits longer than ZEROTRUST_LOCK_WAIT gives up with exit 75, naming the holder", async (t) => {
    const holder = join(dir, "state", ".pulumi", "zerotrust-runs", "zt-locks", `${STACK}.holder`);
    rmSync(holder, { force: true });
    const long = up("long");
    // The holder's record is written once it has the run lock: then the second run starts.
    while (!existsSync(holder)) await new Promise((r) => setTimeout(r, 100));
    const short = await up("short", { ZEROTRUST_LOCK_WAIT: "1" });
    t.is(short.status, 75, short.out);
    t.regex(short.out, /zerotrust: gave up after 1 s waiting for the run of \S+@\S+, pid \d+, since \S+ on stack locks; run the command again once it has ended/);
    t.is((await long).status, 0);
});
