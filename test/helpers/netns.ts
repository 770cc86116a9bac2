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
