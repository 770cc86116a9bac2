// Who may reach whom, as an SVG drawing that stays readable at sixty members: members in boxes by
// role (kind and first tag), one arrow per bundle of pairs with its ports (diagram-bundle.ts), laid
// out in columns without overlaps (diagram-layout.ts). Pure and self-contained: no fonts, scripts
// or images are fetched.
import { DiagramLayout, DrawnText, KIND_COLOURS, layoutDiagram } from "./diagram-layout";
import { escapeXml } from "./escape";
import { ReportAllow, ReportMember } from "./model";

export { KIND_COLOURS };
/** Arrows from or to a whole group. */
export const EDGE_COLOUR = "#5a5a5a";
/** Arrows from or to one member: where a pair differs from its group, it shows. */
export const MEMBER_EDGE_COLOUR = "#a0307a";
const FRAME_COLOUR = "#9db7d5";

const f1 = (n: number) => String(Math.round(n * 10) / 10);

function textSvg(t: DrawnText): string {
    const halo = t.role === "label" ? ` paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round"` : "";
    return `<text x="${f1(t.x)}" y="${f1(t.y)}" font-size="${t.size}"${t.bold ? ` font-weight="bold"` : ""}${t.anchor === "end" ? ` text-anchor="end"` : ""} ` +
        `fill="${t.fill}"${halo}>${escapeXml(t.text)}</text>`;
}

function pairsAttr(pairs: [string, string][]): string {
    return escapeXml(pairs.map(([a, b]) => `${a}>${b}`).join(" "));
}

export function renderDiagram(layout: DiagramLayout): string {
    const { width, height } = layout;
    const frame = layout.frame
        ? [`<rect class="frame" x="${f1(layout.frame.x)}" y="${f1(layout.frame.y)}" width="${f1(layout.frame.w)}" height="${f1(layout.frame.h)}" rx="10" ` +
            `fill="#f3f7fc" stroke="${FRAME_COLOUR}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
        ...layout.texts.filter((t) => t.role === "frame").map(textSvg)]
        : [];
    const edges = layout.links.map((d) => {
        const l = d.link;
        const cls = `edge ${d.route} ${l.from.level === "member" || l.to.level === "member" ? "member-level" : "group-level"}`;
        const data = ` data-from="${escapeXml(l.from.level === "member" ? l.from.member : l.from.level === "group" ? l.from.group : "every node")}"` +
            ` data-to="${escapeXml(l.to.level === "member" ? l.to.member : l.to.level === "group" ? l.to.group : "every node")}"` +
            ` data-ports="${escapeXml(l.ports.join(" "))}" data-pairs="${pairsAttr(l.pairs)}"`;
        if (d.route === "badge") return `<g class="${cls}"${data}/>`;
        const member = l.from.level === "member" || l.to.level === "member";
        const colour = member ? MEMBER_EDGE_COLOUR : EDGE_COLOUR;
        return `<g class="${cls}"${data}><path d="${d.path}" fill="none" stroke="${colour}" stroke-width="${member ? 1.4 : 2}"` +
            `${l.client ? ` stroke-dasharray="5 3"` : ""} stroke-linejoin="round" marker-end="url(#${member ? "arrow-member" : "arrow"})"/></g>`;
    });
    // Labels after every arrow, so that no arrow is drawn over another's label.
    const labels = layout.links.flatMap((d) => d.label).map((t) => textSvg(t).replace("<text ", `<text class="edge-label" `));
    const boxes = layout.boxes.map((b) => {
        const colour = KIND_COLOURS[b.group.kind];
        const rows = b.rows.map((r, i) => `<g class="member ${r.member.kind}">` +
            (i % 2 ? `<rect x="${f1(r.rect.x + 1)}" y="${f1(r.rect.y)}" width="${f1(r.rect.w - 2)}" height="${f1(r.rect.h)}" fill="#eef2f7"/>` : "") + `</g>`);
        return `<g class="group ${b.group.kind}" data-group="${escapeXml(b.group.id)}">` +
            `<rect x="${f1(b.rect.x)}" y="${f1(b.rect.y)}" width="${f1(b.rect.w)}" height="${f1(b.rect.h)}" rx="6" fill="#fff" stroke="${colour}" stroke-width="2"/>` +
            `<path d="M${f1(b.header.x)},${f1(b.header.y + b.header.h)} V${f1(b.header.y + 6)} q0,-6 6,-6 H${f1(b.header.x + b.header.w - 6)} q6,0 6,6 V${f1(b.header.y + b.header.h)} Z" fill="${colour}"/>` +
            rows.join("") + b.texts.map(textSvg).join("") + `</g>`;
    });
    const legend = layout.legend.map((s) => {
        const { x, y, w, h } = s.rect;
        if (s.kind === "swatch") return `<rect x="${f1(x)}" y="${f1(y)}" width="${w}" height="${h}" rx="3" fill="${s.colour}"/>`;
        if (s.kind === "frame") return `<rect x="${f1(x)}" y="${f1(y)}" width="${w}" height="${h}" rx="3" fill="#f3f7fc" stroke="${FRAME_COLOUR}" stroke-dasharray="4 2"/>`;
        const colour = s.kind === "member" ? MEMBER_EDGE_COLOUR : EDGE_COLOUR;
        return `<path d="M${f1(x)},${f1(y + h / 2)} H${f1(x + w - 2)}" stroke="${colour}" stroke-width="${s.kind === "member" ? 1.4 : 2}"` +
            `${s.kind === "client" ? ` stroke-dasharray="5 3"` : ""} marker-end="url(#${s.kind === "member" ? "arrow-member" : "arrow"})"/>`;
    });
    const marker = (id: string, colour: string) => `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">` +
        `<path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`;
    return [
        `<svg xmlns="http://www.w3.org/2000/svg" id="reach-diagram" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
        `font-family="'DejaVu Sans', Verdana, sans-serif" role="img" aria-label="who may reach whom">`,
        `<defs>${marker("arrow", EDGE_COLOUR)}${marker("arrow-member", MEMBER_EDGE_COLOUR)}</defs>`,
        `<rect width="${width}" height="${height}" fill="#fff"/>`,
        ...frame,
        ...boxes,
        ...edges,
        ...labels,
        ...legend,
        ...layout.texts.filter((t) => t.role === "legend").map(textSvg),
        "</svg>",
    ].join("\n");
}

export function reachDiagram(members: ReportMember[], allowed: ReportAllow[]): string {
    return renderDiagram(layoutDiagram(members, allowed));
}
