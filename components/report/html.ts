// The audit report as one self-contained HTML page: inline style and SVG, no script, nothing
// fetched, so it opens the same offline, in a mail, or years later.
import { reachDiagram } from "./diagram";
import { escapeXml } from "./escape";
import { AuditData } from "./model";
import { Section, Table, auditSections } from "./sections";

const STYLE = `
body { font-family: sans-serif; margin: 2em auto; max-width: 72em; color: #1a1a1a; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { border-bottom: 2px solid #2f6fb0; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .9em; }
th, td { border: 1px solid #b8b8b8; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #e8eef6; } tr:nth-child(even) td { background: #f7f7f7; }
td.bad { background: #f8d7d7 !important; font-weight: bold; } td.good { background: #dcefdc !important; }
pre { background: #f4f4f4; border: 1px solid #ddd; padding: .6em; font-size: .8em; overflow-x: auto; }
figure { margin: 1em 0; }
.legend span { display: inline-block; padding: .1em .6em; margin-right: .6em; color: #fff; border-radius: 4px; }
`;

const GOOD = /^(yes|match|pass|in sync|valid|none)\b/;
const BAD = /^(NO|MISMATCH|FAIL|drifted|unreachable|failed|REVOKED|ANSWERED)\b/;

function cell(value: string): string {
    const cls = BAD.test(value) ? ' class="bad"' : GOOD.test(value) ? ' class="good"' : "";
    return `<td${cls}>${escapeXml(value).replace(/\n/g, "<br>")}</td>`;
}

function table(t: Table): string {
    return [`<table>`, `<tr>${t.head.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr>`,
        ...t.rows.map((r) => `<tr>${r.map(cell).join("")}</tr>`), `</table>`].join("\n");
}

function sectionHtml(s: Section, diagram: string): string {
    return [
        `<section id="${s.id}"><h2>${escapeXml(s.title)}</h2>`,
        ...s.text.map((p) => `<p>${escapeXml(p)}</p>`),
        ...(s.diagram ? [`<figure>${diagram}<figcaption class="legend"><span style="background:#2f6fb0">node</span>` +
            `<span style="background:#2e8b57">operator peer</span><span style="background:#b5651d">gateway client</span></figcaption></figure>`] : []),
        ...s.tables.map(table),
        ...s.listings.map((l) => `<h3>${escapeXml(l.title)}</h3><pre>${escapeXml(l.lines.join("\n"))}</pre>`),
        `</section>`,
    ].join("\n");
}

export function auditHtml(d: AuditData): string {
    const diagram = reachDiagram(d.members, d.allowed);
    return [
        "<!DOCTYPE html>",
        `<html lang="en"><head><meta charset="utf-8"><title>zerotrust audit: ${escapeXml(d.stack)}</title><style>${STYLE}</style></head><body>`,
        `<h1>zerotrust audit report: stack ${escapeXml(d.stack)}</h1>`,
        ...auditSections(d).map((s) => sectionHtml(s, diagram)),
        "</body></html>",
        "",
    ].join("\n");
}
