// WireGuard's cryptokey routing, as the proof needs it: each member's peer entries (which member a
// key is, the AllowedIPs of the entry), read from a rendered wg-quick file or from `wg show
// IFACE allowed-ips` on a live host. Pure.
import { AddressBlock, Family, parseBlock } from "./address";
import { IntervalSet, union } from "./intervals";
import { ProofError } from "./ruleset";

export interface PeerEntry {
    /** The member whose key the entry holds, or "unknown key <key>" when it is no member's. */
    peer: string;
    allowedIps: string[];
}

/** The peer entries of a wg-quick file; `members` maps public keys to member names. */
export function peersOfConfig(text: string, members: Record<string, string>): PeerEntry[] {
    const out: PeerEntry[] = [];
    let current: { key?: string; allowed: string[] } | undefined;
    const flush = () => {
        if (!current) return;
        if (!current.key) throw new ProofError("a [Peer] section of the WireGuard file has no PublicKey");
        out.push({ peer: members[current.key] ?? `unknown key ${current.key}`, allowedIps: current.allowed });
    };
    for (const raw of text.split("\n")) {
        const line = raw.replace(/#.*/, "").trim();
        if (line === "") continue;
        if (/^\[.*\]$/.test(line)) {
            flush();
            current = line.toLowerCase() === "[peer]" ? { allowed: [] } : undefined;
            continue;
        }
        if (!current) continue;
        const m = /^(\w+)\s*=\s*(.*)$/.exec(line);
        if (!m) continue;
        if (m[1].toLowerCase() === "publickey") current.key = m[2].trim();
        if (m[1].toLowerCase() === "allowedips") current.allowed.push(...m[2].split(",").map((s) => s.trim()).filter((s) => s !== ""));
    }
    flush();
    return out;
}

/** `wg show IFACE allowed-ips`: "<key>\t<cidr> <cidr>" per peer ("(none)" for an empty list). */
export function peersOfWgShow(text: string, members: Record<string, string>): PeerEntry[] {
    return text.split("\n").filter((l) => l.trim() !== "").map((line) => {
        const [key, rest = ""] = line.split("\t");
        const allowed = rest.trim() === "(none)" ? [] : rest.trim().split(/\s+/).filter((s) => s !== "");
        return { peer: members[key.trim()] ?? `unknown key ${key.trim()}`, allowedIps: allowed };
    });
}

const parsedEntries = new WeakMap<PeerEntry, AddressBlock[]>();

function blocksOf(entry: PeerEntry): AddressBlock[] {
    let blocks = parsedEntries.get(entry);
    if (!blocks) {
        blocks = entry.allowedIps.map((cidr) => {
            const b = parseBlock(cidr);
            if (!b) throw new ProofError(`AllowedIPs entry ${JSON.stringify(cidr)} of peer ${entry.peer} is not an address or prefix`);
            return b;
        });
        parsedEntries.set(entry, blocks);
    }
    return blocks;
}

/** The addresses of one family an entry's AllowedIPs hold. */
export function allowedRange(entry: PeerEntry, family: Family): IntervalSet {
    return union(...blocksOf(entry).map((b) => (b.family === family ? b.range : [])));
}

interface RouteTable {
    /** Host routes (/32, /128): the longest prefix there is, so a hit decides. */
    hosts: Map<string, string>;
    others: { family: Family; first: bigint; last: bigint; peer: string }[];
}

const routeTables = new WeakMap<PeerEntry[], RouteTable>();

/** The peer a sender hands a packet for `destination` to: the entry with the longest matching prefix. */
export function routeTo(entries: PeerEntry[], family: Family, destination: bigint): string | undefined {
    let table = routeTables.get(entries);
    if (!table) {
        table = { hosts: new Map(), others: [] };
        for (const e of entries) {
            for (const b of blocksOf(e)) {
                const [first, last] = b.range[0];
                if (first === last) table.hosts.set(`${b.family}:${first}`, e.peer);
                else table.others.push({ family: b.family, first, last, peer: e.peer });
            }
        }
        routeTables.set(entries, table);
    }
    const host = table.hosts.get(`${family}:${destination}`);
    if (host !== undefined) return host;
    let best: { peer: string; span: bigint } | undefined;
    for (const r of table.others) {
        if (r.family !== family || destination < r.first || destination > r.last) continue;
        const span = r.last - r.first;
        if (!best || span < best.span) best = { peer: r.peer, span };
    }
    return best?.peer;
}
