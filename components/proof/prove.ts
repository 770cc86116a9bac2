// The proof: for every ordered pair of mesh members (source: a node or operator peer; destination:
// a node with a firewall), every TCP and UDP port 1-65535 and ICMP echo, what reaches through the
// destination's nftables input chains and both ends' WireGuard cryptokey routing, compared exactly
// with what the compiled policy allows. Pure: the rulesets and peer entries come in as read.
import { Allow, CompiledPolicy } from "../policy";
import { Family, formatBlock, parseAddress } from "./address";
import { Acceptance, L4, PacketClass, acceptedPorts, addressBoundaries } from "./evaluate";
import { EMPTY, IntervalSet, contains, cutsOf, formatPorts, interval, intersect, pieces, subtract, union } from "./intervals";
import { NftTable } from "./ruleset";
import { PeerEntry, allowedRange, routeTo } from "./wireguard";

/** Ports per pair: TCP and UDP, 65,535 each. */
export const PORTS_PER_PAIR = 131_070;

export interface Listener {
    proto: "tcp" | "udp";
    port: number;
    /** The address it is bound to as ss prints it ("*", "0.0.0.0", "[::]", "10.77.0.5", "127.0.0.1%lo"). */
    address: string;
}

export interface ProofInput {
    policy: CompiledPolicy;
    /** Each member's mesh addresses (the IPv6 one when the mesh has a range of each). */
    addresses: Record<string, { v4: string; v6?: string }>;
    /** The WireGuard interface the mesh arrives on. */
    wgInterface: string;
    /** Each node's table as nft listed it; a node without one (retired, not configured) is left out and said so. */
    firewalls: Record<string, NftTable>;
    /** Each member's WireGuard peer entries; a member not read (a live operator's own machine) is assumed to route each address to its owner. */
    wireguard: Record<string, PeerEntry[] | undefined>;
    /** Nodes that answer mesh pings (ZeroTrustNode's meshPing). Default: every node. */
    meshPing?: Record<string, boolean>;
    /** Live hosts: the sockets that listen, per node. */
    listening?: Record<string, Listener[]>;
}

export interface Difference {
    from: string;
    to: string;
    family: Family;
    proto: L4;
    /** "1000-2000, 5432", or "echo" for ICMP. */
    ports: string;
    /** true: it reaches and the policy does not allow it; false: the policy allows it and it does not reach. */
    reaches: boolean;
    /** Where it comes from: the rule that accepts it, the peer entry, the route. */
    cause: string;
    /** Live hosts: the ports of the range something listens on (a reachable service). */
    listening?: number[];
}

export interface ProofResult {
    /** Ordered pairs proved (source member, destination node). */
    pairs: number;
    families: Family[];
    differences: Difference[];
    /** Peer entries that let a member send from addresses other than its own, keys that are no member's. */
    findings: string[];
    /** What the proof could not read, said plainly. */
    notes: string[];
    /** Live hosts that could not be read (and why): the proof does not hold while any is. */
    unread?: string[];
}

export interface Reach {
    tcp: IntervalSet;
    udp: IntervalSet;
    icmp: IntervalSet; // [0,0] or empty
}

const NONE: Reach = { tcp: EMPTY, udp: EMPTY, icmp: EMPTY };
const PROTOS: L4[] = ["tcp", "udp", "icmp"];

function addressOf(input: ProofInput, member: string, family: Family): bigint | undefined {
    const a = input.addresses[member];
    const text = family === 4 ? a?.v4 : a?.v6;
    const parsed = text === undefined ? null : parseAddress(text);
    return parsed && parsed.family === family ? parsed.value : undefined;
}

/** What the policy allows from one member to one node: its ports, and ICMP echo between peers. */
export function policyReach(policy: CompiledPolicy, from: string, to: string, meshPing: boolean): Reach {
    const r: Reach = { tcp: EMPTY, udp: EMPTY, icmp: EMPTY };
    for (const a of allowsBetween(policy, to).get(from) ?? []) r[a.port.proto] = union(r[a.port.proto], interval(a.port.first, a.port.last));
    if (meshPing && peerSet(policy, from).has(to)) r.icmp = interval(0, 0);
    return r;
}

// Indexes of a compiled policy (which is never changed once compiled), so that a pair costs no walk over every allow.
const byTarget = new WeakMap<CompiledPolicy, Map<string, Map<string, Allow[]>>>();
const peerSets = new WeakMap<CompiledPolicy, Map<string, Set<string>>>();

function allowsBetween(policy: CompiledPolicy, to: string): Map<string, Allow[]> {
    let targets = byTarget.get(policy);
    if (!targets) { targets = new Map(); byTarget.set(policy, targets); }
    let bySource = targets.get(to);
    if (!bySource) {
        bySource = new Map();
        for (const a of policy.allowsTo[to] ?? []) bySource.set(a.from, [...(bySource.get(a.from) ?? []), a]);
        targets.set(to, bySource);
    }
    return bySource;
}

function peerSet(policy: CompiledPolicy, member: string): Set<string> {
    let sets = peerSets.get(policy);
    if (!sets) { sets = new Map(); peerSets.set(policy, sets); }
    let set = sets.get(member);
    if (!set) { set = new Set(policy.peers[member] ?? []); sets.set(member, set); }
    return set;
}

function describeRule(table: NftTable, a: Acceptance): string {
    if (a.rule === "policy") return `the policy accept of chain ${a.chain}`;
    return `rule handle ${a.rule} of chain ${a.chain}`;
}

interface Traced {
    reach: Reach;
    /** Per protocol: which source block and rule accepted which ports. */
    sources: { block: string; own: boolean; proto: L4; acceptance: Acceptance }[];
    blocked?: string;
}

const entryIndex = new WeakMap<PeerEntry[], Map<string, PeerEntry>>();

function entryFor(entries: PeerEntry[] | undefined, peer: string): PeerEntry | undefined {
    if (!entries) return undefined;
    let index = entryIndex.get(entries);
    if (!index) {
        index = new Map();
        for (const e of entries) if (!index.has(e.peer)) index.set(e.peer, e);
        entryIndex.set(entries, index);
    }
    return index.get(peer);
}

/** What reaches `to` from `from` over one family, through both ends' WireGuard and `to`'s ruleset. */
function traceReach(input: ProofInput, from: string, to: string, family: Family, cuts: Map<string, bigint[]>): Traced {
    const table = input.firewalls[to];
    const daddr = addressOf(input, to, family);
    const saddr = addressOf(input, from, family);
    if (daddr === undefined || saddr === undefined) return { reach: NONE, sources: [], blocked: "no address of this family" };
    const senderEntries = input.wireguard[from];
    if (senderEntries !== undefined) {
        const via = routeTo(senderEntries, family, daddr);
        if (via !== to) return { reach: NONE, sources: [], blocked: via === undefined ? `${from} has no WireGuard route to ${to}'s address` : `${from} routes ${to}'s address to ${via}` };
    }
    const entry = entryFor(input.wireguard[to], from);
    if (!entry) return { reach: NONE, sources: [], blocked: `${to} has no WireGuard peer entry for ${from}` };
    const allowed = allowedRange(entry, family);
    if (allowed.length === 0) return { reach: NONE, sources: [], blocked: `${to}'s peer entry for ${from} holds no address of this family` };
    const key = `${to}/${family}`;
    if (!cuts.has(key)) cuts.set(key, cutsOf(addressBoundaries(table, family)));
    const reach: Reach = { tcp: EMPTY, udp: EMPTY, icmp: EMPTY };
    const sources: Traced["sources"] = [];
    // WireGuard lets in any source the entry's AllowedIPs hold: each piece the ruleset cannot tell apart is evaluated once.
    // The sender's own address is a piece of its own: what it reaches as itself is told apart from what it reaches as another.
    for (const piece of pieces(pieces(allowed, cuts.get(key)!), [saddr, saddr + 1n])) {
        const own = contains([piece], saddr);
        const representative = own ? saddr : piece[0];
        for (const l4 of PROTOS) {
            const trace: Acceptance[] = [];
            const p: PacketClass = { iifname: input.wgInterface, family, saddr: representative, daddr, l4 };
            reach[l4] = union(reach[l4], acceptedPorts(table, p, trace));
            for (const acceptance of trace) sources.push({ block: formatBlock(family, piece), own, proto: l4, acceptance });
        }
    }
    return { reach, sources };
}

/** What reaches `to` from `from` over one family (TCP and UDP ports; ICMP echo as [0,0] or nothing). */
export function reachBetween(input: ProofInput, from: string, to: string, family: Family): Reach {
    if (!input.firewalls[to]) throw new Error(`no firewall of ${to} in the proof's input`);
    return traceReach(input, from, to, family, new Map()).reach;
}

function causeOfExtra(table: NftTable, t: Traced, from: string, to: string, proto: L4, ports: IntervalSet): string {
    const parts: string[] = [];
    for (const s of t.sources) {
        if (s.proto !== proto || intersect(s.acceptance.ports, ports).length === 0) continue;
        parts.push(s.own
            ? `accepted by ${describeRule(table, s.acceptance)} from ${from}'s own address`
            : `accepted by ${describeRule(table, s.acceptance)} from source ${s.block}, which ${to}'s WireGuard entry for ${from} lets in (AllowedIPs wider than ${from}'s address)`);
    }
    return [...new Set(parts)].join("; ");
}

/** The ports of a range that a socket listens on for mesh traffic: bound to any address or the mesh one, and to no other interface. */
function listenersIn(listening: Listener[] | undefined, proto: L4, ports: IntervalSet, meshAddress: string | undefined, wgInterface: string): number[] | undefined {
    if (!listening || proto === "icmp") return undefined;
    const bare = (a: string) => a.replace(/%.*$/, "").replace(/^\[|\]$/g, "");
    const device = (a: string) => /%([^\]]+)/.exec(a)?.[1];
    const hit = listening.filter((l) => l.proto === proto && contains(ports, BigInt(l.port)) &&
        ["*", "0.0.0.0", "::", meshAddress].includes(bare(l.address)) && [undefined, wgInterface].includes(device(l.address)));
    return [...new Set(hit.map((l) => l.port))].sort((a, b) => a - b);
}

/** Proves a mesh: every difference between what reaches and what the policy allows. */
export function proveMesh(input: ProofInput): ProofResult {
    const { policy } = input;
    const sources = policy.members.filter((m) => m.kind !== "client").map((m) => m.name);
    const nodes = policy.members.filter((m) => m.kind === "node").map((m) => m.name);
    const families: Family[] = Object.values(input.addresses).some((a) => a.v6 !== undefined) ? [4, 6] : [4];
    const notes: string[] = [];
    const findings: string[] = [];
    const unproved = nodes.filter((n) => !input.firewalls[n]);
    if (unproved.length) notes.push(`no firewall to prove on ${unproved.join(", ")} (not configured by this stack)`);
    const unread = sources.filter((s) => input.wireguard[s] === undefined);
    if (unread.length) notes.push(`WireGuard routing of ${unread.join(", ")} not read (not a host): assumed to send each address to its owner`);
    for (const [member, entries] of Object.entries(input.wireguard)) {
        for (const e of entries ?? []) {
            if (e.peer.startsWith("unknown key")) { findings.push(`${member} has a WireGuard peer entry with an ${e.peer} (AllowedIPs ${e.allowedIps.join(", ") || "none"})`); continue; }
            const own = [input.addresses[e.peer]?.v4, input.addresses[e.peer]?.v6].filter((a): a is string => a !== undefined);
            for (const family of families) {
                const extra = subtract(allowedRange(e, family), union(...own.map((a) => parseAddress(a)!).filter((a) => a.family === family).map((a) => interval(a.value, a.value))));
                if (extra.length) findings.push(`${member}'s WireGuard entry for ${e.peer} lets in ${extra.map((r) => formatBlock(family, r)).join(", ")} beside ${e.peer}'s own address`);
            }
        }
    }
    const differences: Difference[] = [];
    const boundaries = new Map<string, bigint[]>();
    let pairs = 0;
    for (const to of nodes.filter((n) => input.firewalls[n])) {
        for (const from of sources) {
            if (from === to) continue;
            pairs++;
            const expected = policyReach(policy, from, to, input.meshPing?.[to] ?? true);
            for (const family of families) {
                const t = traceReach(input, from, to, family, boundaries);
                for (const proto of PROTOS) {
                    const extra = subtract(t.reach[proto], expected[proto]);
                    const missing = subtract(expected[proto], t.reach[proto]);
                    const text = (s: IntervalSet) => (proto === "icmp" ? "echo" : formatPorts(s));
                    const meshAddress = family === 4 ? input.addresses[to]?.v4 : input.addresses[to]?.v6;
                    if (extra.length) {
                        const listening = listenersIn(input.listening?.[to], proto, extra, meshAddress, input.wgInterface);
                        differences.push({ from, to, family, proto, ports: text(extra), reaches: true, cause: causeOfExtra(input.firewalls[to], t, from, to, proto, extra), ...(listening ? { listening } : {}) });
                    }
                    if (missing.length) {
                        differences.push({ from, to, family, proto, ports: text(missing), reaches: false, cause: t.blocked ?? `${to}'s firewall drops it` });
                    }
                }
            }
        }
    }
    return { pairs, families, differences, findings, notes };
}

/** True when the proof found what reaches equal to the policy everywhere it looked. */
export function proofHolds(r: ProofResult): boolean {
    return r.differences.length === 0 && r.findings.length === 0 && (r.unread ?? []).length === 0;
}


