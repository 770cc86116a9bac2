// Identity policy: rules name members (nodes, operator peers and gateway clients) or tags, never
// addresses. One compilation feeds every enforcement point: WireGuard peers, each node's firewall
// and the gateways' allowlists. Pure code: plain data in, plain data out.
import { ValidationError, checkName, checkTag } from "./validate";

export type Protocol = "tcp" | "udp";

export interface PortRange {
    proto: Protocol;
    first: number;
    last: number;
}

export interface PolicyRule {
    /** Who opens the connection: a member name, "tag:<tag>" or "*". */
    from: string;
    /** Which node accepts it: a node name, "tag:<tag>" or "*". */
    to: string;
    /** "tcp/5432", "udp/53", "tcp/8000-8100". */
    ports: string[];
}

/** [from, to, port] triples checked against the compiled policy during preview. */
export interface PolicyExpectations {
    reachable?: [string, string, string][];
    blocked?: [string, string, string][];
}

export interface PolicyMember {
    name: string;
    tags: string[];
    /**
     * Nodes run a firewall and accept connections; operator peers only open them. Clients hold a
     * certificate from the InternalCA and reach nodes only through an MtlsGateway: they are not
     * on the mesh, so their allows become gateway allowlists, never peers or firewall rules.
     */
    kind: "node" | "operator" | "client";
    /** Management peers may SSH to every node over the mesh and peer with every node. */
    management: boolean;
}

export interface Allow {
    from: string;
    to: string;
    port: PortRange;
    /** Index of the rule in the rules list; -1 for the SSH access that management implies. */
    rule: number;
}

export interface CompiledPolicy {
    members: PolicyMember[];
    /** Every (from, to, port) the policy allows over the mesh, member to member, without duplicates. */
    allows: Allow[];
    /** What the policy allows clients: the (client, node, port) a gateway on that node and port admits. */
    clientAllows: Allow[];
    /** For each member, the members it has a WireGuard peer entry for, sorted. */
    peers: Record<string, string[]>;
    /** For each node, the allows into it (an index of `allows`: a firewall reads only its own). */
    allowsTo: Record<string, Allow[]>;
}

export const SSH_PORT: PortRange = { proto: "tcp", first: 22, last: 22 };

export function parsePort(field: string, text: unknown): PortRange {
    const m = typeof text === "string" ? /^(tcp|udp)\/(\d{1,5})(?:-(\d{1,5}))?$/.exec(text) : null;
    const first = m ? Number(m[2]) : NaN;
    const last = m ? Number(m[3] ?? m[2]) : NaN;
    if (!m || first < 1 || last > 65535 || last < first) {
        throw new ValidationError(field, text, "expected tcp/<port>, udp/<port> or tcp/<first>-<last> with ports 1-65535");
    }
    return { proto: m[1] as Protocol, first, last };
}

export function formatPort(p: PortRange): string {
    return p.first === p.last ? `${p.proto}/${p.first}` : `${p.proto}/${p.first}-${p.last}`;
}

function portCovers(range: PortRange, probe: PortRange): boolean {
    return range.proto === probe.proto && range.first <= probe.first && probe.last <= range.last;
}

/** Members a selector names; `nodesOnly` for the `to` side, where only nodes accept traffic. */
function select(field: string, selector: unknown, members: PolicyMember[], nodesOnly: boolean): PolicyMember[] {
    if (typeof selector !== "string") throw new ValidationError(field, selector, "expected a member name, tag:<tag> or *");
    const pool = nodesOnly ? members.filter((m) => m.kind === "node") : members;
    let chosen: PolicyMember[];
    if (selector === "*") {
        chosen = pool;
    } else if (selector.startsWith("tag:")) {
        const tag = checkTag(field, selector.slice(4));
        chosen = pool.filter((m) => m.tags.includes(tag));
    } else {
        const name = checkName(field, selector);
        chosen = pool.filter((m) => m.name === name);
        const other = members.find((m) => m.name === name);
        if (chosen.length === 0 && other) {
            throw new ValidationError(field, selector,
                `names ${other.kind === "client" ? "a gateway client" : "an operator peer"}; only nodes accept connections`);
        }
    }
    if (chosen.length === 0) {
        throw new ValidationError(field, selector,
            `matches no ${nodesOnly ? "node" : "node, operator peer or client"}; check the spelling or add the member`);
    }
    return chosen;
}

function allowKey(a: Omit<Allow, "rule">): string {
    return `${a.from}>${a.to}>${formatPort(a.port)}`;
}

export function compilePolicy(members: PolicyMember[], rules: PolicyRule[]): CompiledPolicy {
    const allows: Allow[] = [];
    const clientAllows: Allow[] = [];
    const clients = new Set(members.filter((m) => m.kind === "client").map((m) => m.name));
    const seen = new Set<string>();
    const add = (a: Allow) => {
        if (a.from === a.to) return; // a host reaching itself never crosses the mesh
        const key = allowKey(a);
        if (!seen.has(key)) {
            seen.add(key);
            (clients.has(a.from) ? clientAllows : allows).push(a);
        }
    };
    if (!Array.isArray(rules)) throw new ValidationError("rules", rules, "expected a list of rules");
    rules.forEach((rule, i) => {
        const field = `rules[${i}]`;
        if (!Array.isArray(rule?.ports) || rule.ports.length === 0) {
            throw new ValidationError(`${field}.ports`, rule?.ports, "expected a non-empty list such as [\"tcp/5432\"]");
        }
        const sources = select(`${field}.from`, rule.from, members, false);
        const targets = select(`${field}.to`, rule.to, members, true);
        const ports = rule.ports.map((p, j) => parsePort(`${field}.ports[${j}]`, p));
        for (const s of sources) for (const t of targets) for (const port of ports) {
            add({ from: s.name, to: t.name, port, rule: i });
        }
    });
    const management = members.filter((m) => m.management && m.kind !== "client");
    for (const node of members.filter((m) => m.kind === "node")) {
        for (const m of management) add({ from: m.name, to: node.name, port: SSH_PORT, rule: -1 });
    }

    const peerSets = new Map<string, Set<string>>(members.filter((m) => m.kind !== "client").map((m) => [m.name, new Set<string>()]));
    for (const a of allows) {
        peerSets.get(a.from)!.add(a.to);
        peerSets.get(a.to)!.add(a.from);
    }
    const peers: Record<string, string[]> = {};
    for (const [name, set] of peerSets) peers[name] = [...set].sort();
    const allowsTo: Record<string, Allow[]> = Object.fromEntries(members.filter((m) => m.kind === "node").map((m) => [m.name, []]));
    for (const a of allows) allowsTo[a.to].push(a);
    return { members, allows, clientAllows, peers, allowsTo };
}

/** The allows into one node, grouped by port: what its firewall must admit. */
export function inboundAllows(policy: CompiledPolicy, node: string): { port: PortRange; sources: string[] }[] {
    const byPort = new Map<string, { port: PortRange; sources: Set<string> }>();
    for (const a of policy.allowsTo[node] ?? []) {
        const key = formatPort(a.port);
        const entry = byPort.get(key) ?? { port: a.port, sources: new Set<string>() };
        entry.sources.add(a.from);
        byPort.set(key, entry);
    }
    return [...byPort.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([, e]) => ({ port: e.port, sources: [...e.sources].sort() }));
}

/** Every allow, over the mesh and through gateways. */
function everyAllow(policy: CompiledPolicy): Allow[] {
    return [...policy.allows, ...policy.clientAllows];
}

/** The rules that allow `from` to reach `to` on `port` (empty when nothing does). */
export function rulesAllowing(policy: CompiledPolicy, from: string, to: string, port: PortRange): number[] {
    return [...new Set(everyAllow(policy)
        .filter((a) => a.from === from && a.to === to && portCovers(a.port, port))
        .map((a) => a.rule))];
}

/** The clients a gateway on `node` listening on TCP `port` admits, sorted. */
export function gatewayAllowlist(policy: CompiledPolicy, node: string, port: number): string[] {
    const probe: PortRange = { proto: "tcp", first: port, last: port };
    return [...new Set(policy.clientAllows.filter((a) => a.to === node && portCovers(a.port, probe)).map((a) => a.from))].sort();
}

function describeRule(rules: PolicyRule[], index: number): string {
    if (index < 0) return "management access (SSH from management peers)";
    const r = rules[index];
    return `rules[${index}] (${r.from} -> ${r.to} ${r.ports.join(",")})`;
}

/** Checks expect.reachable / expect.blocked; throws one error listing every failed assertion. */
export function checkExpectations(policy: CompiledPolicy, rules: PolicyRule[], expect: PolicyExpectations | undefined): void {
    if (!expect) return;
    const names = new Set(policy.members.map((m) => m.name));
    const failures: string[] = [];
    const each = (kind: "reachable" | "blocked", list: [string, string, string][] | undefined) => {
        (list ?? []).forEach((assertion, i) => {
            const field = `expect.${kind}[${i}]`;
            if (!Array.isArray(assertion) || assertion.length !== 3) {
                throw new ValidationError(field, assertion, "expected [from, to, \"tcp/<port>\"]");
            }
            const [from, to, portText] = assertion;
            for (const n of [from, to]) {
                if (!names.has(n)) throw new ValidationError(field, n, "is not a member of the mesh");
            }
            const port = parsePort(field, portText);
            const allowing = rulesAllowing(policy, from, to, port);
            if (kind === "reachable" && allowing.length === 0) {
                const related = rules.map((_, j) => j).filter((j) =>
                    everyAllow(policy).some((a) => a.rule === j && a.to === to));
                failures.push(`${field} ${from} -> ${to} ${portText} is expected reachable, but no rule allows it` +
                    (related.length ? `; rules reaching ${to}: ${related.map((j) => describeRule(rules, j)).join("; ")}` : ""));
            }
            if (kind === "blocked" && allowing.length > 0) {
                failures.push(`${field} ${from} -> ${to} ${portText} is expected blocked, but it is allowed by ` +
                    allowing.map((j) => describeRule(rules, j)).join("; "));
            }
        });
    };
    each("reachable", expect.reachable);
    each("blocked", expect.blocked);
    if (failures.length > 0) {
        throw new Error(`policy expectations failed:\n  ${failures.join("\n  ")}`);
    }
}

/** A readable matrix of who may reach whom on which ports, one line per ordered pair that has any. */
export function allowMatrix(policy: CompiledPolicy): Record<string, string[]> {
    const matrix: Record<string, string[]> = {};
    for (const a of policy.allows) {
        const key = `${a.from} -> ${a.to}`;
        (matrix[key] ??= []).push(formatPort(a.port));
    }
    for (const k of Object.keys(matrix)) matrix[k] = [...new Set(matrix[k])].sort();
    return Object.fromEntries(Object.entries(matrix).sort(([a], [b]) => a.localeCompare(b)));
}
