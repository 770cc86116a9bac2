// Whether a process the test started (or a lab started for it) is still there.
import { readFileSync } from "fs";

/** True while the process exists and is not a zombie; waits up to 5 s for it to go. */
export async function stillRunning(pid: number): Promise<boolean> {
    for (let i = 0; i < 50; i++) {
        let stat = "";
        try { stat = readFileSync(`/proc/${pid}/stat`, "utf8"); } catch { return false; }
        if (/^\d+ \(.*\) Z/.test(stat)) return false;
        await new Promise((r) => setTimeout(r, 100));
    }
    return true;
}
