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
    /** What was asked for: "tcp/5432", "tcp/1-1024, 5432", "icmp", "https (gateway)". */
    destination: string;
    /** The destination ports (firewall, TCP and UDP). */
    ports: number[];
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

/** Ports as short ranges: "1-1024, 5432, 8080" (the first 12 ranges, then how many more). */
export function portRanges(ports: number[]): string {
    const sorted = [...new Set(ports)].sort((a, b) => a - b);
    const ranges: string[] = [];
    for (let i = 0; i < sorted.length; i++) {
        let j = i;
        while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
        ranges.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
        i = j;
    }
    return ranges.length > 12 ? `${ranges.slice(0, 12).join(", ")} and ${ranges.length - 12} more ranges` : ranges.join(", ");
}

/** Who a source is: over WireGuard, the member its address is bound to; on the underlay, its address (and whose host has it). */
function sourceOf(iface: string, address: string, r: HostRecord, names: Names): { source: string; identifiedBy: string } {
    if (r.wgInterfaces.includes(iface)) {
        const member = names.mesh.get(address);
        return member ? { source: member, identifiedBy: "mesh member" } : { source: address, identifiedBy: "mesh address (no member)" };
    }
    const host = names.underlay.get(address);
    // The underlay carries no identity: the address says which host has it, not who sent the packet.
    return { source: address, identifiedBy: host ? `underlay address (${host}'s; not authenticated)` : "underlay address" };
}

/** One row per source, host, protocol and path: a scan of a thousand ports is one row. */
function firewallRows(node: string, r: HostRecord, names: Names): RefusalRow[] {
    const groups = new Map<string, { flows: HostRecord["drops"] }>();
    for (const f of r.drops) {
        const key = [f.iface, f.source, f.destination, f.proto].join("|");
        groups.set(key, { flows: [...(groups.get(key)?.flows ?? []), f] });
    }
    return [...groups.values()].map(({ flows }) => {
        const f = flows[0];
        const ported = ["tcp", "udp"].includes(f.proto);
        const ports = ported ? flows.map((x) => x.port) : [];
        return {
            ...sourceOf(f.iface, f.source, r, names),
            host: node,
            destination: ported ? `${f.proto}/${portRanges(ports)}` : f.proto,
            ports: [...new Set(ports)].sort((a, b) => a - b),
            refusedBy: "firewall" as const,
            reason: `dropped (to ${f.destination} via ${f.iface})`,
            attempts: flows.reduce((n, x) => n + x.packets, 0),
            first: iso(Math.min(...flows.map((x) => x.first))),
            last: iso(Math.max(...flows.map((x) => x.last))),
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
        // A certificate that failed verification (another CA, expired) may claim any name.
        const unverified = line.verdict === "failed-certificate";
        const certificate = `${unverified ? "unverified certificate" : "certificate"} ${line.subject} (SHA-1 ${line.fingerprint.slice(0, 16)}...)`;
        return {
            source: cn ? (unverified ? `${cn} (unverified)` : cn) : line.client,
            identifiedBy: cn ? certificate : "client address",
            host: node,
            destination: "https (gateway)",
            ports: [],
            refusedBy: "gateway" as const,
            reason: `${line.status}: ${REASONS[line.verdict as Exclude<Verdict, "allowed">]}`,
            attempts: times.length,
            first: times.length ? iso(Math.floor(Math.min(...times))) : "",
            last: times.length ? iso(Math.floor(Math.max(...times))) : "",
        };
    });
}

/** A member of the mesh by its mesh address, and a host by its underlay addresses (IPv4 and IPv6). */
export interface NamedAddresses {
    name: string;
    address?: string;
    underlay?: string[];
}

interface Names {
    mesh: Map<string, string>;
    underlay: Map<string, string>;
}

/** Every host's refusals as rows, by source, then host and destination. */
export function refusalRows(records: Record<string, HostRecord>, members: NamedAddresses[]): RefusalRow[] {
    const names: Names = {
        mesh: new Map(members.filter((m) => m.address).map((m) => [m.address!, m.name])),
        underlay: new Map(members.flatMap((m) => (m.underlay ?? []).map((u): [string, string] => [u, m.name]))),
    };
    return Object.entries(records).flatMap(([node, r]) => [...firewallRows(node, r, names), ...gatewayRows(node, r.refused)])
        .sort((a, b) => a.source.localeCompare(b.source) || a.host.localeCompare(b.host) || a.destination.localeCompare(b.destination) || a.first.localeCompare(b.first));
}

/** The window the rows span: first and last attempt. */
export function refusalWindow(rows: RefusalRow[]): { from: string; to: string } | undefined {
    const firsts = rows.map((r) => r.first).filter((t) => t).sort();
    const lasts = rows.map((r) => r.last).filter((t) => t).sort();
    return firsts.length ? { from: firsts[0], to: lasts[lasts.length - 1] } : undefined;
}
