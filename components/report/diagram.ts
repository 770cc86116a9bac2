// Who may reach whom, as an SVG drawing: members on a circle (nodes, operator peers and gateway
// clients in their own colours), an arrow for every allowed pair, labelled with its ports. Pure
// and self-contained: no fonts, scripts or images are fetched.
import { ReportAllow, ReportMember } from "./model";
import { escapeXml } from "./escape";

export const KIND_COLOURS: Record<ReportMember["kind"], string> = { node: "#2f6fb0", operator: "#2e8b57", client: "#b5651d" };
export const EDGE_COLOUR = "#5a5a5a";

const BOX = { w: 112, h: 40 };

export function reachDiagram(members: ReportMember[], allowed: ReportAllow[]): string {
    const n = Math.max(members.length, 1);
    const radius = Math.max(200, n * 38);
    const size = 2 * radius + BOX.w + 80;
    const centre = size / 2;
    const at = new Map(members.map((m, i) => {
        const angle = -Math.PI / 2 + (2 * Math.PI * i) / n;
        return [m.name, { x: centre + radius * Math.cos(angle), y: centre + radius * Math.sin(angle) }];
    }));
    const edges = allowed.filter((a) => at.has(a.from) && at.has(a.to)).map((a) => {
        const from = at.get(a.from)!;
        const to = at.get(a.to)!;
        // Stop the line at the target's box edge so the arrowhead shows.
        const dx = to.x - from.x;
        const dy = to.y - from.y;
        const length = Math.hypot(dx, dy) || 1;
        const cut = Math.min(BOX.w / 2 / Math.abs(dx / length || 1e-9), BOX.h / 2 / Math.abs(dy / length || 1e-9)) + 4;
        const end = { x: to.x - (dx / length) * cut, y: to.y - (dy / length) * cut };
        const label = { x: from.x + dx * 0.62, y: from.y + dy * 0.62 };
        return `<g class="edge"><line x1="${from.x.toFixed(1)}" y1="${from.y.toFixed(1)}" x2="${end.x.toFixed(1)}" y2="${end.y.toFixed(1)}" ` +
            `stroke="${EDGE_COLOUR}" stroke-width="1.6" marker-end="url(#arrow)"/>` +
            `<text x="${label.x.toFixed(1)}" y="${label.y.toFixed(1)}" font-size="11" text-anchor="middle" fill="#222" ` +
            `paint-order="stroke" stroke="#fff" stroke-width="3">${escapeXml(a.ports.join(" "))}</text></g>`;
    });
    const boxes = members.map((m) => {
        const p = at.get(m.name)!;
        return `<g class="member ${m.kind}"><rect x="${(p.x - BOX.w / 2).toFixed(1)}" y="${(p.y - BOX.h / 2).toFixed(1)}" width="${BOX.w}" height="${BOX.h}" ` +
            `rx="8" fill="${KIND_COLOURS[m.kind]}"/><text x="${p.x.toFixed(1)}" y="${(p.y - 2).toFixed(1)}" font-size="13" font-weight="bold" ` +
            `text-anchor="middle" fill="#fff">${escapeXml(m.name)}</text><text x="${p.x.toFixed(1)}" y="${(p.y + 13).toFixed(1)}" font-size="10" ` +
            `text-anchor="middle" fill="#fff">${escapeXml(m.address ?? m.kind)}</text></g>`;
    });
    return [
        `<svg xmlns="http://www.w3.org/2000/svg" id="reach-diagram" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" ` +
        `font-family="sans-serif" role="img" aria-label="who may reach whom">`,
        `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">` +
        `<path d="M0,0 L10,5 L0,10 z" fill="${EDGE_COLOUR}"/></marker></defs>`,
        `<rect width="${size}" height="${size}" fill="#fff"/>`,
        ...edges,
        ...boxes,
        "</svg>",
    ].join("\n");
}
