// Measures a lab: runs net-tool inside namespaces (or on this machine, for the operator peer) and
// reads WireGuard state from inside a lab host's own mount namespace.
import { ChildProcess, execFileSync, spawn } from "child_process";
import { readFileSync } from "fs";
import { join } from "path";
import { assertRoutedVia } from "../../components/remote/route-guard";

const NET_TOOL = join(__dirname, "net-tool.js");
const NODE = process.execPath;

/**
 * Where lab traffic starts: inside a lab host's network namespace, or on this machine (the
 * operator peer), whose routes to every target must leave through the lab's own interfaces.
 */
export type LabSource = { namespace: string } | { labInterfaces: string[] };

/** The address a target names: "host:port", "[IPv6]:port", "https://host[:port]/...", or a bare address (IPv6 too). */
export function hostOf(target: string): string {
    const t = target.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
    const bracketed = /^\[([^\]]*)\]/.exec(t);
    if (bracketed) return bracketed[1];
    return t.split(":").length > 2 ? t : t.replace(/:\d+$/, "");
}

/** The command line that runs `cmd` from `src`; refuses a target this machine would route off the lab. */
function from(src: LabSource, cmd: string[], targets: string[]): string[] {
    if ("namespace" in src) return ["ip", "netns", "exec", src.namespace, ...cmd];
    for (const t of targets) assertRoutedVia(hostOf(t), src.labInterfaces);
    return cmd;
}

export function probe(src: LabSource, targets: string[], timeoutMs = 3000): Record<string, string> {
    const [cmd, ...args] = from(src, [NODE, NET_TOOL, "probe", String(timeoutMs), ...targets], targets);
    return JSON.parse(execFileSync(cmd, args, { encoding: "utf8" }));
}

/** One UDP datagram to each target: {target: "answered" | "silent"} (a udp-echo must be there to answer). */
export function probeUdp(src: LabSource, targets: string[], timeoutMs = 2000): Record<string, string> {
    const [cmd, ...args] = from(src, [NODE, NET_TOOL, "udp-probe", String(timeoutMs), ...targets], targets);
    return JSON.parse(execFileSync(cmd, args, { encoding: "utf8" }));
}

/** Starts TCP listeners in a namespace; the caller ends them by pid (the returned child). */
export function listen(ns: string, ports: number[]): Promise<ChildProcess> {
    return startTool({ namespace: ns }, ["listen", ...ports.map(String)]);
}

/**
 * Starts net-tool from `src` and waits for its "ready"; the caller ends it by pid (the returned
 * child). `targets` are the addresses it will send to (checked when it runs on this machine).
 */
export async function startTool(src: LabSource, args: string[], targets: string[] = []): Promise<ChildProcess> {
    const [cmd, ...rest] = from(src, [NODE, NET_TOOL, ...args], targets);
    const where = "namespace" in src ? src.namespace : "this machine";
    const child = spawn(cmd, rest, { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
        child.stdout!.once("data", () => resolve());
        child.once("exit", (code) => reject(new Error(`net-tool ${args[0]} in ${where} exited with ${code}`)));
    });
    return child;
}

/** Runs a command in a lab host's own mount and network namespaces (where its wireguard-go socket is). */
/** What a Debian root's login shell has on its PATH. */
const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function inLabHost(labRoot: string, cmd: string[]): string {
    const pid = readFileSync(join(labRoot, "sshd.pid"), "utf8").trim();
    // -r -w: a release lab host's root (and sshd's working directory) is in its own release tree.
    // The host's own PATH, not the caller's: under npm, node_modules/.bin comes first, and its `nft`
    // is a Node tool (@vercel/nft, through ava), not nftables.
    return execFileSync("nsenter", ["-t", pid, "-m", "-n", "-r", "-w", ...cmd], { encoding: "utf8", env: { ...process.env, PATH: HOST_PATH } });
}

export function interfaceIndex(ns: string, iface: string): number {
    return Number(execFileSync("ip", ["netns", "exec", ns, "cat", `/sys/class/net/${iface}/ifindex`], { encoding: "utf8" }).trim());
}

export interface PingCount {
    /** Echo requests that had time to be answered: all but the last. */
    sent: number;
    received: number;
    /** Sequence numbers of those that went unanswered. */
    lost: number[];
    /** Whether the last request, still on its way when ping was stopped, went unanswered (not counted). */
    inFlightAtStop: boolean;
}

/**
 * A ping every 50 ms until stopped; stop() says which requests went unanswered. The last one may
 * still be in flight when the ping is stopped (at 20 a second, stopping lands in a round trip now
 * and then): it is reported apart, not counted. Every request before it had 50 ms or more.
 */
export function startPing(ns: string, address: string): { stop(): Promise<PingCount> } {
    const child = spawn("ip", ["netns", "exec", ns, "ping", "-n", "-i", "0.05", address], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d) => { out += d; });
    child.stderr!.on("data", (d) => { out += d; });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    return {
        stop: async () => {
            child.kill("SIGINT");
            await exited;
            const transmitted = Number(/(\d+) packets transmitted/.exec(out)?.[1]);
            if (!transmitted) throw new Error(`ping in ${ns} printed no summary: ${out.trim()}`);
            const answered = new Set([...out.matchAll(/icmp_seq=(\d+) ttl=/g)].map((a) => Number(a[1])));
            const settled = Array.from({ length: transmitted - 1 }, (_, i) => i + 1);
            const lost = settled.filter((seq) => !answered.has(seq));
            return { sent: settled.length, received: settled.length - lost.length, lost, inFlightAtStop: !answered.has(transmitted) };
        },
    };
}
