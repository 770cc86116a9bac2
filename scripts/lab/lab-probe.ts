// Measures a lab: runs net-tool inside namespaces (or on this machine, for the operator peer) and
// reads WireGuard state from inside a lab host's own mount namespace.
import { ChildProcess, execFileSync, spawn } from "child_process";
import { readFileSync } from "fs";
import { join } from "path";

const NET_TOOL = join(__dirname, "net-tool.js");
const NODE = process.execPath;

/** `ip netns exec NS ...`, or the command as is when ns is undefined (this machine). */
function inNs(ns: string | undefined, cmd: string[]): string[] {
    return ns ? ["ip", "netns", "exec", ns, ...cmd] : cmd;
}

export function probe(ns: string | undefined, targets: string[], timeoutMs = 3000): Record<string, string> {
    const [cmd, ...args] = inNs(ns, [NODE, NET_TOOL, "probe", String(timeoutMs), ...targets]);
    return JSON.parse(execFileSync(cmd, args, { encoding: "utf8" }));
}

/** Starts TCP listeners in a namespace; the caller ends them by pid (the returned child). */
export function listen(ns: string, ports: number[]): Promise<ChildProcess> {
    return startTool(ns, ["listen", ...ports.map(String)]);
}

/**
 * Starts net-tool in a namespace (or on this machine when ns is undefined) and waits for its
 * "ready"; the caller ends it by pid (the returned child).
 */
export async function startTool(ns: string | undefined, args: string[]): Promise<ChildProcess> {
    const [cmd, ...rest] = inNs(ns, [NODE, NET_TOOL, ...args]);
    const child = spawn(cmd, rest, { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
        child.stdout!.once("data", () => resolve());
        child.once("exit", (code) => reject(new Error(`net-tool ${args[0]} in ${ns ?? "this machine"} exited with ${code}`)));
    });
    return child;
}

/** Runs a command in a lab host's own mount and network namespaces (where its wireguard-go socket is). */
export function inLabHost(labRoot: string, cmd: string[]): string {
    const pid = readFileSync(join(labRoot, "sshd.pid"), "utf8").trim();
    return execFileSync("nsenter", ["-t", pid, "-m", "-n", ...cmd], { encoding: "utf8" });
}

export function interfaceIndex(ns: string, iface: string): number {
    return Number(execFileSync("ip", ["netns", "exec", ns, "cat", `/sys/class/net/${iface}/ifindex`], { encoding: "utf8" }).trim());
}

/** A ping that runs until stopped; stop() returns what was sent and received. */
export function startPing(ns: string, address: string): { stop(): Promise<{ sent: number; received: number }> } {
    const child = spawn("ip", ["netns", "exec", ns, "ping", "-q", "-i", "0.05", address], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d) => { out += d; });
    child.stderr!.on("data", (d) => { out += d; });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    return {
        stop: async () => {
            child.kill("SIGINT");
            await exited;
            const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
            if (!m) throw new Error(`ping in ${ns} printed no summary: ${out.trim()}`);
            return { sent: Number(m[1]), received: Number(m[2]) };
        },
    };
}
