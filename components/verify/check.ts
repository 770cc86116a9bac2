// Checks one applied concern on its host, read-only, over the same pinned SSH path the deployer
// uses: the host lays the payload beside what it has, both through the real tools (nft, wg, sshd,
// openssl), and the difference is the drift. Repair re-applies the same request through the
// apply protocol (validate, swap, verify, confirm over a new connection or roll back).
import { drive, hostProgramFor } from "../remote/driver";
import { CHECK_MARKERS } from "../remote/protocol";
import { runOverSsh } from "../remote/ssh";
import { connectionFailure } from "../remote/ssh-failure";
import { AppliedConcern } from "./applied";
import { lineDiff } from "./line-diff";

export type ConcernState = "in sync" | "drifted" | "unreachable" | "failed";

export interface ConcernStatus {
    node: string;
    resource: string;
    concern: string;
    host: string;
    state: ConcernState;
    /** Drifted: "- " lines only the stack has, "+ " lines only the host has. */
    diff: string[];
    /** The host's state as read (in sync or drifted): no secrets, keys only as public keys or digests. */
    live?: string[];
    /** Unreachable or failed: why. */
    reason?: string;
    /** Set when a repair was tried: what it did. */
    repair?: string;
}

/** The check program's output split into its two halves. */
export function parseCheckOutput(stdout: string): { expected: string[]; live: string[] } {
    const lines = stdout.split("\n").filter((l) => l !== "");
    const e = lines.indexOf(CHECK_MARKERS.expected);
    const l = lines.indexOf(CHECK_MARKERS.live);
    if (e < 0 || l < e) throw new Error("the host's check printed no expected/live sections");
    return { expected: lines.slice(e + 1, l), live: lines.slice(l + 1) };
}

const lastLine = (s: string) => s.trim().split("\n").pop() ?? "";

export async function checkConcern(a: AppliedConcern): Promise<ConcernStatus> {
    const host = a.request.connection.host;
    const base = { node: a.node, resource: a.resource, concern: a.concern, host, diff: [] };
    const r = await runOverSsh(a.request.connection, hostProgramFor(a.request, "check"), 120);
    // 255 is ssh's own failure (no route, refused, timed out, host key): the host was not reached.
    const unreachable = connectionFailure({ code: r.code, err: r.stderr });
    if (unreachable) return { ...base, state: "unreachable", reason: `${unreachable} [${lastLine(r.stderr)}]` };
    if (r.code !== 0) return { ...base, state: "failed", reason: lastLine(r.stderr) || `the check exited ${r.code}` };
    let halves;
    try {
        halves = parseCheckOutput(r.stdout);
    } catch (e) {
        return { ...base, state: "failed", reason: (e as Error).message };
    }
    const diff = lineDiff(halves.expected, halves.live);
    return { ...base, state: diff.length === 0 ? "in sync" : "drifted", diff, live: halves.live };
}

/** Re-applies a drifted concern exactly as the stack last applied it, then checks it again. */
export async function repairConcern(a: AppliedConcern, before: ConcernStatus): Promise<ConcernStatus> {
    let outcome: string;
    try {
        outcome = await drive({ ...a.request, action: "apply" });
    } catch (e) {
        return { ...before, repair: `failed: ${(e as Error).message}` };
    }
    const after = await checkConcern(a);
    return { ...after, repair: after.state === "in sync" ? `repaired (${outcome})` : `re-applied (${outcome}), but it is still ${after.state}` };
}
