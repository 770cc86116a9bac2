// scripts/supervise.sh with real processes: what a command leaves behind in its session is ended
// when the command ends (SIGKILLed too), a daemon in a session of its own (its stdio detached, as
// a daemon has it) is left alone, and the
// processes of an earlier run whose supervisor was killed are ended by the next run.
import test from "ava";
import { spawn, spawnSync } from "child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { stillRunning } from "../helpers/processes";

const SUPERVISE = join(__dirname, "..", "..", "..", "scripts", "supervise.sh");

function runsDir(t: { teardown(f: () => void): void }): string {
    const dir = mkdtempSync(join(tmpdir(), "zt-supervise-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
}

/** Pids a command wrote, one a line, to a file. */
const pidsIn = (file: string) => readFileSync(file, "utf8").trim().split("\n").map(Number);

test("a command killed with SIGKILL: what it left in its session is ended, its setsid daemon is not", async (t) => {
    const runs = runsDir(t);
    const pids = join(runs, "pids");
    const r = spawnSync("bash", [SUPERVISE, "bash", "-c", `sleep 300 & echo $! >${pids}; setsid sleep 301 </dev/null >/dev/null 2>&1 & echo $! >>${pids}; sleep 0.2; kill -9 $$`],
        { env: { ...process.env, ZT_RUNS_DIR: runs }, encoding: "utf8" });
    const [orphan, daemon] = pidsIn(pids);
    t.teardown(() => { try { process.kill(daemon); } catch { /* gone */ } });
    t.is(r.status, 137, "the supervisor exits as its command did");
    t.regex(r.stderr, new RegExp(`ending pid ${orphan} \\(sleep 300`));
    t.false(await stillRunning(orphan), "the orphan in the run's session is gone");
    t.true(await stillRunning(daemon), "the daemon in its own session stays");
    t.deepEqual(readdirSync(runs).filter((f) => f !== "pids"), [], "the run's record is removed");
});

test("a supervisor killed with its command still running: the next run ends that run's processes, and only them", async (t) => {
    const runs = runsDir(t);
    const pids = join(runs, "pids");
    const env = { ...process.env, ZT_RUNS_DIR: runs };
    // A process of this test's session that is no run's: the sweep must leave it.
    const bystander = spawn("sleep", ["300"]);
    t.teardown(() => bystander.kill());
    const first = spawn("bash", [SUPERVISE, "bash", "-c", `sleep 302 & echo $! >${pids}; wait`], { env, stdio: "ignore" });
    for (let i = 0; i < 100 && spawnSync("test", ["-s", pids]).status !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    const [left] = pidsIn(pids);
    process.kill(first.pid!, "SIGKILL");
    await new Promise((r) => first.once("exit", r));
    t.true(await stillRunning(left), "the killed supervisor could not end it");
    const next = spawnSync("bash", [SUPERVISE, "true"], { env, encoding: "utf8" });
    t.is(next.status, 0);
    t.regex(next.stderr, new RegExp(`ending pid ${left} \\(sleep 302 \\), left by an earlier run`));
    t.false(await stillRunning(left));
    t.true(await stillRunning(bystander.pid!), "a process carrying no run's marker is left alone");
    t.deepEqual(readdirSync(runs).filter((f) => f !== "pids"), []);
});
