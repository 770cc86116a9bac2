// The project's command and the stack's locks on the PostgreSQL backend (Debian's server, started
// by the test on port 55433): a stale lock row a killed run left is removed by the command; two
// runs started together go one after the other (the psql-held advisory lock), both succeed.
import test from "ava";
import { ChildProcess, spawn, spawnSync } from "child_process";
import { randomBytes, randomUUID } from "crypto";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { hostname, tmpdir } from "os";
import { join, resolve } from "path";
import { PostgresServer, startPostgres } from "../helpers/postgres";

const ROOT = resolve(__dirname, "..", "..", "..");
const STACK = "locks";
const dir = mkdtempSync(join(tmpdir(), "zt-pglocks-"));
const log = join(dir, "work.log");
let pg: PostgresServer | undefined;
let env: NodeJS.ProcessEnv = {};
const started: ChildProcess[] = [];

const PROGRAM = `const { local } = require("@pulumi/command");
const id = process.env.ZT_TEST_RUN;
const run = \`echo start \${id} >> ${log}; sleep 3; echo end \${id} >> ${log}\`;
new local.Command("work", { create: run, update: run });
`;

function up(id: string): Promise<{ status: number | null; out: string }> {
    const child = spawn("bash", [join(ROOT, "scripts", "pulumi.sh"), "up", "--yes", "--skip-preview", "--stack", STACK],
        { cwd: dir, env: { ...env, ZT_TEST_RUN: id }, stdio: ["ignore", "pipe", "pipe"] });
    started.push(child);
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    return new Promise((res) => child.on("close", (status) => res({ status, out })));
}

test.before(async () => {
    pg = await startPostgres(55433);
    env = {
        ...process.env,
        PULUMI_BACKEND_URL: pg.url,
        PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        ZT_RUNS_DIR: join(dir, "runs"),
    };
    writeFileSync(join(dir, "Pulumi.yaml"), "name: zt-locks\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n");
    writeFileSync(join(dir, "index.js"), PROGRAM);
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    const r = spawnSync("pulumi", ["stack", "init", STACK, "--non-interactive"], { cwd: dir, env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
});

test.after.always(async () => {
    for (const c of started) if (c.exitCode === null && c.pid) spawnSync("kill", ["-TERM", String(c.pid)]);
    if (pg) spawnSync("pulumi", ["destroy", "--yes", "--stack", STACK, "--non-interactive"], { cwd: dir, env, stdio: "ignore" });
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
});

test.serial("a lock row left on this host by a process that is gone is removed by the command, which says so", async (t) => {
    const dead = Number(spawnSync("bash", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
    const blob = JSON.stringify({ pid: dead, username: "root", hostname: hostname(), timestamp: new Date().toISOString() });
    const key = `.pulumi/locks/organization/zt-locks/${STACK}/${randomUUID()}.json`;
    pg!.sql(`\\c zerotrust\nINSERT INTO pulumi_state (key, data) VALUES ('${key}', '${JSON.stringify({ data: Buffer.from(blob).toString("base64") })}');\n`);
    const r = await up("a");
    t.is(r.status, 0, r.out);
    t.regex(r.out, new RegExp(`zerotrust: removed the stale lock of stack locks left by root@\\S+, pid ${dead}, since \\S+ \\(pulumi_state row ${key.replace(/\./g, "\\.")}\\): its process`));
    t.is(pg!.sql(`\\c zerotrust\nSELECT count(*) FROM pulumi_state WHERE key LIKE '.pulumi/locks/%';\n`).trim(), "0");
});

test.serial("two runs started together both succeed, one after the other; the second says whom it waits for", async (t) => {
    rmSync(log, { force: true });
    const [a, b] = await Promise.all([up("one"), up("two")]);
    t.is(a.status, 0, a.out);
    t.is(b.status, 0, b.out);
    const waited = [a, b].filter((r) => /zerotrust: stack locks is in use by the run of \S+@\S+, pid \d+, since \S+; waiting for it \(up to 900 s\)/.test(r.out));
    t.is(waited.length, 1, `${a.out}\n${b.out}`);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    t.log(lines.join("\n"));
    const first = lines[0].split(" ")[1];
    const second = first === "one" ? "two" : "one";
    t.deepEqual(lines, [`start ${first}`, `end ${first}`, `start ${second}`, `end ${second}`]);
});
