// The ruleset as `nft -j list table inet zerotrust` reports it, read into the pieces the evaluator
// walks: the input chains (hook, priority, policy, rules in order) and the named sets. Anything
// this reader does not know stops it with a ProofError that names the object. Pure.

export class ProofError extends Error {
    constructor(message: string) {
        super(`zerotrust proof: ${message}`);
        this.name = "ProofError";
    }
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface NftSet {
    name: string;
    /** The key's type: one name, or the components of a concatenation. */
    type: string[];
    elements: Json[];
}

export interface NftRule {
    handle?: number;
    /** The rule's statements, as nft printed them. */
    expr: Json[];
}

export interface NftChain {
    name: string;
    hook?: string;
    prio: number;
    policy: "accept" | "drop";
    rules: NftRule[];
}

export interface NftTable {
    family: string;
    name: string;
    /** nft's own version, from metainfo. */
    nftVersion?: string;
    sets: Map<string, NftSet>;
    chains: NftChain[];
}

const isObject = (v: Json | undefined): v is { [k: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);

/** Short JSON of an expression, for error messages. */
export function show(v: unknown): string {
    const s = JSON.stringify(v);
    return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

/** A set element as stored: 0.9.8 wraps elements with options as {"elem": {"val": ...}}. */
function unwrapElement(e: Json): Json {
    return isObject(e) && isObject(e.elem) && "val" in e.elem ? e.elem.val : e;
}

/** Reads `nft -j list table FAMILY NAME` output (text or parsed). */
export function readNftTable(input: string | Json, family = "inet", name = "zerotrust"): NftTable {
    const doc = typeof input === "string" ? JSON.parse(input) as Json : input;
    const list = isObject(doc) && Array.isArray(doc.nftables) ? doc.nftables : null;
    if (!list) throw new ProofError("not nft JSON: expected an object with an \"nftables\" list");
    const table: NftTable = { family, name, sets: new Map(), chains: [] };
    const chains = new Map<string, NftChain>();
    const ours = (o: { [k: string]: Json }) => o.family === family && (o.table ?? o.name) === name;
    let seenTable = false;
    const pendingRules: { chain: string; rule: NftRule }[] = [];
    for (const item of list) {
        if (!isObject(item)) throw new ProofError(`unexpected item in the nft listing: ${show(item)}`);
        const [kind, ...more] = Object.keys(item);
        const body = item[kind];
        if (more.length || !isObject(body)) throw new ProofError(`unexpected item in the nft listing: ${show(item)}`);
        if (kind === "metainfo") {
            table.nftVersion = typeof body.version === "string" ? body.version : undefined;
            continue;
        }
        if (!ours(body)) throw new ProofError(`the listing holds ${kind} ${show(body.name)} of another table (${show(body.family)} ${show(body.table ?? body.name)}): list only table ${family} ${name}`);
        if (kind === "table") { seenTable = true; continue; }
        if (kind === "set") {
            const type = Array.isArray(body.type) ? body.type : [body.type];
            if (!type.every((t) => typeof t === "string")) throw new ProofError(`set ${show(body.name)} has a key type this proof does not know: ${show(body.type)}`);
            table.sets.set(String(body.name), { name: String(body.name), type: type as string[], elements: (Array.isArray(body.elem) ? body.elem : []).map(unwrapElement) });
            continue;
        }
        if (kind === "chain") {
            const policy = body.policy ?? (body.hook === undefined ? "accept" : undefined);
            if (policy !== "accept" && policy !== "drop") throw new ProofError(`chain ${show(body.name)} has a policy this proof does not know: ${show(body.policy)}`);
            const chain: NftChain = { name: String(body.name), hook: typeof body.hook === "string" ? body.hook : undefined, prio: Number(body.prio ?? 0), policy, rules: [] };
            if (chain.hook !== undefined && body.type !== "filter") throw new ProofError(`chain ${chain.name} is of type ${show(body.type)}; this proof evaluates filter chains only`);
            chains.set(chain.name, chain);
            table.chains.push(chain);
            continue;
        }
        if (kind === "rule") {
            if (!Array.isArray(body.expr)) throw new ProofError(`rule ${show(body.handle)} in chain ${show(body.chain)} has no expression list`);
            pendingRules.push({ chain: String(body.chain), rule: { handle: typeof body.handle === "number" ? body.handle : undefined, expr: body.expr } });
            continue;
        }
        // Maps, verdict maps, flowtables, counters, quotas, ...: not in what is rendered, so never guessed at.
        throw new ProofError(`the table holds a ${kind} (${show(body.name ?? body)}), which this proof does not evaluate`);
    }
    if (!seenTable) throw new ProofError(`the listing holds no table ${family} ${name}`);
    for (const { chain, rule } of pendingRules) {
        const c = chains.get(chain);
        if (!c) throw new ProofError(`rule ${show(rule.handle)} names chain ${chain}, which the listing does not hold`);
        c.rules.push(rule);
    }
    return table;
}
