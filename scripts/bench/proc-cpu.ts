// CPU time from /proc/<pid>/stat: a process's own, and that of the children it has waited for
// (each parent that waits adds its children's totals to its own cutime/cstime, so a reaped tree
// is counted whole). On a shared machine CPU time is what wall time cannot say: the work itself.
import { readFileSync } from "fs";

/** Clock ticks per second of /proc's times (USER_HZ: 100 on Linux). */
const TICKS = 100;

/** Own and waited-for children's CPU (ms) from a /proc/<pid>/stat line (pure). */
export function parseStatCpu(stat: string): { own: number; children: number } {
    // Fields after "pid (comm) ": state is the 3rd field; utime, stime, cutime, cstime the 14th to 17th.
    const f = stat.slice(stat.lastIndexOf(") ") + 2).split(" ").map(Number);
    const ms = (ticks: number) => (ticks * 1000) / TICKS;
    return { own: ms(f[11] + f[12]), children: ms(f[13] + f[14]) };
}

/** The CPU of a process and its reaped children (ms), or undefined once it is gone. */
export function processCpu(pid: number | "self"): { own: number; children: number } | undefined {
    try {
        return parseStatCpu(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
        return undefined;
    }
}
