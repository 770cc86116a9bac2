// nftables ruleset for one node, as one `nft -f` transaction that replaces only our own table
// (never the whole ruleset: Docker, libvirt and fail2ban keep theirs). The table is `inet`: one
// policy for both families. What the underlay may reach is family-blind (WireGuard's port, the
// public TCP ports); SSH during bootstrap is matched per family; over the mesh IPv4, and IPv6 when
// the mesh has a range of each (sets per family, the same allows). From the underlay IPv6 gets
// nothing else but neighbour discovery, without which no IPv6 underlay works.
import { PortRange } from "../policy";
import { ipFamily } from "../validate";
import { dropRecordRules, dropRecordSets } from "./drop-record";

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
    /** Underlay sources (IPv4 or IPv6 addresses or CIDRs, validated) that may still SSH during bootstrap; empty when closed. */
    sshBootstrapSources: string[];
    meshAllows: MeshAllow[];
    /** TCP ports open to everyone on the underlay (a gateway's HTTPS port). Default: none. */
    publicTcpPorts?: number[];
    /**
     * The mesh has an IPv6 range too: the IPv6 mesh sources in meshAllows and sshMeshSources get
     * sets of their own, matched by the same rules' IPv6 twins. Default: false (an IPv4 mesh).
     */
    mesh6?: boolean;
    /** Answer pings that arrive over the mesh (from peers only: WireGuard drops the rest). */
    meshPing: boolean;
    /** "drop" for ordinary hosts; "accept" for hypervisors that route for their guests. */
    forwardPolicy: "drop" | "accept";
    /** Log drops to the kernel log (rate-limited) and record each dropped flow (drop-record.ts). */
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
    const allowElements = (family: 4 | 6) => [...new Set(spec.meshAllows.filter((a) => ipFamily(a.source) === family)
        .map((a) => `${a.source} . ${a.port.proto} . ${portElement(a.port)}`))].sort();
    const sshMesh = (family: 4 | 6) => spec.sshMeshSources.filter((a) => ipFamily(a) === family).sort();
    const mesh6 = spec.mesh6 ?? false;
    const bootstrap4 = spec.sshBootstrapSources.filter((a) => ipFamily(a) === 4).sort();
    const bootstrap6 = spec.sshBootstrapSources.filter((a) => ipFamily(a) === 6).sort();
    const lines = [
        "# Managed by zerotrust: replaces only this table, in one transaction.",
        `table ${table}`,
        `delete table ${table}`,
        `table ${table} {`,
        ...setBlock("mesh_allow", "ipv4_addr . inet_proto . inet_service", allowElements(4)),
        ...setBlock("ssh_mesh", "ipv4_addr", sshMesh(4)),
        ...(mesh6 ? [...setBlock("mesh_allow6", "ipv6_addr . inet_proto . inet_service", allowElements(6)), ...setBlock("ssh_mesh6", "ipv6_addr", sshMesh(6))] : []),
        ...setBlock("ssh_bootstrap", "ipv4_addr", bootstrap4),
        // Only when there is an IPv6 source: a host without one keeps the table it had.
        ...(bootstrap6.length ? setBlock("ssh_bootstrap6", "ipv6_addr", bootstrap6) : []),
        ...(spec.logDrops ? dropRecordSets() : []),
        "",
        "\tchain input {",
        "\t\ttype filter hook input priority filter; policy drop;",
        "\t\tiifname \"lo\" accept",
        "\t\tct state established,related accept",
        "\t\tct state invalid drop",
        // IPv6 neighbour discovery: without it an IPv6 underlay stops working under policy drop.
        "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } ip6 hoplimit 255 accept",
        // Family-blind on purpose: peers dial over IPv4 or IPv6.
        `\t\tiifname != ${wg} udp dport ${spec.wgPort} accept`,
        `\t\tiifname ${wg} ip saddr @ssh_mesh tcp dport ${spec.sshPort} accept`,
        `\t\tiifname != ${wg} ip saddr @ssh_bootstrap tcp dport ${spec.sshPort} accept`,
        ...(bootstrap6.length ? [`\t\tiifname != ${wg} ip6 saddr @ssh_bootstrap6 tcp dport ${spec.sshPort} accept`] : []),
        `\t\tiifname ${wg} ip saddr . meta l4proto . th dport @mesh_allow accept`,
        ...(mesh6 ? [
            `\t\tiifname ${wg} ip6 saddr @ssh_mesh6 tcp dport ${spec.sshPort} accept`,
            `\t\tiifname ${wg} ip6 saddr . meta l4proto . th dport @mesh_allow6 accept`,
        ] : []),
        ...(spec.publicTcpPorts?.length ? [`\t\tiifname != ${wg} tcp dport { ${[...spec.publicTcpPorts].sort((a, b) => a - b).join(", ")} } accept`] : []),
        ...(spec.meshPing ? [`\t\tiifname ${wg} icmp type echo-request limit rate 100/second accept`] : []),
        ...(spec.meshPing && mesh6 ? [`\t\tiifname ${wg} icmpv6 type echo-request limit rate 100/second accept`] : []),
        ...(spec.logDrops ? [...dropRecordRules(), DROP_LOG("in")] : []),
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
