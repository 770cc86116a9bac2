// nftables ruleset for one node, as one `nft -f` transaction that replaces only our own table
// (never the whole ruleset: Docker, libvirt and fail2ban keep theirs).
import { PortRange } from "../policy";

export const TABLE_FAMILY = "inet";
export const TABLE_NAME = "zerotrust";

export interface MeshAllow {
    /** The peer's mesh address: WireGuard binds it to the peer's key. */
    source: string;
    port: PortRange;
}

export interface FirewallSpec {
    wgInterface: string;
    wgPort: number;
    sshPort: number;
    /** Mesh addresses of the management peers: the only SSH sources once bootstrap is over. */
    sshMeshSources: string[];
    /** Underlay sources (IPv4 CIDRs) that may still SSH during bootstrap; empty when closed. */
    sshBootstrapSources: string[];
    meshAllows: MeshAllow[];
    /** TCP ports open to everyone on the underlay (a gateway's HTTPS port). Default: none. */
    publicTcpPorts?: number[];
    /** Answer pings that arrive over the mesh (from peers only: WireGuard drops the rest). */
    meshPing: boolean;
    /** "drop" for ordinary hosts; "accept" for hypervisors that route for their guests. */
    forwardPolicy: "drop" | "accept";
    logDrops: boolean;
}

function setBlock(name: string, type: string, elements: string[]): string[] {
    const lines = [`\tset ${name} {`, `\t\ttype ${type}`, "\t\tflags interval"];
    if (elements.length > 0) lines.push(`\t\telements = { ${elements.join(", ")} }`);
    lines.push("\t}");
    return lines;
}

function portElement(p: PortRange): string {
    return p.first === p.last ? String(p.first) : `${p.first}-${p.last}`;
}

const DROP_LOG = (chain: string) =>
    `\t\tlimit rate 10/minute burst 20 packets log prefix "zerotrust drop ${chain}: " level info`;

/** The whole file `nft -f` loads: create-if-missing, delete, then define, in one transaction. */
export function renderFirewall(spec: FirewallSpec): string {
    const table = `${TABLE_FAMILY} ${TABLE_NAME}`;
    const wg = JSON.stringify(spec.wgInterface);
    const allowElements = [...new Set(spec.meshAllows
        .map((a) => `${a.source} . ${a.port.proto} . ${portElement(a.port)}`))].sort();
    const lines = [
        "# Managed by zerotrust: replaces only this table, in one transaction.",
        `table ${table}`,
        `delete table ${table}`,
        `table ${table} {`,
        ...setBlock("mesh_allow", "ipv4_addr . inet_proto . inet_service", allowElements),
        ...setBlock("ssh_mesh", "ipv4_addr", [...spec.sshMeshSources].sort()),
        ...setBlock("ssh_bootstrap", "ipv4_addr", [...spec.sshBootstrapSources].sort()),
        "",
        "\tchain input {",
        "\t\ttype filter hook input priority filter; policy drop;",
        "\t\tiifname \"lo\" accept",
        "\t\tct state established,related accept",
        "\t\tct state invalid drop",
        // IPv6 neighbour discovery: without it an IPv6 underlay stops working under policy drop.
        "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } ip6 hoplimit 255 accept",
        `\t\tiifname != ${wg} udp dport ${spec.wgPort} accept`,
        `\t\tiifname ${wg} ip saddr @ssh_mesh tcp dport ${spec.sshPort} accept`,
        `\t\tiifname != ${wg} ip saddr @ssh_bootstrap tcp dport ${spec.sshPort} accept`,
        `\t\tiifname ${wg} ip saddr . meta l4proto . th dport @mesh_allow accept`,
        ...(spec.publicTcpPorts?.length ? [`\t\tiifname != ${wg} tcp dport { ${[...spec.publicTcpPorts].sort((a, b) => a - b).join(", ")} } accept`] : []),
        ...(spec.meshPing ? [`\t\tiifname ${wg} icmp type echo-request limit rate 100/second accept`] : []),
        ...(spec.logDrops ? [DROP_LOG("in")] : []),
        "\t}",
        "",
        "\tchain forward {",
        `\t\ttype filter hook forward priority filter; policy ${spec.forwardPolicy};`,
        ...(spec.logDrops && spec.forwardPolicy === "drop" ? [DROP_LOG("fwd")] : []),
        "\t}",
        "}",
    ];
    return lines.join("\n") + "\n";
}

/** The file that removes our table and nothing else (used by delete). */
export function renderFirewallRemoval(): string {
    return `table ${TABLE_FAMILY} ${TABLE_NAME}\ndelete table ${TABLE_FAMILY} ${TABLE_NAME}\n`;
}
