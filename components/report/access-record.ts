// What one host said it refused, as components/remote/access-record.sh prints it: its WireGuard
// interfaces, the firewall's drop records (live, and those kept at each firewall reload) and the
// gateway's refused requests. Pure.
import { AccessLogLine, VERDICTS } from "../render/gateway-log";
import { DROP_SETS } from "../render/drop-record";
import { ACCESS_RECORD as PART } from "../remote/protocol";

/** One dropped flow, merged over every record the host kept. Times are the host's, in epoch seconds. */
export interface DropFlow {
    iface: string;
    source: string;
    destination: string;
    proto: string;
    /** 0 for protocols without ports (ICMP). */
    port: number;
    packets: number;
    first: number;
    last: number;
}

export interface HostRecord {
    wgInterfaces: string[];
    drops: DropFlow[];
    /** Undefined when the host has no gateway log. */
    allowedRequests?: number;
    refused: AccessLogLine[];
}

interface NftElement {
    val: { concat: (string | number)[] };
    expires?: number;
    counter?: { packets: number };
}

/** The elements of one `nft -j list set` answer: its name, the set's timeout and each element. */
function setElements(json: string): { name: string; timeout: number; elems: NftElement[] } | undefined {
    const parsed = JSON.parse(json) as { nftables?: { set?: { name: string; timeout?: number; elem?: unknown[] } }[] };
    const set = parsed.nftables?.find((o) => o.set)?.set;
    if (!set) return undefined;
    // An element is {"elem": {"val": ..., "expires": ...}} when it has a timeout or a counter, else the bare value.
    const elems = (set.elem ?? []).map((e) => {
        const o = e as { elem?: NftElement; concat?: (string | number)[] };
        return o.elem ?? { val: { concat: o.concat ?? [] } };
    });
    return { name: set.name, timeout: set.timeout ?? 0, elems };
}

const flowKey = (c: (string | number)[]) => c.map(String).join("|");

// nft 0.9.8 (Debian 11) writes the protocol of a concatenation as its number, later ones by name.
const PROTOCOLS: Record<string, string> = { 1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp", 132: "sctp", 33: "dccp" };
const protoName = (p: string | number) => PROTOCOLS[String(p)] ?? String(p);

/** One record (live, or kept at a reload): its flows with first and last drop, from the two sets of each family. */
function recordFlows(lines: string[]): DropFlow[] {
    const now = Number(/^now (\d+)$/.exec(lines[0] ?? "")?.[1]);
    if (!Number.isFinite(now)) throw new Error(`a drop record starts with "now <seconds>", not ${JSON.stringify(lines[0])}`);
    const flows = new Map<string, DropFlow>();
    const firstSets: string[] = Object.values(DROP_SETS).map((s) => s.first);
    const lastSets: string[] = Object.values(DROP_SETS).map((s) => s.last);
    for (const line of lines.slice(1)) {
        const set = setElements(line);
        if (!set) continue;
        const isFirst = firstSets.includes(set.name);
        if (!isFirst && !lastSets.includes(set.name)) continue;
        for (const e of set.elems) {
            const c = e.val.concat;
            if (c.length !== 5) continue;
            // The element was made (first set) or last refreshed (last set) `timeout - expires` seconds ago.
            const at = now - (set.timeout - (e.expires ?? set.timeout));
            const proto = protoName(c[3]);
            const key = flowKey([c[0], c[1], c[2], proto, c[4]]);
            const flow = flows.get(key) ?? {
                iface: String(c[0]), source: String(c[1]), destination: String(c[2]), proto, port: Number(c[4]), packets: 0, first: at, last: at,
            };
            if (isFirst) {
                flow.packets += e.counter?.packets ?? 1;
                flow.first = Math.min(flow.first, at);
            } else {
                flow.last = Math.max(flow.last, at);
            }
            flows.set(key, flow);
        }
    }
    // A flow whose first element expired before its last: at least one packet.
    return [...flows.values()].map((f) => ({ ...f, packets: Math.max(f.packets, 1) }));
}

/** Records cover disjoint times (a reload empties the live sets), so flows add up. */
export function mergeFlows(records: DropFlow[][]): DropFlow[] {
    const merged = new Map<string, DropFlow>();
    for (const f of records.flat()) {
        const key = flowKey([f.iface, f.source, f.destination, f.proto, f.port]);
        const m = merged.get(key);
        merged.set(key, m ? { ...m, packets: m.packets + f.packets, first: Math.min(m.first, f.first), last: Math.max(m.last, f.last) } : { ...f });
    }
    return [...merged.values()];
}

function accessLine(line: string): AccessLogLine | undefined {
    let o: AccessLogLine;
    try {
        o = JSON.parse(line);
    } catch {
        return undefined; // a line cut by a write in progress
    }
    return typeof o === "object" && o !== null && (VERDICTS as readonly string[]).includes(o.verdict) ? o : undefined;
}

export function parseAccessRecord(stdout: string): HostRecord {
    const lines = stdout.split("\n");
    const end = PART.head + PART.end;
    if (!lines.includes(end)) throw new Error(`the host's access record is cut short (no "${end}")`);
    const parts: { head: string; body: string[] }[] = [];
    for (const l of lines) {
        if (l.startsWith(PART.head)) parts.push({ head: l.slice(PART.head.length), body: [] });
        else if (l !== "" && parts.length) parts[parts.length - 1].body.push(l);
    }
    const allowed = parts.find((p) => p.head.startsWith(`${PART.accessAllowed} `));
    return {
        wgInterfaces: parts.find((p) => p.head === PART.wireguard)?.body.flatMap((l) => l.split(/\s+/)).filter((s) => s) ?? [],
        drops: mergeFlows(parts.filter((p) => p.head === PART.dropsLive || p.head === PART.dropsArchive).map((p) => recordFlows(p.body))),
        allowedRequests: allowed ? Number(allowed.head.split(" ").pop()) : undefined,
        refused: (parts.find((p) => p.head === PART.accessRefused)?.body ?? []).map(accessLine).filter((a): a is AccessLogLine => a !== undefined),
    };
}
