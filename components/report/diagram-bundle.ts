// What the reach diagram draws, before any geometry: members grouped by role (kind and first tag),
// and the allowed pairs bundled into as few links as say exactly the same. A link from or to a
// group stands for every pair of its members (never a member with itself) on exactly its ports;
// a pair whose ports differ from its group's, or whose group is not reached as a whole, gets a link
// of its own at member level. Every allowed pair is in exactly one link. Pure.
import { ReportAllow, ReportMember } from "./model";

export interface DiagramGroup {
    /** Stable id: kind and tag, e.g. "node:app", or "node:" for untagged nodes. */
    id: string;
    kind: ReportMember["kind"];
    tag?: string;
    /** As the policy names it: "tag:app", or "nodes without a tag". */
    title: string;
    /** Sorted by name, numbers in names compared as numbers (app-2 before app-10). */
    members: ReportMember[];
}

/** One end of a link: a member (inside its group's box), a whole group, or every node. */
export type LinkEnd =
    | { level: "member"; group: string; member: string }
    | { level: "group"; group: string }
    | { level: "nodes" };

export interface DiagramLink {
    from: LinkEnd;
    to: LinkEnd;
    ports: string[];
    /** The (from, to) member pairs the link stands for, sorted. */
    pairs: [string, string][];
    /** Clients reach nodes only through a gateway (mTLS), never over the mesh. */
    client: boolean;
}

export interface Bundled {
    groups: DiagramGroup[];
    links: DiagramLink[];
}

export const byName = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true }) || (a < b ? -1 : a > b ? 1 : 0);

const KIND_ORDER: ReportMember["kind"][] = ["operator", "client", "node"];
const KIND_TITLE: Record<ReportMember["kind"], string> = { node: "nodes", operator: "operator peers", client: "gateway clients" };

/** Groups by kind and first tag (a member's first tag is its role): the tags the policy's rules name. */
export function groupMembers(members: ReportMember[]): DiagramGroup[] {
    const groups = new Map<string, DiagramGroup>();
    for (const m of [...members].sort((a, b) => byName(a.name, b.name))) {
        const tag = m.tags[0];
        const id = `${m.kind}:${tag ?? ""}`;
        const g = groups.get(id) ?? { id, kind: m.kind, ...(tag !== undefined ? { tag } : {}), title: tag !== undefined ? `tag:${tag}` : `${KIND_TITLE[m.kind]} without a tag`, members: [] };
        g.members.push(m);
        groups.set(id, g);
    }
    return [...groups.values()].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || byName(a.title, b.title));
}

const pairKey = (from: string, to: string) => `${from}\0${to}`;

export function bundleAllows(members: ReportMember[], allowed: ReportAllow[]): Bundled {
    const groups = groupMembers(members);
    const groupOf = new Map(groups.flatMap((g) => g.members.map((m) => [m.name, g.id] as const)));
    const kindOf = new Map(members.map((m) => [m.name, m.kind]));
    const nodes = groups.filter((g) => g.kind === "node");
    const allNodes = nodes.flatMap((g) => g.members.map((m) => m.name));
    // What is still to be drawn: pair -> its ports, sorted and joined.
    const remaining = new Map<string, { from: string; to: string; ports: string }>();
    for (const a of allowed) {
        if (!groupOf.has(a.from) || !groupOf.has(a.to) || a.ports.length === 0) continue;
        remaining.set(pairKey(a.from, a.to), { from: a.from, to: a.to, ports: [...new Set(a.ports)].sort(byName).join(" ") });
    }
    const links: DiagramLink[] = [];

    // The link from `sources` to `targets`, if every pair between them is still to be drawn and most
    // of them have the same ports: on those ports; the others stay for a finer link.
    const take = (from: LinkEnd, to: LinkEnd, sources: string[], targets: string[]) => {
        const cells = [];
        for (const s of sources) for (const t of targets) {
            if (s === t) continue;
            const cell = remaining.get(pairKey(s, t));
            if (!cell) return;
            cells.push(cell);
        }
        if (cells.length === 0) return;
        const counts = new Map<string, number>();
        for (const c of cells) counts.set(c.ports, (counts.get(c.ports) ?? 0) + 1);
        const [ports, count] = [...counts].sort(([pa, a], [pb, b]) => b - a || byName(pa, pb))[0];
        // A bundle says what most of its pairs have; otherwise finer arrows say it better.
        if (cells.length > 1 && 2 * count <= cells.length) return;
        const pairs = cells.filter((c) => c.ports === ports);
        for (const c of pairs) remaining.delete(pairKey(c.from, c.to));
        links.push({ from, to, ports: ports.split(" "), pairs: pairs.map((c) => [c.from, c.to] as [string, string]), client: kindOf.get(sources[0]) === "client" });
    };
    const names = (g: DiagramGroup) => g.members.map((m) => m.name);
    const memberEnd = (name: string): LinkEnd => ({ level: "member", group: groupOf.get(name)!, member: name });

    // Coarsest first: a group to every node (only worth saying when there are several node groups),
    // a group to a group, a member to a group or a group to a member, and last a member to a member.
    if (nodes.length > 1) for (const g of groups) take({ level: "group", group: g.id }, { level: "nodes" }, names(g), allNodes);
    for (const a of groups) for (const b of nodes) take({ level: "group", group: a.id }, { level: "group", group: b.id }, names(a), names(b));
    if (nodes.length > 1) for (const g of groups) for (const m of names(g)) if (g.members.length > 1) take(memberEnd(m), { level: "nodes" }, [m], allNodes);
    // Within one group, member to member: an arrow from a member to its own group would read as a loop.
    for (const a of groups) for (const m of names(a)) for (const b of nodes) {
        if (b.members.length > 1 && b !== a) take(memberEnd(m), { level: "group", group: b.id }, [m], names(b));
    }
    for (const a of groups) for (const b of nodes) for (const m of names(b)) {
        if (a.members.length > 1 && b !== a) take({ level: "group", group: a.id }, memberEnd(m), names(a), [m]);
    }
    for (const c of [...remaining.values()].sort((x, y) => byName(x.from, y.from) || byName(x.to, y.to))) {
        take(memberEnd(c.from), memberEnd(c.to), [c.from], [c.to]);
    }
    for (const l of links) l.pairs.sort(([a1, b1], [a2, b2]) => byName(a1, a2) || byName(b1, b2));
    return { groups, links };
}
