// The verify report as text for a terminal: one line per concern, the diff under a drifted one.
import { VerifyReport } from "./verify";

export function formatVerifyReport(r: VerifyReport): string {
    const width = Math.max(4, ...r.concerns.map((c) => c.node.length));
    const lines = [`zerotrust verify${r.stack ? ` of stack ${r.stack}` : ""} at ${r.checkedAt}` +
        (r.lastUpdate ? ` (last update ${r.lastUpdate})` : "")];
    const order = [...r.concerns].sort((a, b) => a.node.localeCompare(b.node) || a.concern.localeCompare(b.concern));
    for (const c of order) {
        const what = c.state === "unreachable" || c.state === "failed" ? `${c.state}: ${c.reason}` : c.state;
        lines.push(`  ${c.node.padEnd(width)}  ${c.concern.padEnd(9)}  ${what}`);
        for (const d of c.diff) lines.push(`      ${d.replace(/\t/g, "  ")}`);
        if (c.repair) lines.push(`      repair: ${c.repair}`);
    }
    const count = (s: string) => r.concerns.filter((c) => c.state === s).length;
    lines.push(`${r.concerns.length} concerns: ${count("in sync")} in sync, ${count("drifted")} drifted, ` +
        `${count("unreachable")} unreachable, ${count("failed")} failed`);
    return lines.join("\n") + "\n";
}
