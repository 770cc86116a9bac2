// Run by scripts/pulumi.sh before a command that locks the stack (and before the pending-operations
// step, whose `pulumi stack import` a lock blocks): removes the stack's locks that are provably stale
// (components/verify/locks.ts), saying which and why; for a lock that may be live, says who holds it
// and what to run, and exits 75. Works on the file backend and on the PostgreSQL backend (psql).
// Usage: node stack-locks.js [pulumi arguments: --stack/-s NAME, --cwd/-C DIR are read].
import { spawnSync } from "child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "fs";
import { hostname } from "os";
import { join } from "path";
import { fileURLToPath } from "url";
import { heldMessage, holderOf, judgeLock, LockRecord, parseLock, ProcessSeen, stackLockDir } from "../components/verify/locks";
import { pgConnection } from "../components/verify/pg-url";
import { stackArgs } from "./stack-args";

const say = (line: string) => process.stdout.write(`zerotrust: ${line}\n`);

/** Whether a pid runs here, and since when (/proc/PID/stat field 22, clock ticks after boot). */
function processSeen(pid: number): ProcessSeen {
    let stat: string;
    try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
        return { alive: false };
    }
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (f[0] === "Z" || f[0] === "X") return { alive: false }; // ended, not yet reaped
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))![1]);
    const ticks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
    return { alive: true, startedAtMs: (btime + Number(f[19]) / ticks) * 1000 };
}

interface LockStore {
    list(dir: string): LockRecord[];
    remove(lock: LockRecord): void;
}

function fileStore(root: string): LockStore {
    return {
        list: (dir) => {
            const d = join(root, dir);
            if (!existsSync(d)) return [];
            return readdirSync(d).filter((n) => n.endsWith(".json")).map((n) => parseLock(join(d, n), readFileSync(join(d, n), "utf8")));
        },
        remove: (lock) => rmSync(lock.where, { force: true }),
    };
}

function postgresStore(url: string): LockStore {
    const { env, table } = pgConnection(url);
    const psql = (sql: string, vars: Record<string, string>) => {
        const args = ["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", ...Object.entries(vars).flatMap(([k, v]) => ["-v", `${k}=${v}`])];
        const r = spawnSync("psql", args, { input: sql, encoding: "utf8", env: { ...process.env, ...env } });
        if (r.status !== 0) throw new Error(`psql (the PostgreSQL backend's lock rows, table ${table}) failed: ${(r.stderr || r.stdout).trim()}`);
        return r.stdout;
    };
    return {
        // Each blob's row holds {"data": base64 of the blob} (pkg/backend/diy/postgres/bucket.go).
        list: (dir) => psql(`SELECT key, convert_from(decode(data->>'data', 'base64'), 'UTF8') FROM ${table} WHERE key LIKE :'prefix' || '%'\n`, { prefix: `${dir}/` })
            .split("\n").filter(Boolean).map((line) => {
                const [key, blob] = line.split("\t");
                return parseLock(`${table} row ${key}`, blob);
            }),
        remove: (lock) => {
            psql(`DELETE FROM ${table} WHERE key = :'key'\n`, { key: lock.where.replace(`${table} row `, "") });
        },
    };
}

function projectName(cwd: string): string {
    const m = /^name:\s*["']?([^"'\s]+)/m.exec(readFileSync(join(cwd, "Pulumi.yaml"), "utf8"));
    if (!m) throw new Error(`${join(cwd, "Pulumi.yaml")} has no name`);
    return m[1];
}

function currentStack(cwd: string): string {
    const r = spawnSync("pulumi", ["stack", "--show-name", "--non-interactive"], { cwd, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`no stack selected (pulumi stack --show-name: ${r.stderr.trim()})`);
    return r.stdout.trim();
}

function main(): number {
    const backend = process.env.PULUMI_BACKEND_URL ?? "";
    let store: LockStore;
    if (backend.startsWith("file://")) store = fileStore(fileURLToPath(backend));
    else if (/^postgres(ql)?:\/\//.test(backend)) store = postgresStore(backend);
    else return 0; // another backend keeps its locks its own way (Pulumi Cloud: none of this kind)
    const args = stackArgs(process.argv.slice(2));
    const cwd = args.cwd ?? process.cwd();
    const stackName = args.stack[1] ?? currentStack(cwd);
    const stack = stackName.split("/").pop()!;
    let held = 0;
    for (const lock of store.list(stackLockDir(projectName(cwd), stack))) {
        const verdict = judgeLock(lock, hostname(), processSeen(lock.pid));
        if (verdict.kind === "stale") {
            store.remove(lock);
            say(`removed the stale lock of stack ${stack} left by ${holderOf(lock)} (${lock.where}): ${verdict.why}`);
        } else {
            process.stderr.write(`zerotrust: ${heldMessage(lock, verdict.why, stack)}\n`);
            held++;
        }
    }
    return held > 0 ? 75 : 0;
}

try {
    process.exitCode = main();
} catch (e) {
    process.stderr.write(`zerotrust: ${(e as Error).message}\n`);
    process.exitCode = 1;
}
