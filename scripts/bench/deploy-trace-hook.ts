// Preloaded (NODE_OPTIONS=--require) into every process the engine starts during `npm run
// bench:deploy`; it acts only in the apply driver (components/remote/driver.js) and changes nothing
// it does. It records when the driver's process began, when its own code started to load, each
// route check (`ip route get`) and each ssh it spawned: when spawned, when connected and
// authenticated (ssh's LocalCommand, which OpenSSH runs after authentication and before it opens
// the session, writes the time to a file of its own), and when it closed, with its host and the
// concern and action its program names. One JSON line per driver, appended at exit to
// $ZT_BENCH_TRACE. No payload, key or program text is kept: only those two variable values.
// The module object itself (not an import wrapper), so that its functions can be replaced.
import childProcess = require("child_process");
import { appendFileSync, readFileSync, rmSync } from "fs";
import { join } from "path";
import { performance } from "perf_hooks";
import type { DriverTrace, SshTrace } from "./deploy-trace";
import { processCpu } from "./proc-cpu";

/** Milliseconds since the epoch, sub-millisecond. */
const now = () => performance.timeOrigin + performance.now();

/** The concern and action a host program names (its ZT_CONCERN and ZT_ACTION assignments; pure). */
export function programLabel(program: string): { concern?: string; action?: string } {
    return {
        concern: /^ZT_CONCERN='([a-z]+)'$/m.exec(program)?.[1],
        action: /^ZT_ACTION='([a-z]+)'$/m.exec(program)?.[1],
    };
}

/** ssh's arguments with the connection mark in front (pure): `%%` is a literal `%` in LocalCommand. */
export function markedSshArguments(args: readonly string[], markFile: string): string[] {
    if (!/^[A-Za-z0-9/._-]+$/.test(markFile)) throw new Error(`unsafe mark file ${markFile}`);
    return ["-o", "PermitLocalCommand=yes", "-o", `LocalCommand=date +%%s.%%N >${markFile}`, ...args];
}

/** The time a mark file holds (seconds since the epoch with nanoseconds), in ms; undefined if none. */
export function readMark(file: string): number | undefined {
    try {
        const seconds = Number(readFileSync(file, "utf8").trim());
        return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
    } catch {
        return undefined;
    }
}

function install(traceFile: string, marksDir: string): void {
    const loaded = now();
    const record: DriverTrace = { pid: process.pid, action: process.argv[2] ?? "?", start: performance.timeOrigin, loaded, routeChecks: [], ssh: [], exit: 0 };
    const cp = childProcess;
    const realSpawn = cp.spawn;
    const realSpawnSync = cp.spawnSync;
    let count = 0;
    cp.spawn = function (this: unknown, command: string, args?: readonly string[], options?: childProcess.SpawnOptions) {
        if (command !== "ssh" || !Array.isArray(args)) return (realSpawn as Function).apply(this, arguments);
        const mark = join(marksDir, `${process.pid}-${count++}`);
        const ssh: SshTrace = { host: args[args.length - 2], spawned: now(), closed: 0, code: -1 };
        record.ssh.push(ssh);
        const child = realSpawn.call(this, command, markedSshArguments(args, mark), options ?? {}) as childProcess.ChildProcess;
        const end = child.stdin!.end.bind(child.stdin!) as (...a: unknown[]) => unknown;
        (child.stdin as unknown as { end: (...a: unknown[]) => unknown }).end = (...a: unknown[]) => {
            if (typeof a[0] === "string") Object.assign(ssh, programLabel(a[0]));
            return end(...a);
        };
        child.on("close", (code) => {
            ssh.closed = now();
            ssh.code = code ?? 255;
            ssh.connected = readMark(mark);
            rmSync(mark, { force: true });
        });
        return child;
    } as typeof childProcess.spawn;
    cp.spawnSync = function (this: unknown, command: string, args?: readonly string[]) {
        if (command !== "ip") return (realSpawnSync as Function).apply(this, arguments);
        const began = now();
        const r = (realSpawnSync as Function).apply(this, arguments);
        record.routeChecks.push({ address: args?.[args.length - 1] ?? "?", began, ended: now() });
        return r;
    } as typeof childProcess.spawnSync;
    process.on("exit", (code) => {
        record.exit = now();
        record.code = code;
        const usage = process.cpuUsage();
        // Its own CPU, and that of the ssh and ip processes it waited for.
        record.cpu = { own: (usage.user + usage.system) / 1000, children: processCpu("self")?.children ?? 0 };
        appendFileSync(traceFile, `${JSON.stringify(record)}\n`);
    });
}

const traceFile = process.env.ZT_BENCH_TRACE;
const marksDir = process.env.ZT_BENCH_MARKS;
if (traceFile && marksDir && /[/\\]remote[/\\]driver\.js$/.test(process.argv[1] ?? "")) install(traceFile, marksDir);
