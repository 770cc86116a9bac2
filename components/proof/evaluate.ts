// Evaluates a table's input chains for one class of packet (an interface, a source and a
// destination address, a protocol) over the whole destination port space at once: each rule's
// condition is a set of port intervals, the rules are walked in order, and what the first verdict
// decides is taken out of the undecided ports. Nothing is skipped: an expression, statement or
// value this evaluator does not know stops it with a ProofError that names it. Pure.
import { Address, Family, parseAddress, prefixInterval } from "./address";
import { EMPTY, IntervalSet, intersect, interval, subtract, union } from "./intervals";
import { Json, NftSet, NftTable, ProofError, show } from "./ruleset";

export type L4 = "tcp" | "udp" | "icmp";

/** A new connection's first packet arriving on `iifname`. ICMP means an echo request (ICMPv6 on IPv6). */
export interface PacketClass {
    iifname: string;
    family: Family;
    saddr: bigint;
    daddr: bigint;
    l4: L4;
}

export const PORTS: IntervalSet = interval(1, 65535);
/** ICMP has no port: a one-value domain, "all" or "nothing". */
const NO_PORT: IntervalSet = interval(0, 0);

const PROTO_NUMBERS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, "ipv6-icmp": 58, icmpv6: 58 };

const isObject = (v: Json | undefined): v is { [k: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);

/** What a left-hand expression reads of the packet. */
type Field =
    | { kind: "absent" } // the header is not in this packet: every match on it is false
    | { kind: "port" } // the destination port: the symbolic part
    | { kind: "name"; value: string } // an interface name, ct state, ICMP type, nfproto
    | { kind: "number"; value: number } // a protocol number
    | { kind: "address"; family: Family; value: bigint }
    | { kind: "unmodelled"; why: string }; // fails the proof if a value is ever compared with it

function l4Number(p: PacketClass): number {
    return p.l4 === "icmp" ? (p.family === 4 ? 1 : 58) : PROTO_NUMBERS[p.l4];
}

function readField(left: Json, p: PacketClass): Field {
    if (isObject(left) && isObject(left.meta)) {
        switch (left.meta.key) {
            case "iifname": return { kind: "name", value: p.iifname };
            case "l4proto": return { kind: "number", value: l4Number(p) };
            case "nfproto": return { kind: "name", value: p.family === 4 ? "ipv4" : "ipv6" };
        }
    }
    if (isObject(left) && isObject(left.ct) && left.ct.key === "state" && left.ct.dir === undefined) {
        return { kind: "name", value: "new" };
    }
    if (isObject(left) && isObject(left.payload) && typeof left.payload.protocol === "string") {
        const { protocol, field } = left.payload;
        const icmp = p.family === 4 ? "icmp" : "icmpv6";
        switch (`${protocol} ${field}`) {
            case "ip saddr": return p.family === 4 ? { kind: "address", family: 4, value: p.saddr } : { kind: "absent" };
            case "ip daddr": return p.family === 4 ? { kind: "address", family: 4, value: p.daddr } : { kind: "absent" };
            case "ip6 saddr": return p.family === 6 ? { kind: "address", family: 6, value: p.saddr } : { kind: "absent" };
            case "ip6 daddr": return p.family === 6 ? { kind: "address", family: 6, value: p.daddr } : { kind: "absent" };
            case "ip protocol": return p.family === 4 ? { kind: "number", value: l4Number(p) } : { kind: "absent" };
            case "ip6 nexthdr": return p.family === 6 ? { kind: "number", value: l4Number(p) } : { kind: "absent" };
            case "tcp dport": return p.l4 === "tcp" ? { kind: "port" } : { kind: "absent" };
            case "udp dport": return p.l4 === "udp" ? { kind: "port" } : { kind: "absent" };
            case "th dport":
                // Read only if what comes before it in a concatenation matched (l4proto usually rules ICMP out).
                if (p.l4 === "icmp") return { kind: "unmodelled", why: `${show(left)} on an ICMP packet reads the ICMP header, which this proof does not model` };
                return { kind: "port" };
            case "icmp type": return p.l4 === "icmp" && icmp === "icmp" ? { kind: "name", value: "echo-request" } : { kind: "absent" };
            case "icmpv6 type": return p.l4 === "icmp" && icmp === "icmpv6" ? { kind: "name", value: "echo-request" } : { kind: "absent" };
        }
    }
    throw new ProofError(`expression ${show(left)} is not one this proof evaluates`);
}

/** The ports (or, for a fixed field, all or nothing) that one value of a set or a match's right side covers. */
function valueCovers(field: Field, value: Json, domain: IntervalSet): IntervalSet {
    if (field.kind === "unmodelled") throw new ProofError(field.why);
    if (isObject(value) && Array.isArray(value.range) && value.range.length === 2) {
        const [a, b] = value.range;
        if (field.kind === "port" && typeof a === "number" && typeof b === "number") return intersect(domain, interval(a, b));
        if (field.kind === "address" && typeof a === "string" && typeof b === "string") {
            const x = parseAddress(a), y = parseAddress(b);
            if (x && y && x.family === field.family && y.family === field.family) return x.value <= field.value && field.value <= y.value ? domain : EMPTY;
        }
        if (field.kind === "number" && typeof a === "number" && typeof b === "number") return a <= field.value && field.value <= b ? domain : EMPTY;
        throw new ProofError(`range ${show(value)} does not fit ${field.kind}`);
    }
    if (isObject(value) && isObject(value.prefix) && typeof value.prefix.addr === "string" && typeof value.prefix.len === "number") {
        const a = parseAddress(value.prefix.addr);
        if (field.kind !== "address" || !a || a.family !== field.family) throw new ProofError(`prefix ${show(value)} does not fit ${field.kind}`);
        const [lo, hi] = prefixInterval(a.family, a.value, value.prefix.len);
        return lo <= field.value && field.value <= hi ? domain : EMPTY;
    }
    switch (field.kind) {
        case "port":
            if (typeof value === "number") return intersect(domain, interval(value, value));
            break;
        case "number":
            if (typeof value === "number") return value === field.value ? domain : EMPTY;
            if (typeof value === "string" && value in PROTO_NUMBERS) return PROTO_NUMBERS[value] === field.value ? domain : EMPTY;
            break;
        case "name":
            if (typeof value === "string") {
                // Interface names may end in a wildcard ("eth*"); nothing else does.
                const matches = value.endsWith("*") ? field.value.startsWith(value.slice(0, -1)) : value === field.value;
                return matches ? domain : EMPTY;
            }
            break;
        case "address":
            if (typeof value === "string") {
                const a: Address | null = parseAddress(value);
                if (a && a.family === field.family) return a.value === field.value ? domain : EMPTY;
            }
            break;
    }
    throw new ProofError(`value ${show(value)} does not fit a ${field.kind} field`);
}

/** What a concatenation's element covers: every fixed component must hold, the port component gives the ports. */
function concatCovers(fields: Field[], element: Json, domain: IntervalSet, setName: string): IntervalSet {
    if (!isObject(element) || !Array.isArray(element.concat) || element.concat.length !== fields.length) {
        throw new ProofError(`element ${show(element)} of set ${setName} does not match its ${fields.length}-part key`);
    }
    let covered = domain;
    for (let i = 0; i < fields.length && covered.length > 0; i++) {
        const f = fields[i];
        covered = f.kind === "absent" ? EMPTY : intersect(covered, valueCovers(f, element.concat[i], domain));
    }
    return covered;
}

/** A set's elements by the exact address they start with (the rest: prefixes, ranges), so a lookup reads only what can match. */
const addressIndex = new WeakMap<NftSet, { exact: Map<string, Json[]>; rest: Json[] }>();

function candidates(set: NftSet, first: { family: Family; value: bigint }): Json[] {
    let index = addressIndex.get(set);
    if (!index) {
        index = { exact: new Map(), rest: [] };
        for (const e of set.elements) {
            const head = isObject(e) && Array.isArray(e.concat) ? e.concat[0] : e;
            const a = typeof head === "string" ? parseAddress(head) : null;
            if (a) {
                const key = `${a.family}:${a.value}`;
                index.exact.set(key, [...(index.exact.get(key) ?? []), e]);
            } else {
                index.rest.push(e);
            }
        }
        addressIndex.set(set, index);
    }
    return [...(index.exact.get(`${first.family}:${first.value}`) ?? []), ...index.rest];
}

function setElements(table: NftTable, ref: string): NftSet {
    const set = table.sets.get(ref.slice(1));
    if (!set) throw new ProofError(`set ${ref} is not in the listing`);
    return set;
}

/** The ports for which `left op right` holds. */
function evalMatch(table: NftTable, m: Json, p: PacketClass, domain: IntervalSet): IntervalSet {
    if (!isObject(m) || typeof m.op !== "string" || !("left" in m) || !("right" in m)) throw new ProofError(`match ${show(m)} is not one this proof evaluates`);
    const { op, left, right } = m;
    const concat = isObject(left) && Array.isArray(left.concat);
    // Every component is read; one the proof cannot model fails only if a value is compared with it (concatCovers stops at the first miss).
    const fields: Field[] = concat ? (left.concat as Json[]).map((l) => readField(l, p)) : [readField(left, p)];
    if (fields.some((f) => f.kind === "absent")) return EMPTY;
    // Flags (ct state): "in" with a list or a single flag, "==" with one.
    if (!concat && fields[0].kind === "name" && isObject(left) && isObject(left.ct)) {
        const flags = Array.isArray(right) ? right : [right];
        if (!flags.every((x) => typeof x === "string")) throw new ProofError(`ct state match ${show(m)} is not one this proof evaluates`);
        if (op !== "in" && op !== "==" && op !== "!=") throw new ProofError(`operator ${op} in ${show(m)} is not one this proof evaluates`);
        const has = flags.includes(fields[0].value);
        return (op === "!=" ? !has : has) ? domain : EMPTY;
    }
    let values: Json[];
    if (typeof right === "string" && right.startsWith("@")) {
        const set = setElements(table, right);
        if (set.type.length !== fields.length) throw new ProofError(`set ${right} has a ${set.type.length}-part key, matched with ${show(left)}`);
        values = fields[0].kind === "address" ? candidates(set, fields[0]) : set.elements;
    } else if (isObject(right) && Array.isArray(right.set)) {
        values = right.set;
    } else {
        values = [right];
    }
    const covers = (v: Json) => concat ? concatCovers(fields, v, domain, typeof right === "string" ? right : "(anonymous)") : valueCovers(fields[0], v, domain);
    const matched = union(...values.map(covers));
    switch (op) {
        case "==":
        case "in": return matched;
        case "!=": return subtract(domain, matched);
    }
    if (!concat && fields[0].kind === "port" && typeof right === "number" && values.length === 1) {
        const n = right;
        switch (op) {
            case "<": return intersect(domain, interval(0, n - 1));
            case "<=": return intersect(domain, interval(0, n));
            case ">": return intersect(domain, interval(n + 1, 65535));
            case ">=": return intersect(domain, interval(n, 65535));
        }
    }
    throw new ProofError(`operator ${op} in ${show(m)} is not one this proof evaluates`);
}

/** Which rule accepted which ports: how a difference is traced back to the ruleset. */
export interface Acceptance {
    chain: string;
    /** The rule's handle, or "policy" for the chain's policy. */
    rule: number | "policy";
    ports: IntervalSet;
}

/** The ports of `domain` that one chain accepts. */
function evalChain(table: NftTable, chainIndex: number, p: PacketClass, domain: IntervalSet, trace?: Acceptance[]): IntervalSet {
    const chain = table.chains[chainIndex];
    let undecided = domain;
    let accepted: IntervalSet = EMPTY;
    for (const rule of chain.rules) {
        let cond = undecided;
        for (const stmt of rule.expr) {
            if (cond.length === 0) break;
            if (!isObject(stmt)) throw new ProofError(`statement ${show(stmt)} in rule ${rule.handle} of chain ${chain.name} is not one this proof evaluates`);
            const [kind] = Object.keys(stmt);
            if (kind === "match") {
                cond = intersect(cond, evalMatch(table, stmt.match, p, domain));
            } else if (kind === "limit") {
                // A rate limit lets a connection's first packets through: it decides how fast, not whether.
                if (isObject(stmt.limit) && stmt.limit.inv) throw new ProofError(`inverted limit ${show(stmt)} (over a rate) is not one this proof evaluates`);
            } else if (kind === "log" || kind === "counter") {
                // No verdict: the packet goes on to the next rule.
            } else if (kind === "set" && isObject(stmt.set) && (stmt.set.op === "add" || stmt.set.op === "update")) {
                // Records the flow in a set (the drop record): no verdict. A full set ends the rule
                // early, which changes nothing either, since what follows in the rule is no verdict.
                if (rule.expr.slice(rule.expr.indexOf(stmt) + 1).some((s) => isObject(s) && ["accept", "drop", "reject", "jump", "goto"].some((v) => v in s))) {
                    throw new ProofError(`a verdict after the set statement ${show(stmt)} in rule ${rule.handle} of chain ${chain.name}: whether it applies depends on the set's room, which this proof does not evaluate`);
                }
            } else if (kind === "accept" || kind === "drop" || kind === "reject") {
                if (kind === "accept") {
                    accepted = union(accepted, cond);
                    trace?.push({ chain: chain.name, rule: rule.handle ?? -1, ports: cond });
                }
                undecided = subtract(undecided, cond);
                cond = EMPTY;
            } else {
                throw new ProofError(`statement ${show(stmt)} in rule ${rule.handle} of chain ${chain.name} is not one this proof evaluates`);
            }
        }
    }
    if (chain.policy === "accept" && undecided.length > 0) trace?.push({ chain: chain.name, rule: "policy", ports: undecided });
    return chain.policy === "accept" ? union(accepted, undecided) : accepted;
}

/**
 * The destination ports (1-65535 for TCP and UDP; for ICMP echo, [0,0] when it passes) that pass
 * every input chain of the table: a packet must pass each base chain on the hook.
 */
export function acceptedPorts(table: NftTable, p: PacketClass, trace?: Acceptance[]): IntervalSet {
    let passing = p.l4 === "icmp" ? NO_PORT : PORTS;
    const inputs = table.chains.map((c, i) => ({ c, i })).filter(({ c }) => c.hook === "input").sort((a, b) => a.c.prio - b.c.prio);
    if (inputs.length === 0) return passing; // no input chain in this table: it lets everything through
    for (const { i } of inputs) passing = evalChain(table, i, p, passing, trace);
    return passing;
}

/** Every address block of a family the table names (in sets and in rules): where a source range must be split. */
export function addressBoundaries(table: NftTable, family: Family): IntervalSet[] {
    const out: IntervalSet[] = [];
    const walk = (v: Json) => {
        if (typeof v === "string") {
            const a = parseAddress(v);
            if (a && a.family === family) out.push(interval(a.value, a.value));
        } else if (Array.isArray(v)) {
            v.forEach(walk);
        } else if (isObject(v)) {
            if (isObject(v.prefix) && typeof v.prefix.addr === "string" && typeof v.prefix.len === "number") {
                const a = parseAddress(v.prefix.addr);
                if (a && a.family === family) { out.push([prefixInterval(family, a.value, v.prefix.len)]); return; }
            }
            Object.values(v).forEach(walk);
        }
    };
    for (const s of table.sets.values()) walk(s.elements);
    for (const c of table.chains) for (const r of c.rules) walk(r.expr);
    return out;
}
