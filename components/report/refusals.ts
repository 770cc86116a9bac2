// "Who tried to reach what, and was refused?": the firewalls' drop records and the gateways'
// refused requests, each attempt named by its source's identity: a mesh source (it came through
// WireGuard, which binds the address to a peer's key) by its member, an underlay source by its
// address, a gateway client by its certificate's name. Pure.
import { AccessLogLine, Verdict } from "../render/gateway-log";
import { HostRecord } from "./access-record";

export interface RefusalRow {
    /** The member, the underlay address, or the certificate's CN. */
    source: string;
    /** How the source is known: "mesh member", "mesh address (no member)", "underlay address", "certificate", "client address". */
    identifiedBy: string;
    /** The host that refused. */
    host: string;
    /** What was asked for: "tcp/5432", "icmp", "https (gateway)". */
    destination: string;
    refusedBy: "firewall" | "gateway";
    reason: string;
    /** Packets dropped (firewall) or requests refused (gateway). */
    attempts: number;
    first: string;
    last: string;
}

export interface RefusalHost {
    node: string;
    /** "read", or why not (unreachable, failed). */
    state: string;
}

export interface RefusalReport {
    readAt: string;
    hosts: RefusalHost[];
    rows: RefusalRow[];
    /** Requests the gateways let through, over the same logs. */
    allowedRequests: number;
}

const REASONS: Record<Exclude<Verdict, "allowed">, string> = {
    forbidden: "valid certificate, not on the allowlist",
    revoked: "certificate revoked (CRL)",
    "no-certificate": "no client certificate",
    "failed-certificate": "certificate failed verification",
};

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace(/\.000Z$/, "Z");

/** The CN of an RFC 2253 subject ("CN=carol,O=zerotrust" -> "carol"), unescaped. */
export function commonName(subject: string): string | undefined {
    const m = /(?:^|,)CN=((?:\\.|[^,\\])*)/.exec(subject);
    return m ? m[1].replace(/\\(.)/g, "$1") : undefined;
}

function firewallRows(node: string, r: HostRecord, memberAt: Map<string, string>): RefusalRow[] {
    return r.drops.map((f) => {
        const overMesh = r.wgInterfaces.includes(f.iface);
        const member = overMesh ? memberAt.get(f.source) : undefined;
        return {
            source: member ?? f.source,
            identifiedBy: overMesh ? (member ? "mesh member" : "mesh address (no member)") : "underlay address",
            host: node,
            destination: f.port === 0 && !["tcp", "udp"].includes(f.proto) ? f.proto : `${f.proto}/${f.port}`,
            refusedBy: "firewall",
            reason: `dropped (to ${f.destination} via ${f.iface})`,
            attempts: f.packets,
            first: iso(f.first),
            last: iso(f.last),
        };
    });
}

function gatewayRows(node: string, refused: AccessLogLine[]): RefusalRow[] {
    const groups = new Map<string, { line: AccessLogLine; times: number[] }>();
    for (const l of refused) {
        if (l.verdict === "allowed") continue;
        const cn = l.subject ? commonName(l.subject) : undefined;
        const key = [cn ?? l.client, l.fingerprint, l.verdict, l.status].join("|");
        const g = groups.get(key) ?? { line: l, times: [] };
        const t = Date.parse(l.time);
        if (Number.isFinite(t)) g.times.push(t / 1000);
        groups.set(key, g);
    }
    return [...groups.values()].map(({ line, times }) => {
        const cn = line.subject ? commonName(line.subject) : undefined;
        return {
            source: cn ?? line.client,
            identifiedBy: cn ? `certificate ${line.subject} (SHA-1 ${line.fingerprint.slice(0, 16)}...)` : "client address",
            host: node,
            destination: "https (gateway)",
            refusedBy: "gateway",
            reason: `${line.status}: ${REASONS[line.verdict as Exclude<Verdict, "allowed">]}`,
            attempts: times.length,
            first: times.length ? iso(Math.floor(Math.min(...times))) : "",
            last: times.length ? iso(Math.floor(Math.max(...times))) : "",
        };
    });
}

/** Every host's refusals as rows, by source, then host and destination. */
export function refusalRows(records: Record<string, HostRecord>, members: { name: string; address?: string }[]): RefusalRow[] {
    const memberAt = new Map(members.filter((m) => m.address).map((m) => [m.address!, m.name]));
    return Object.entries(records).flatMap(([node, r]) => [...firewallRows(node, r, memberAt), ...gatewayRows(node, r.refused)])
        .sort((a, b) => a.source.localeCompare(b.source) || a.host.localeCompare(b.host) || a.destination.localeCompare(b.destination) || a.first.localeCompare(b.first));
}

/** The window the rows span: first and last attempt. */
export function refusalWindow(rows: RefusalRow[]): { from: string; to: string } | undefined {
    const firsts = rows.map((r) => r.first).filter((t) => t).sort();
    const lasts = rows.map((r) => r.last).filter((t) => t).sort();
    return firsts.length ? { from: firsts[0], to: lasts[lasts.length - 1] } : undefined;
}
