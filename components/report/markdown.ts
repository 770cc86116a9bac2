// The audit report as Markdown (GitHub tables), the same sections as the HTML page; the diagram is
// a separate SVG file beside it.
import { escapeCell } from "./escape";
import { AuditData } from "./model";
import { Table, auditSections } from "./sections";

function table(t: Table): string[] {
    return [`| ${t.head.map(escapeCell).join(" | ")} |`, `|${t.head.map(() => "---").join("|")}|`,
        ...t.rows.map((r) => `| ${r.map(escapeCell).join(" | ")} |`), ""];
}

/** `diagramFile`: the SVG's file name, relative to the Markdown file. */
export function auditMarkdown(d: AuditData, diagramFile: string): string {
    const out = [`# zerotrust audit report: stack ${d.stack}`, ""];
    for (const s of auditSections(d)) {
        out.push(`## ${s.title}`, "", ...s.text.flatMap((p) => [p, ""]));
        if (s.diagram) out.push(`![who may reach whom](${diagramFile})`, "");
        for (const t of s.tables) out.push(...table(t));
        for (const l of s.listings) out.push(`### ${l.title}`, "", "```", ...l.lines.map((x) => x.replace(/\t/g, "    ")), "```", "");
    }
    return out.join("\n");
}
