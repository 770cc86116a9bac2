// The locks Pulumi's DIY backends (file, PostgreSQL) leave for a stack, and whether one is provably
// stale. Pulumi 3.259 writes one blob per run, `.pulumi/locks/<org>/<project>/<stack>/<uuid>.json`
// (pkg/backend/diy/lock.go: pid, username, hostname, timestamp), and removes it when the run ends;
// a killed run leaves it, and every later update of the stack is refused until it goes.
// Pure: the I/O (reading the blobs, /proc) is scripts/stack-locks.ts.

export interface LockRecord {
    /** Where the blob is: a file path, or the key of its row in the PostgreSQL table. */
    where: string;
    pid: number;
    username: string;
    hostname: string;
    /** When the run took the lock (RFC 3339, as Go writes time.Time). */
    timestamp: string;
}

/** Reads a lock blob's JSON; a blob that is not one is an error naming where it is. */
export function parseLock(where: string, text: string): LockRecord {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        throw new Error(`lock ${where} is not JSON; look at it, and remove it with \`pulumi cancel\` if no run holds it`);
    }
    const v = value as Record<string, unknown>;
    if (typeof v?.pid !== "number" || typeof v.hostname !== "string" || typeof v.timestamp !== "string" || Number.isNaN(Date.parse(v.timestamp))) {
        throw new Error(`lock ${where} lacks pid, hostname or timestamp; look at it, and remove it with \`pulumi cancel\` if no run holds it`);
    }
    return { where, pid: v.pid, username: String(v.username ?? "?"), hostname: v.hostname, timestamp: v.timestamp };
}

/** What is known of a pid on this machine: nothing (no such process), or when it started. */
export type ProcessSeen = { alive: false } | { alive: true; startedAtMs: number };

export type LockVerdict =
    | { kind: "stale"; why: string }
    | { kind: "held"; why: string };

/**
 * A lock's process started at most this long after the lock's timestamp is taken to be the same
 * process: the start time read from /proc is derived from the boot time, which is whole seconds.
 */
export const START_SLACK_MS = 2000;

/**
 * Stale only when proven: taken on this host, and its pid is gone, or the pid now belongs to a
 * process that started after the lock was taken (the pid was reused). Anything else may be a live run.
 */
export function judgeLock(lock: LockRecord, thisHost: string, process: ProcessSeen): LockVerdict {
    if (lock.hostname !== thisHost) return { kind: "held", why: `it was taken on another host (${lock.hostname}); this machine cannot see whether that run still goes on` };
    if (!process.alive) return { kind: "stale", why: `its process (pid ${lock.pid}) no longer exists on this host` };
    const taken = Date.parse(lock.timestamp);
    if (process.startedAtMs > taken + START_SLACK_MS) {
        return { kind: "stale", why: `pid ${lock.pid} is now a different process (started ${new Date(process.startedAtMs).toISOString()}, after the lock was taken)` };
    }
    return { kind: "held", why: `its process (pid ${lock.pid}) is still running on this host` };
}

/** Who holds a lock, as the messages say it. */
export const holderOf = (lock: LockRecord) => `${lock.username}@${lock.hostname}, pid ${lock.pid}, since ${lock.timestamp}`;

/** What to tell the operator about a lock that is not provably stale: who holds it, what to run. */
export function heldMessage(lock: LockRecord, why: string, stack: string): string {
    return [
        `the stack ${stack} is locked by ${holderOf(lock)} (${lock.where}): ${why}.`,
        `  Wait for that run to end. If you know it has ended (its machine was shut down, its job cancelled), remove the lock with:`,
        `    . scripts/pulumi-env.sh && . scripts/dev-backend.sh && pulumi cancel --yes --stack ${stack}`,
    ].join("\n");
}

/** The lock directory of a stack inside a DIY backend (org is always "organization" there). */
export const stackLockDir = (project: string, stack: string) => `.pulumi/locks/organization/${project}/${stack}`;
