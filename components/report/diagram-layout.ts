// Where everything of the reach diagram goes, as plain geometry. Groups are boxes in columns, read
// left to right as traffic flows: operator peers and gateway clients first, then the node groups
// layered by their links, inside a frame that stands for "every node". Every arrow leaves a box on
// its right and enters one on its left, at a row of its own: the header for a whole group, the
// member's line for one member. Its label (the ports) sits just before the arrowhead, in a slot
// of that row, so no two labels can meet. Arrows between neighbouring columns curve through the
// gap; any other arrow runs along a corridor above or below the columns. Pure.
import { Bundled, DiagramGroup, DiagramLink, LinkEnd, bundleAllows } from "./diagram-bundle";
import { ReportAllow, ReportMember } from "./model";
import { textWidth } from "./text-width";

export interface Rect { x: number; y: number; w: number; h: number }

export interface DrawnText {
    text: string;
    /** The anchor point: x as `anchor` says, y the baseline. */
    x: number;
    y: number;
    size: number;
    bold: boolean;
    anchor: "start" | "end";
    fill: string;
    /** What the text covers, estimated from the font's widths (the render test measures the real one). */
    rect: Rect;
    role: "title" | "badge" | "member" | "address" | "label" | "frame" | "legend";
}

export interface GroupBox {
    group: DiagramGroup;
    column: number;
    rect: Rect;
    header: Rect;
    /** One per member, in the group's order. */
    rows: { member: ReportMember; rect: Rect }[];
    /** The title, badges, names and addresses (also in the layout's `texts`). */
    texts: DrawnText[];
}

export interface DrawnLink {
    link: DiagramLink;
    /** badge: written in a group's header (to every node, or among its own members). */
    route: "adjacent" | "corridor" | "frame" | "badge";
    /** SVG path data; empty for a badge. */
    path: string;
    /** The path as a polyline (curves sampled), to check what it passes. */
    points: [number, number][];
    /** The label's lines (a badge's text is among the header's). */
    label: DrawnText[];
}

export interface DiagramLayout {
    width: number;
    height: number;
    /** The frame round every node, when there are nodes. */
    frame?: Rect;
    boxes: GroupBox[];
    links: DrawnLink[];
    texts: DrawnText[];
    /** Where the legend's samples go (texts are in `texts`). */
    legend: { kind: "swatch" | "bundle" | "member" | "client" | "frame"; rect: Rect; colour?: string }[];
}

export const KIND_COLOURS: Record<ReportMember["kind"], string> = { node: "#2f6fb0", operator: "#2e8b57", client: "#b5651d" };

const MARGIN = 16;
const PAD = 7; // inside a box, left and right
const TITLE = 11.5; // font sizes
const BADGE = 10;
const NAME = 11;
const ADDRESS = 9.5;
const LABEL = 10;
const LINE = 12; // a label's or badge's line pitch
const ROW = 17; // a member's line
const OUT_PITCH = 10; // between arrows leaving one row
const BOX_GAP = 16; // between boxes in a column
const STUB = 6;
const TRACK = 7; // between vertical corridor runs in a gap
const CURVE = 24;
const FRAME_PAD = 10;
const CORRIDOR = 8; // between corridor runs
const ASCENT = 0.93; // DejaVu Sans, in em
const DESCENT = 0.24;

function text(role: DrawnText["role"], s: string, x: number, y: number, size: number, o: { bold?: boolean; anchor?: "start" | "end"; fill?: string } = {}): DrawnText {
    const bold = o.bold ?? false;
    const anchor = o.anchor ?? "start";
    const w = textWidth(s, size, bold);
    return { text: s, x, y, size, bold, anchor, fill: o.fill ?? "#1a1a1a", role, rect: { x: anchor === "start" ? x : x - w, y: y - ASCENT * size, w, h: (ASCENT + DESCENT) * size } };
}

/** Ports as lines no wider than about 80px: a long list wraps instead of widening the gap. */
export function wrapPorts(ports: string[], prefix = ""): string[] {
    const lines: string[] = [];
    let line = prefix;
    for (const p of ports) {
        const next = line && line !== prefix ? `${line} ${p}` : `${line}${p}`;
        if (line && line !== prefix && textWidth(next, LABEL) > 80) {
            lines.push(line);
            line = p;
        } else line = next;
    }
    lines.push(line);
    return lines;
}

const endGroup = (e: LinkEnd) => (e.level === "nodes" ? undefined : e.group);
const endRow = (e: LinkEnd, g: DiagramGroup) => (e.level === "member" ? 1 + g.members.findIndex((m) => m.name === e.member) : 0);

function badgeLines(l: DiagramLink): string[] {
    const who = l.from.level === "member" ? `${l.from.member} ` : "";
    return wrapPorts(l.ports, l.to.level === "nodes" ? `${who}\u2192 every node: ` : `\u2194 each other: `);
}

/** Columns: non-node groups first, then node groups by longest path over their links (cycles broken by a depth-first walk). */
function columnsOf(b: Bundled, isBadge: (l: DiagramLink) => boolean): Map<string, number> {
    const outside = b.groups.filter((g) => g.kind !== "node");
    const nodes = b.groups.filter((g) => g.kind === "node");
    const isNode = new Set(nodes.map((g) => g.id));
    const base = outside.length > 0 ? 1 : 0;
    const fromOutside = new Set<string>();
    const succ = new Map<string, { to: string; coarse: boolean }[]>(nodes.map((g) => [g.id, []]));
    for (const l of b.links) {
        const f = endGroup(l.from);
        const t = endGroup(l.to);
        if (isBadge(l) || !f || !t) continue;
        if (!isNode.has(f)) fromOutside.add(t);
        else if (f !== t) succ.get(f)!.push({ to: t, coarse: l.from.level === "group" && l.to.level === "group" });
    }
    for (const list of succ.values()) list.sort((a, c) => Number(c.coarse) - Number(a.coarse) || (a.to < c.to ? -1 : a.to > c.to ? 1 : 0));
    const dag = new Map<string, Set<string>>(nodes.map((g) => [g.id, new Set()]));
    const state = new Map<string, "open" | "done">();
    const walk = (g: string) => {
        state.set(g, "open");
        for (const { to } of succ.get(g)!) {
            if (state.get(to) === "open") continue; // a back edge: drawn against the flow
            dag.get(g)!.add(to);
            if (!state.has(to)) walk(to);
        }
        state.set(g, "done");
    };
    for (const g of [...nodes.filter((n) => fromOutside.has(n.id)), ...nodes]) if (!state.has(g.id)) walk(g.id);
    const preds = new Map<string, string[]>(nodes.map((g) => [g.id, []]));
    for (const [f, ts] of dag) for (const t of ts) preds.get(t)!.push(f);
    const layer = new Map<string, number>();
    const depth = (g: string): number => {
        if (!layer.has(g)) layer.set(g, Math.max(0, ...preds.get(g)!.map((p) => depth(p) + 1)));
        return layer.get(g)!;
    };
    nodes.forEach((g) => depth(g.id));
    // A group nothing on the mesh reaches sits just before the first group it reaches.
    for (const g of nodes) {
        const out = [...dag.get(g.id)!];
        if (preds.get(g.id)!.length === 0 && out.length > 0 && !fromOutside.has(g.id)) layer.set(g.id, Math.max(0, Math.min(...out.map((t) => layer.get(t)!)) - 1));
    }
    const col = new Map<string, number>();
    outside.forEach((g) => col.set(g.id, 0));
    for (const g of nodes) {
        const linked = dag.get(g.id)!.size > 0 || preds.get(g.id)!.length > 0;
        if (linked || fromOutside.has(g.id)) col.set(g.id, base + layer.get(g.id)!);
    }
    return col;
}

/** The widest drawing that fits the report's page (its 72em column) at full size. */
export const FIT_WIDTH = 1150;

/**
 * The layout, with each member's mesh address beside its name when that still fits `fitWidth`;
 * otherwise names only (the members table has the addresses), so that text keeps its size.
 */
export function layoutDiagram(members: ReportMember[], allowed: ReportAllow[], fitWidth = FIT_WIDTH): DiagramLayout {
    const full = layoutWith(members, allowed, true);
    return full.width <= fitWidth ? full : layoutWith(members, allowed, false);
}

function layoutWith(members: ReportMember[], allowed: ReportAllow[], addresses: boolean): DiagramLayout {
    const bundled = bundleAllows(members, allowed);
    const { groups, links } = bundled;
    const groupById = new Map(groups.map((g) => [g.id, g]));
    const isNodeGroup = (id: string | undefined) => id !== undefined && groupById.get(id)!.kind === "node";
    const isBadge = (l: DiagramLink) => (l.to.level === "nodes" && isNodeGroup(endGroup(l.from))) ||
        (l.from.level === "group" && l.to.level === "group" && l.from.group === l.to.group);

    // Rows' heights and boxes' widths, from what each row holds.
    const badges = new Map<string, string[]>(groups.map((g) => [g.id, []]));
    for (const l of links) if (isBadge(l)) badges.get(endGroup(l.from)!)!.push(...badgeLines(l));
    const inSlots = new Map<string, number[]>(); // row key -> link indices entering there
    const outSlots = new Map<string, number[]>();
    const rowKey = (g: string, r: number) => `${g}#${r}`;
    const labelLines = links.map((l) => wrapPorts(l.ports));
    links.forEach((l, i) => {
        if (isBadge(l)) return;
        const f = endGroup(l.from)!;
        const fk = rowKey(f, endRow(l.from, groupById.get(f)!));
        outSlots.set(fk, [...(outSlots.get(fk) ?? []), i]);
        const t = endGroup(l.to);
        if (t) {
            const tk = rowKey(t, endRow(l.to, groupById.get(t)!));
            inSlots.set(tk, [...(inSlots.get(tk) ?? []), i]);
        }
    });
    const slotHeight = (i: number) => 16 + LINE * (labelLines[i].length - 1);
    const rowHeight = (g: string, r: number, content: number) => Math.max(content,
        4 + (inSlots.get(rowKey(g, r)) ?? []).reduce((n, i) => n + slotHeight(i), 0),
        4 + OUT_PITCH * (outSlots.get(rowKey(g, r)) ?? []).length);
    const heights = new Map(groups.map((g) => [g.id, [rowHeight(g.id, 0, 8 + 15 + LINE * badges.get(g.id)!.length),
        ...g.members.map((_, i) => rowHeight(g.id, i + 1, ROW))]]));
    const boxHeight = (g: string) => heights.get(g)!.reduce((a, b) => a + b, 0);
    const contentWidth = (g: DiagramGroup) => Math.max(
        textWidth(`${g.title} (${g.members.length})`, TITLE, true),
        ...badges.get(g.id)!.map((b) => textWidth(b, BADGE)),
        ...g.members.map((m) => textWidth(m.name, NAME, true) + (addresses && m.address ? 10 + textWidth(m.address, ADDRESS) : 0))) + 2 * PAD;

    // Columns, and the order in each: by the mean position of each group's neighbours, a few sweeps.
    const col = columnsOf(bundled, isBadge);
    const nColumns = Math.max(0, ...col.values()) + 1;
    const columnHeight = (c: number) => groups.filter((g) => col.get(g.id) === c).reduce((n, g) => n + boxHeight(g.id) + BOX_GAP, 0);
    const firstNodeColumn = groups.some((g) => g.kind !== "node") ? 1 : 0;
    for (const g of groups) if (!col.has(g.id)) {
        // Linked to nothing on the mesh: the lowest column.
        let best = firstNodeColumn;
        for (let c = firstNodeColumn; c < nColumns; c++) if (columnHeight(c) < columnHeight(best)) best = c;
        col.set(g.id, best);
    }
    const columns: string[][] = Array.from({ length: Math.max(0, ...col.values()) + 1 }, (_, c) => groups.filter((g) => col.get(g.id) === c).map((g) => g.id));
    const neighbours = new Map<string, string[]>(groups.map((g) => [g.id, []]));
    for (const l of links) {
        const f = endGroup(l.from);
        const t = endGroup(l.to);
        if (f && t && f !== t) { neighbours.get(f)!.push(t); neighbours.get(t)!.push(f); }
    }
    const position = () => new Map(columns.flatMap((ids) => ids.map((id, i) => [id, (i + 0.5) / ids.length] as const)));
    for (let sweep = 0; sweep < 6; sweep++) {
        const pos = position();
        for (const ids of sweep % 2 ? [...columns].reverse() : columns) {
            const key = new Map(ids.map((id) => {
                const ns = neighbours.get(id)!.filter((n) => col.get(n) !== col.get(id));
                return [id, ns.length ? ns.reduce((s, n) => s + pos.get(n)!, 0) / ns.length : pos.get(id)!] as const;
            }));
            const kind = (id: string) => ["operator", "client", "node"].indexOf(groupById.get(id)!.kind);
            ids.sort((a, b) => kind(a) - kind(b) || key.get(a)! - key.get(b)! || (a < b ? -1 : 1));
        }
    }

    // Which arrows take a corridor, and each gap's width.
    const route = links.map((l): DrawnLink["route"] => {
        if (isBadge(l)) return "badge";
        if (l.to.level === "nodes") return "frame";
        return col.get(endGroup(l.to)!)! === col.get(endGroup(l.from)!)! + 1 ? "adjacent" : "corridor";
    });
    const colWidth = columns.map((ids) => Math.max(0, ...ids.map((id) => contentWidth(groupById.get(id)!))));
    const frameColumn = groups.some((g) => g.kind === "node") ? firstNodeColumn : -1;
    const departures = columns.map(() => [] as number[]);
    const arrivals = columns.map(() => [] as number[]);
    links.forEach((l, i) => {
        if (route[i] !== "corridor") return;
        departures[col.get(endGroup(l.from)!)!].push(i);
        arrivals[col.get(endGroup(l.to)!)!].push(i);
    });
    const inLabelWidth = columns.map((ids) => Math.max(0, ...links.flatMap((l, i) =>
        route[i] !== "badge" && route[i] !== "frame" && ids.includes(endGroup(l.to)!) ? labelLines[i].map((s) => textWidth(s, LABEL)) : [])));
    const frameLabelWidth = Math.max(0, ...links.flatMap((l, i) => route[i] === "frame" ? labelLines[i].map((s) => textWidth(s, LABEL)) : []));
    const colX: number[] = [];
    const depTrackX: number[][] = [];
    const arrTrackX: number[][] = [];
    const labelZone: number[] = []; // where column c's labels zone starts
    let frameX = 0;
    let frameRight = 0;
    let x = MARGIN;
    for (let c = 0; c <= columns.length; c++) {
        // The gap before column c: the left column's departures, its curves, the frame, c's arrivals and labels.
        if (c > 0) {
            x += STUB;
            depTrackX[c - 1] = departures[c - 1].map((_, k) => x + k * TRACK);
            x += departures[c - 1].length * TRACK;
        }
        if (c === columns.length) {
            if (frameColumn >= 0) { x += FRAME_PAD; frameRight = x; }
            break;
        }
        if (c > 0) x += c === frameColumn ? Math.max(CURVE, frameLabelWidth + 16) : CURVE;
        if (c === frameColumn) {
            frameX = x;
            x += FRAME_PAD;
        }
        arrTrackX[c] = arrivals[c].map((_, k) => x + k * TRACK);
        x += arrivals[c].length * TRACK + (arrivals[c].length ? 12 : 0);
        labelZone[c] = x;
        x += inLabelWidth[c] > 0 ? inLabelWidth[c] + 10 : 0;
        colX[c] = x;
        x += colWidth[c];
    }
    const columnsRight = x;

    // Vertical places, first from the top of the columns' band.
    const bandHeight = Math.max(0, ...columns.map((ids) => ids.reduce((n, id) => n + boxHeight(id), 0) + BOX_GAP * (ids.length - 1)));
    const boxes = new Map<string, GroupBox>();
    columns.forEach((ids, c) => {
        let y = (bandHeight - (ids.reduce((n, id) => n + boxHeight(id), 0) + BOX_GAP * (ids.length - 1))) / 2;
        for (const id of ids) {
            const hs = heights.get(id)!;
            const rect = { x: colX[c], y, w: colWidth[c], h: boxHeight(id) };
            let ry = y + hs[0];
            const rows = groupById.get(id)!.members.map((member, i) => {
                const r = { member, rect: { x: colX[c], y: ry, w: colWidth[c], h: hs[i + 1] } };
                ry += hs[i + 1];
                return r;
            });
            boxes.set(id, { group: groupById.get(id)!, column: c, rect, header: { x: colX[c], y, w: colWidth[c], h: hs[0] }, rows, texts: [] });
            y += rect.h + BOX_GAP;
        }
    });
    const rowRect = (e: LinkEnd) => {
        const b = boxes.get(endGroup(e)!)!;
        return e.level === "member" ? b.rows.find((r) => r.member.name === e.member)!.rect : b.header;
    };
    const mid = (r: Rect) => r.y + r.h / 2;
    const above = links.map((l, i) => route[i] === "corridor" && (mid(rowRect(l.from)) + mid(rowRect(l.to))) / 2 < bandHeight / 2);
    const span = (i: number) => Math.abs(col.get(endGroup(links[i].to)!)! - col.get(endGroup(links[i].from)!)!);
    const byOuter = (list: number[]) => list.sort((a, b) => span(b) - span(a) || a - b);
    const topRuns = byOuter(links.map((_, i) => i).filter((i) => route[i] === "corridor" && above[i]));
    const bottomRuns = byOuter(links.map((_, i) => i).filter((i) => route[i] === "corridor" && !above[i]));
    const frameTitleY = MARGIN + 13;
    const bandTop = MARGIN + (frameColumn >= 0 ? 22 : 0) + (topRuns.length ? CORRIDOR * topRuns.length + 6 : 0);
    const shift = (r: Rect) => { r.y += bandTop; };
    for (const b of boxes.values()) { shift(b.rect); shift(b.header); b.rows.forEach((r) => shift(r.rect)); }
    const runY = new Map<number, number>();
    topRuns.forEach((i, k) => runY.set(i, bandTop - 6 - CORRIDOR * (topRuns.length - 1 - k) - 2));
    bottomRuns.forEach((i, k) => runY.set(i, bandTop + bandHeight + 8 + CORRIDOR * (bottomRuns.length - 1 - k)));
    const bandBottom = bandTop + bandHeight + (bottomRuns.length ? 8 + CORRIDOR * bottomRuns.length : 0);

    // Slots: in each row, arrows ordered by where their other end is, so that few cross.
    const otherY = (i: number, side: "in" | "out") => {
        if (route[i] === "corridor") return above[i] ? -1e6 + (runY.get(i) ?? 0) : 1e6 + (runY.get(i) ?? 0);
        const other = side === "in" ? links[i].from : links[i].to;
        return other.level === "nodes" ? mid(rowRect(links[i].from)) : mid(rowRect(other));
    };
    const inY = new Map<number, number>();
    const outY = new Map<number, number>();
    for (const [key, list] of inSlots) {
        const [g, r] = [key.slice(0, key.lastIndexOf("#")), Number(key.slice(key.lastIndexOf("#") + 1))];
        const rect = r === 0 ? boxes.get(g)!.header : boxes.get(g)!.rows[r - 1].rect;
        const sorted = [...list].sort((a, b) => otherY(a, "in") - otherY(b, "in") || a - b);
        const total = sorted.reduce((n, i) => n + slotHeight(i), 0);
        let y = rect.y + (rect.h - total) / 2;
        for (const i of sorted) { y += slotHeight(i); inY.set(i, y - 2); }
    }
    for (const [key, list] of outSlots) {
        const [g, r] = [key.slice(0, key.lastIndexOf("#")), Number(key.slice(key.lastIndexOf("#") + 1))];
        const rect = r === 0 ? boxes.get(g)!.header : boxes.get(g)!.rows[r - 1].rect;
        const sorted = [...list].sort((a, b) => otherY(a, "out") - otherY(b, "out") || a - b);
        sorted.forEach((i, k) => outY.set(i, rect.y + rect.h / 2 + (k - (sorted.length - 1) / 2) * OUT_PITCH));
    }
    // Arrows into the frame: each label on its own line, as near its source's row as the others allow.
    const frameY = new Map<number, number>();
    let floor = bandTop + 14;
    for (const i of links.map((_, k) => k).filter((k) => route[k] === "frame").sort((a, b) => outY.get(a)! - outY.get(b)! || a - b)) {
        const y = Math.max(outY.get(i)!, floor);
        frameY.set(i, y);
        floor = y + slotHeight(i);
    }

    // Paths and labels.
    const f1 = (n: number) => Math.round(n * 10) / 10;
    const curve = (x0: number, y0: number, x1: number, y1: number): { d: string; pts: [number, number][] } => {
        const cx = (x1 - x0) / 2;
        const pts: [number, number][] = [];
        for (let s = 0; s <= 16; s++) {
            const t = s / 16;
            const u = 1 - t;
            pts.push([u * u * u * x0 + 3 * u * u * t * (x0 + cx) + 3 * u * t * t * (x1 - cx) + t * t * t * x1, u * u * u * y0 + 3 * u * u * t * y0 + 3 * u * t * t * y1 + t * t * t * y1]);
        }
        return { d: `C${f1(x0 + cx)},${f1(y0)} ${f1(x1 - cx)},${f1(y1)} ${f1(x1)},${f1(y1)}`, pts };
    };
    const labelAt = (i: number, xEnd: number, y: number) => labelLines[i].map((s, k, all) => text("label", s, xEnd, y - 4 - LINE * (all.length - 1 - k), LABEL, { anchor: "end", fill: "#222" }));
    const depIndex = departures.map((list) => new Map(list.map((i, k) => [i, k])));
    const arrIndex = arrivals.map((list) => new Map(list.map((i, k) => [i, k])));
    const drawn: DrawnLink[] = links.map((l, i) => {
        if (route[i] === "badge") return { link: l, route: "badge", path: "", points: [], label: [] };
        const fromCol = col.get(endGroup(l.from)!)!;
        const x0 = colX[fromCol] + colWidth[fromCol];
        const y0 = outY.get(i)!;
        if (route[i] === "frame") {
            const y1 = frameY.get(i)!;
            // Straight in, unless another arrow's label pushed this one down a line.
            const c = curve(x0 + STUB, y0, x0 + STUB + 16, y1);
            const path = y1 === y0 ? `M${f1(x0)},${f1(y0)} H${f1(frameX - 1)}` : `M${f1(x0)},${f1(y0)} H${f1(x0 + STUB)} ${c.d} H${f1(frameX - 1)}`;
            return { link: l, route: "frame", path, points: [[x0, y0], ...(y1 === y0 ? [] : c.pts), [frameX - 1, y1]], label: labelAt(i, frameX - 8, y1) };
        }
        const toCol = col.get(endGroup(l.to)!)!;
        const x1 = colX[toCol];
        const y1 = inY.get(i)!;
        const label = labelAt(i, x1 - 8, y1);
        if (route[i] === "adjacent") {
            const c = curve(x0 + STUB, y0, labelZone[toCol], y1);
            return { link: l, route: "adjacent", path: `M${f1(x0)},${f1(y0)} H${f1(x0 + STUB)} ${c.d} H${f1(x1 - 1)}`, points: [[x0, y0], ...c.pts, [x1 - 1, y1]], label };
        }
        const xd = depTrackX[fromCol][depIndex[fromCol].get(i)!];
        const xa = arrTrackX[toCol][arrIndex[toCol].get(i)!];
        const yr = runY.get(i)!;
        const points: [number, number][] = [[x0, y0], [xd, y0], [xd, yr], [xa, yr], [xa, y1], [x1 - 1, y1]];
        return { link: l, route: "corridor", path: `M${points.map(([px, py]) => `${f1(px)},${f1(py)}`).join(" L")}`, points, label };
    });

    // Texts of the boxes and the frame.
    for (const b of boxes.values()) {
        const texts = b.texts;
        const x0 = b.rect.x + PAD;
        texts.push(text("title", `${b.group.title} (${b.group.members.length})`, x0, b.header.y + 4 + 12, TITLE, { bold: true, fill: "#fff" }));
        badges.get(b.group.id)!.forEach((s, k) => texts.push(text("badge", s, x0, b.header.y + 4 + 15 + LINE * (k + 1) - 1, BADGE, { fill: "#fff" })));
        for (const r of b.rows) {
            const base = r.rect.y + r.rect.h / 2 + 4;
            texts.push(text("member", r.member.name, x0, base, NAME, { bold: true }));
            if (addresses && r.member.address) texts.push(text("address", r.member.address, b.rect.x + b.rect.w - PAD, base, ADDRESS, { anchor: "end", fill: "#555" }));
        }
    }
    const texts: DrawnText[] = [...boxes.values()].flatMap((b) => b.texts);
    const nodeCount = groups.filter((g) => g.kind === "node").reduce((n, g) => n + g.members.length, 0);
    const frame = frameColumn >= 0 ? { x: frameX, y: MARGIN, w: frameRight - frameX, h: bandBottom + 8 - MARGIN } : undefined;
    if (frame) texts.push(text("frame", `every node (${nodeCount})`, frame.x + 8, frameTitleY, LABEL, { bold: true, fill: KIND_COLOURS.node }));

    // The legend, in rows under the drawing.
    const legendItems: { kind: DiagramLayout["legend"][number]["kind"]; colour?: string; text: string }[] = [
        { kind: "swatch", colour: KIND_COLOURS.node, text: "node" },
        { kind: "swatch", colour: KIND_COLOURS.operator, text: "operator peer" },
        { kind: "swatch", colour: KIND_COLOURS.client, text: "gateway client" },
        { kind: "bundle", text: "from or to a whole group: every pair of its members, on exactly these ports" },
        { kind: "member", text: "from or to one member (where it differs from its group)" },
        { kind: "client", text: "through the mTLS gateway" },
        { kind: "frame", text: "every node" },
    ];
    const width = Math.max(columnsRight + MARGIN, 480);
    const legend: DiagramLayout["legend"] = [];
    let lx = MARGIN;
    let ly = (frame ? frame.y + frame.h : bandBottom) + 14;
    for (const item of legendItems) {
        const sample = item.kind === "swatch" ? 14 : 28;
        const w = sample + 6 + textWidth(item.text, LABEL) + 18;
        if (lx > MARGIN && lx + w > width - MARGIN) { lx = MARGIN; ly += 18; }
        legend.push({ kind: item.kind, colour: item.colour, rect: { x: lx, y: ly, w: sample, h: 12 } });
        texts.push(text("legend", item.text, lx + sample + 6, ly + 10, LABEL, { fill: "#333" }));
        lx += w;
    }
    texts.push(...drawn.flatMap((d) => d.label));
    return { width: Math.ceil(width), height: Math.ceil(ly + 12 + MARGIN), ...(frame ? { frame } : {}), boxes: [...boxes.values()], links: drawn, texts, legend };
}
