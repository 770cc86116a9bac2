// Throwaway network namespaces for tests that need the real kernel (nft, wireguard-go).
// Each is removed in t.teardown, also when the test fails.
import { ExecFileSyncOptions, execFileSync, spawn } from "child_process";
import { randomBytes } from "crypto";

// Absolute paths: npm puts node_modules/.bin first on PATH, and a JavaScript package there is also called `nft`.
export const NFT = "/usr/sbin/nft";
export const IP = "/usr/sbin/ip";

export function run(cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], ...opts }) as string;
}

export interface Teardown {
    teardown(fn: () => void): void;
}

/** Creates a namespace and registers its removal; returns its name. */
export function scratchNamespace(t: Teardown, prefix = "ztt"): string {
    const name = `${prefix}-${randomBytes(4).toString("hex")}`;
    run(IP, ["netns", "add", name]);
    t.teardown(() => {
        try { run(IP, ["netns", "del", name]); } catch { /* already gone */ }
    });
    run(IP, ["-n", name, "link", "set", "lo", "up"]);
    return name;
}

export function inNamespace(ns: string, cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string {
    return run(IP, ["netns", "exec", ns, cmd, ...args], opts);
}

/** Starts wireguard-go for `iface` inside `ns` and waits for the interface; ended in t.teardown. */
export async function wireguardGo(t: Teardown, ns: string, iface: string): Promise<void> {
    // Foreground mode keeps the pid ours to end; deleting the link also stops it.
    const child = spawn(IP, ["netns", "exec", ns, "wireguard-go", "-f", iface], { stdio: "ignore", env: { ...process.env, WG_PROCESS_FOREGROUND: "1" } });
    t.teardown(() => { if (child.exitCode === null) child.kill("SIGTERM"); });
    for (let i = 0; i < 50; i++) {
        try { inNamespace(ns, "wg", ["show", iface]); return; } catch { await new Promise((r) => setTimeout(r, 100)); }
    }
    throw new Error("wireguard-go did not create the interface");
}

/**
 * A random ULA /64 prefix for a test's own link ("fdXX:XXXX:XXXX:YYYY", without "::"): never
 * fd00::/64 (this machine's), and refused if the machine routes it already.
 */
export function scratchUlaPrefix(): string {
    for (;;) {
        const b = randomBytes(7);
        if (b[0] === 0) continue; // fd00:... is this machine's
        // Groups without leading zeros: the canonical text tools print back (nmap, ip).
        const group = (i: number) => b.readUInt16BE(i).toString(16);
        const prefix = `fd${b.toString("hex", 0, 1)}:${group(1)}:${group(3)}:${group(5)}`;
        if (run(IP, ["-6", "route", "show", "table", "all", "match", `${prefix}::/64`]).split("\n").every((l) => l === "" || l.startsWith("default"))) return prefix;
    }
}

export interface Link {
    /** This machine's end. */
    here: string;
    hereAddress: string;
    /** The namespace's end is its eth0. */
    thereAddress: string;
}

/**
 * A veth from this machine's namespace into `ns` (its end there is eth0), with `prefix`::1 here and
 * `prefix`::2 there, without duplicate address detection (so they work at once); removed in t.teardown.
 */
export function linkToNamespace(t: Teardown, ns: string, prefix: string): Link {
    const here = `ztl${randomBytes(4).toString("hex")}`;
    run(IP, ["link", "add", here, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    t.teardown(() => { try { run(IP, ["link", "del", here]); } catch { /* gone with the namespace */ } });
    run(IP, ["addr", "add", `${prefix}::1/64`, "dev", here, "nodad"]);
    run(IP, ["link", "set", here, "up"]);
    run(IP, ["-n", ns, "addr", "add", `${prefix}::2/64`, "dev", "eth0", "nodad"]);
    run(IP, ["-n", ns, "link", "set", "eth0", "up"]);
    return { here, hereAddress: `${prefix}::1`, thereAddress: `${prefix}::2` };
}

/**
 * A veth between two namespaces (eth0 in each), with `prefix`::1 in `a` and `prefix`::2 in `b`
 * (no duplicate address detection) and, when given, `v4`.1 and `v4`.2 (a /24 prefix such as
 * "10.213.91"). Nothing of it is in this machine's namespace: it goes with the namespaces.
 */
export function pairNamespaces(a: string, b: string, prefix: string, v4?: string): void {
    run(IP, ["link", "add", "eth0", "netns", a, "type", "veth", "peer", "name", "eth0", "netns", b]);
    for (const [ns, host] of [[a, "1"], [b, "2"]]) {
        run(IP, ["-n", ns, "addr", "add", `${prefix}::${host}/64`, "dev", "eth0", "nodad"]);
        if (v4) run(IP, ["-n", ns, "addr", "add", `${v4}.${host}/24`, "dev", "eth0"]);
        run(IP, ["-n", ns, "link", "set", "eth0", "up"]);
    }
}
