// The reach diagram's layout as pure functions: every allowed pair drawn exactly once (in a bundle
// or on its own), nothing claimed that the policy does not allow, no two boxes or texts on top of
// each other, no arrow through a box, nothing outside the picture, and the same picture for the
// same policy whatever order it comes in. On the seeds' nine members, the sixty members' mesh,
// and random policies that leave many pairs to member-level arrows.
import test from "ava";
import { bundleAllows, DiagramLink, LinkEnd } from "../../components/report/diagram-bundle";
import { DiagramLayout, Rect, layoutDiagram } from "../../components/report/diagram-layout";
import { reachDiagram } from "../../components/report/diagram";
import { ReportAllow, ReportMember } from "../../components/report";
import { seedAuditData } from "../report/fixture";
import { mesh60AuditData } from "../report/fixture-60";

const seed = seedAuditData();
const m60 = mesh60AuditData();

/** A small deterministic generator, so a failing random case can be replayed. */
function prng(seedValue: number): () => number {
    let s = seedValue >>> 0;
    return () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** Members in a few tags, and allows that are partly by tag, partly by member, partly random ports. */
function randomPolicy(seedValue: number): { members: ReportMember[]; allowed: ReportAllow[] } {
    const r = prng(seedValue);
    const tags = ["a", "b", "c", "d", "e"];
    const members: ReportMember[] = [];
    for (let i = 0; i < 30; i++) {
        const kind = i < 4 ? "operator" : i < 9 ? "client" : "node";
        members.push({ name: `${kind}-${i}`, kind, tags: r() < 0.1 ? [] : [tags[Math.floor(r() * tags.length)]], ...(kind !== "client" ? { address: `10.9.0.${i + 1}` } : {}) });
    }
    const nodes = members.filter((m) => m.kind === "node");
    const allows = new Map<string, Set<string>>();
    const add = (f: string, t: string, p: string) => {
        if (f !== t) allows.set(`${f}>${t}`, (allows.get(`${f}>${t}`) ?? new Set()).add(p));
    };
    for (let k = 0; k < 8; k++) {
        const ft = tags[Math.floor(r() * tags.length)];
        const tt = tags[Math.floor(r() * tags.length)];
        const port = `tcp/${1000 + Math.floor(r() * 50)}`;
        for (const f of members.filter((m) => m.tags[0] === ft)) for (const t of nodes.filter((m) => m.tags[0] === tt)) add(f.name, t.name, port);
    }
    for (let k = 0; k < 25; k++) add(members[Math.floor(r() * members.length)].name, nodes[Math.floor(r() * nodes.length)].name, `udp/${Math.floor(r() * 3) + 50}`);
    for (const n of nodes) add("operator-0", n.name, "tcp/22");
    const allowed = [...allows].map(([k, ports]) => ({ from: k.split(">")[0], to: k.split(">")[1], ports: [...ports].sort() }));
    return { members, allowed };
}

const cases: [string, { members: ReportMember[]; allowed: ReportAllow[] }][] = [
    ["the seeds' nine members", seed],
    ["sixty members", m60],
    ...[1, 2, 3, 4, 5, 6].map((n): [string, { members: ReportMember[]; allowed: ReportAllow[] }] => [`random policy ${n}`, randomPolicy(n)]),
];

function membersOf(end: LinkEnd, groups: ReturnType<typeof bundleAllows>["groups"]): string[] {
    if (end.level === "member") return [end.member];
    if (end.level === "group") return groups.find((g) => g.id === end.group)!.members.map((m) => m.name);
    return groups.filter((g) => g.kind === "node").flatMap((g) => g.members.map((m) => m.name));
}

const overlap = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const within = (a: Rect, b: Rect) => a.x >= b.x - 0.01 && a.y >= b.y - 0.01 && a.x + a.w <= b.x + b.w + 0.01 && a.y + a.h <= b.y + b.h + 0.01;

for (const [name, { members, allowed }] of cases) {
    test(`bundles, ${name}: every allowed pair in exactly one link, on exactly its ports; a link claims no pair the policy does not allow`, (t) => {
        const { groups, links } = bundleAllows(members, allowed);
        const portsOf = new Map(allowed.map((a) => [`${a.from}>${a.to}`, [...a.ports].sort().join(" ")]));
        const drawnIn = new Map<string, DiagramLink[]>();
        for (const l of links) for (const [f, to] of l.pairs) drawnIn.set(`${f}>${to}`, [...(drawnIn.get(`${f}>${to}`) ?? []), l]);
        for (const key of portsOf.keys()) t.is(drawnIn.get(key)?.length, 1, `${key} is drawn once`);
        t.is(drawnIn.size, portsOf.size, "no link draws a pair the policy does not have");
        for (const l of links) {
            for (const [f, to] of l.pairs) t.is([...l.ports].sort().join(" "), portsOf.get(`${f}>${to}`) ?? "(not allowed)", `${f}>${to} has the ports of its link`);
            // What a link says of its ends holds for each pair between them: allowed on these ports,
            // or drawn by another arrow that shows its own (different) ports.
            for (const f of membersOf(l.from, groups)) for (const to of membersOf(l.to, groups)) {
                if (f === to) continue;
                const key = `${f}>${to}`;
                t.true(portsOf.has(key), `${key} is allowed, as the link ${JSON.stringify(l.from)} -> ${JSON.stringify(l.to)} says`);
                const own = drawnIn.get(key)![0];
                if (own !== l) t.notDeepEqual(own.ports, l.ports, `${key} differs from its group's link, and shows it`);
            }
        }
        for (const l of links) {
            const product = membersOf(l.from, groups).flatMap((f) => membersOf(l.to, groups).filter((to) => to !== f)).length;
            if (product > 1) t.true(2 * l.pairs.length > product, "a bundle's ports are those of most of its pairs");
            const mixed = [l.from, l.to].some((e) => e.level === "member") && [l.from, l.to].some((e) => e.level === "group");
            if (mixed && l.from.level !== "nodes" && l.to.level !== "nodes") t.not(l.from.group, l.to.group, "no arrow between a member and its own group");
        }
        const groupOf = new Map(groups.flatMap((g) => g.members.map((m) => [m.name, g.id])));
        for (const m of members) t.is(groupOf.get(m.name), `${m.kind}:${m.tags[0] ?? ""}`, `${m.name} is in its role's group`);
    });

    test(`layout, ${name}: no box, text or label on another, no arrow through a box, nothing outside the picture`, (t) => {
        const layout: DiagramLayout = layoutDiagram(members, allowed);
        const view = { x: 0, y: 0, w: layout.width, h: layout.height };
        const boxes = layout.boxes.map((b) => b.rect);
        boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b) => t.false(overlap(a, b), `boxes ${JSON.stringify(a)} and ${JSON.stringify(b)}`)));
        for (const b of layout.boxes) {
            t.true(within(b.rect, view));
            for (const r of b.rows) t.true(within(r.rect, b.rect), `${r.member.name}'s line is in its box`);
            for (const x of b.texts) t.true(within(x.rect, b.rect), `"${x.text}" is in its box`);
        }
        t.is(layout.boxes.reduce((n, b) => n + b.rows.length, 0), members.length, "every member is drawn");
        const texts = layout.texts.filter((x) => x.text !== "");
        texts.forEach((a, i) => texts.slice(i + 1).forEach((b) => t.false(overlap(a.rect, b.rect), `"${a.text}" and "${b.text}" overlap`)));
        for (const x of texts) {
            t.true(within(x.rect, view), `"${x.text}" is inside the picture`);
            if (x.role === "label" || x.role === "frame" || x.role === "legend") for (const b of boxes) t.false(overlap(x.rect, b), `label "${x.text}" is off every box`);
        }
        for (const d of layout.links) {
            if (d.route === "badge") {
                t.true(layout.texts.some((x) => x.role === "badge" && d.link.ports.some((p) => x.text.includes(p))), "a badge is written in its header");
                continue;
            }
            t.true(d.label.length > 0 && d.label.map((x) => x.text).join(" ") === d.link.ports.join(" "), "an arrow's label says its ports");
            for (const [px, py] of d.points) {
                t.true(px >= 0 && px <= layout.width && py >= 0 && py <= layout.height, "the arrow stays in the picture");
                for (const b of boxes) t.false(px > b.x + 0.5 && px < b.x + b.w - 0.5 && py > b.y + 0.5 && py < b.y + b.h - 0.5, `an arrow passes through a box at ${px},${py}`);
            }
        }
        for (const s of layout.legend) t.true(within(s.rect, view));
    });
}

test("the seeds' policy draws as four arrows: staff to the gateway through mTLS, gateway to the apps, the apps to db, the operator to every node", (t) => {
    const { links } = bundleAllows(seed.members, seed.allowed);
    const end = (e: LinkEnd) => (e.level === "member" ? e.member : e.level === "group" ? e.group : "every node");
    t.deepEqual(links.map((l) => `${end(l.from)} -> ${end(l.to)} ${l.ports.join(" ")}${l.client ? " (mTLS)" : ""}`).sort(), [
        "client:staff -> node:edge tcp/443 (mTLS)",
        "node:app -> node:data tcp/5432",
        "node:edge -> node:app tcp/8080",
        "operator:admin -> every node tcp/22",
    ]);
});

test("sixty members: a few dozen arrows for hundreds of pairs, and the pairs that differ from their group drawn at member level", (t) => {
    const { links } = bundleAllows(m60.members, m60.allowed);
    const pairs = m60.allowed.length;
    t.true(pairs > 400, `${pairs} allowed pairs`);
    t.true(links.length <= 25, `${links.length} links`);
    const find = (f: string, to: string) => links.find((l) => (l.from.level === "member" ? l.from.member : l.from.level === "group" ? l.from.group : "*") === f &&
        (l.to.level === "member" ? l.to.member : l.to.level === "group" ? l.to.group : "*") === to);
    t.deepEqual(find("api-1", "pg-1")?.ports, ["tcp/5432", "tcp/6432"], "api-1 reaches pg-1 on one more port than its group");
    t.deepEqual(find("node:api", "node:db")?.pairs.length, 39, "the rest of api to db is one bundle");
    t.deepEqual(find("ops-1", "node:db")?.ports, ["tcp/22", "tcp/5432"], "ops-1 reaches the databases as no other operator does");
    t.deepEqual(find("operator:admin", "*")?.ports, ["tcp/22"]);
    t.deepEqual(find("client:partner", "gw-3")?.ports, ["tcp/8443"], "partners reach one gateway, not their group");
    t.deepEqual(find("node:monitoring", "*")?.ports, ["tcp/9100"]);
    t.deepEqual(find("node:db", "node:db")?.pairs.length, 12, "the databases reach each other");
});

test("the picture is the same for the same policy, whatever order members and allows come in", (t) => {
    for (const { members, allowed } of [seed, m60, randomPolicy(7)]) {
        const svg = reachDiagram(members, allowed);
        t.is(reachDiagram(members, allowed), svg);
        const r = prng(99);
        const shuffle = <T>(xs: T[]) => xs.map((x) => [r(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);
        t.is(reachDiagram(shuffle(members), shuffle(allowed).map((a) => ({ ...a, ports: shuffle(a.ports) }))), svg);
    }
});

test("the sixty members fit the report's column at full text size: names without addresses; nine keep their addresses", (t) => {
    const big = layoutDiagram(m60.members, m60.allowed);
    t.true(big.width <= 1150, `${big.width}px wide`);
    t.false(big.texts.some((x) => x.role === "address"));
    const small = layoutDiagram(seed.members, seed.allowed);
    t.is(small.texts.filter((x) => x.role === "address").length, seed.members.filter((m) => m.address).length);
});
