// From the compiled policy to what each enforcement point needs: a member's WireGuard peers and a
// node's firewall. Pure: the components feed it resolved keys and addresses.
import { CompiledPolicy, PortRange, inboundAllows } from "./policy";
import { FirewallSpec } from "./render/nftables";
import { WireGuardInterface, WireGuardPeer } from "./render/wireguard";
import { parseIPv4, splitHostPort } from "./validate";

export interface MemberFacts {
    name: string;
    address: string;
    /** Its address in the mesh's IPv6 range, when the mesh has one. */
    address6?: string;
    publicKey: string;
    endpoint?: string;
    /** A second endpoint, [IPv6]:port, for peers that dial over IPv6 only. */
    ipv6Endpoint?: string;
    listenPort?: number;
    behindNat: boolean;
    /** It has no IPv4 underlay: it dials its peers' IPv6 endpoints. */
    ipv6Only?: boolean;
}

/**
 * The endpoint `self` dials `peer` at (pure): the peer's endpoint, or for a member without IPv4 the
 * first of its endpoints that is IPv6 (a DNS name may resolve to one), else none: then only the
 * peer can start the tunnel, as with a member behind NAT.
 */
export function endpointToDial(self: Pick<MemberFacts, "ipv6Only">, peer: Pick<MemberFacts, "endpoint" | "ipv6Endpoint">): string | undefined {
    if (!self.ipv6Only) return peer.endpoint ?? peer.ipv6Endpoint;
    if (peer.ipv6Endpoint) return peer.ipv6Endpoint;
    const host = peer.endpoint === undefined ? undefined : splitHostPort(peer.endpoint)?.host;
    return host !== undefined && parseIPv4(host) === null ? peer.endpoint : undefined;
}

/** The key of the pre-shared key shared by two members: the same whichever side asks. */
export function pairName(a: string, b: string): string {
    return a < b ? `${a}--${b}` : `${b}--${a}`;
}

/** What a member's configuration needs of one peer: its facts and the pair's pre-shared key. */
export interface PeerFacts extends MemberFacts {
    presharedKey: string;
}

/** A member's WireGuard interface from its own facts and those of its peers (and nothing else). */
export function wireGuardInterfaceFor(
    self: MemberFacts,
    privateKey: string,
    prefixLength: number,
    mtu: number,
    peers: PeerFacts[],
    prefixLength6?: number,
): WireGuardInterface {
    return {
        privateKey,
        addressCidr: `${self.address}/${prefixLength}`,
        ...(self.address6 && prefixLength6 ? { address6Cidr: `${self.address6}/${prefixLength6}` } : {}),
        listenPort: self.listenPort,
        mtu,
        behindNat: self.behindNat,
        peers: peers.map((peer): WireGuardPeer => ({
            name: peer.name,
            publicKey: peer.publicKey,
            presharedKey: peer.presharedKey,
            address: peer.address,
            ...(peer.address6 ? { address6: peer.address6 } : {}),
            endpoint: endpointToDial(self, peer),
            behindNat: peer.behindNat,
        })),
    };
}

export interface FirewallOptions {
    wgInterface: string;
    wgPort: number;
    sshPort: number;
    sshBootstrapSources: string[];
    meshPing: boolean;
    forwardPolicy: "drop" | "accept";
    logDrops: boolean;
    publicTcpPorts?: number[];
}

/**
 * A node's firewall from the compiled policy. `addresses6`, for a mesh with an IPv6 range too: every
 * allow then holds for a source's IPv6 mesh address as for its IPv4 one (the renderer puts each
 * family in sets of its own).
 */
export function firewallSpecFor(policy: CompiledPolicy, node: string, addresses: Map<string, string>, opts: FirewallOptions,
    addresses6?: Map<string, string>): FirewallSpec {
    const sourcesOf = (member: string) => [addresses.get(member)!, ...(addresses6 ? [addresses6.get(member)!] : [])];
    const meshAllows: { source: string; port: PortRange }[] = [];
    for (const { port, sources } of inboundAllows(policy, node)) {
        // SSH has a set of its own so that the bootstrap switch touches one place.
        if (port.proto === "tcp" && port.first === opts.sshPort && port.last === opts.sshPort) continue;
        for (const s of sources) for (const source of sourcesOf(s)) meshAllows.push({ source, port });
    }
    // Management peers' SSH is among the allows (rule -1), beside any rule that opens the SSH port.
    const sshMembers = new Set<string>();
    for (const a of policy.allowsTo[node] ?? []) {
        if (a.port.proto === "tcp" && a.port.first <= opts.sshPort && opts.sshPort <= a.port.last) sshMembers.add(a.from);
    }
    return {
        ...opts,
        sshMeshSources: [...sshMembers].flatMap(sourcesOf).sort(),
        meshAllows,
        ...(addresses6 ? { mesh6: true } : {}),
    };
}
