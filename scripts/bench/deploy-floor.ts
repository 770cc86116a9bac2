// The SSH floor of an update: the same number of bare SSH round trips to the same hosts as the
// update's drivers made, with the driver's own ssh command line (components/remote/ssh.ts) and an
// empty program, each host's in sequence (as its concerns run) and as many hosts at once as the
// engine runs steps at once. Marked as the drivers' are (deploy-trace-hook.ts), so its set-up and
// session split the same way.
import { spawn } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { performance } from "perf_hooks";
import { assertRoutedVia } from "../../components/remote/route-guard";
import { SshTarget, knownHostsLine, sshArguments } from "../../components/remote/ssh";
import { markedSshArguments, readMark } from "./deploy-trace-hook";
import { SshTrace } from "./deploy-trace";

export interface FloorTarget extends SshTarget {
    node: string;
    /** Round trips to make. */
    count: number;
}

export interface Floor {
    /** First round trip's start to last one's end (ms). */
    wall: number;
    /** Each node's round trips in sequence (ms). */
    perHost: Map<string, number>;
    ssh: SshTrace[];
    failed: string[];
    /** CPU (ms) of its ssh clients and of the hosts' sshd. */
    cpu?: { clients: number; hosts: number };
}

const now = () => performance.timeOrigin + performance.now();

function roundTrip(args: string[], mark: string): Promise<SshTrace> {
    const trace: SshTrace = { host: args[args.length - 2], spawned: now(), closed: 0, code: -1 };
    return new Promise((resolve) => {
        const child = spawn("ssh", markedSshArguments(args, mark), { stdio: ["pipe", "ignore", "pipe"] });
        child.stderr.resume();
        child.stdin.on("error", () => undefined);
        child.on("close", (code) => {
            trace.closed = now();
            trace.code = code ?? 255;
            trace.connected = readMark(mark);
            rmSync(mark, { force: true });
            resolve(trace);
        });
        child.stdin.end("");
    });
}

/** `sshOptions` go in front of the driver's own (OpenSSH keeps the first value of an option). */
export async function sshFloor(targets: FloorTarget[], parallel: number, sshOptions: string[] = []): Promise<Floor> {
    const perHost = new Map<string, number>();
    const ssh: SshTrace[] = [];
    const failed: string[] = [];
    const queue = targets.filter((t) => t.count > 0);
    const dir = mkdtempSync(join(tmpdir(), "zt-bench-floor-")); // mode 0700
    try {
        const worker = async () => {
            for (let t = queue.shift(); t; t = queue.shift()) {
                assertRoutedVia(t.host, t.onlyVia ?? []);
                const keyDir = mkdtempSync(join(dir, "k-"));
                writeFileSync(join(keyDir, "key"), t.privateKey.endsWith("\n") ? t.privateKey : `${t.privateKey}\n`, { mode: 0o600 });
                writeFileSync(join(keyDir, "known_hosts"), knownHostsLine(t), { mode: 0o600 });
                const began = now();
                for (let i = 0; i < t.count; i++) {
                    const r = await roundTrip([...sshOptions, ...sshArguments(t, keyDir)], join(keyDir, `mark-${i}`));
                    ssh.push(r);
                    if (r.code !== 0) failed.push(`${t.node} (${t.host}): ssh exited ${r.code}`);
                }
                perHost.set(t.node, now() - began);
            }
        };
        await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
    const wall = ssh.length ? Math.max(...ssh.map((s) => s.closed)) - Math.min(...ssh.map((s) => s.spawned)) : 0;
    return { wall, perHost, ssh, failed };
}
