// MeshNetwork: the WireGuard overlay. Each member's key and pre-shared-key secret are tracked
// resources (two per member, whatever the policy); a pair's pre-shared key is derived from the two
// members' secrets. The peer graph comes from the identity policy, compiled once during preview.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { MemberFacts, wireGuardInterfaceFor } from "./enforcement";
import { keySeed } from "./key-seed";
import { MEMBER_OUTPUTS, MemberKeys, MeshMemberData, PlainMemberData } from "./mesh-member";
import { MeshPlan, PlannedMember, planMesh } from "./mesh-plan";
import { PolicyExpectations, PolicyRule } from "./policy";
import { PskHolder, derivePresharedKey } from "./preshared-keys";
import { renderWireGuardConfig } from "./render/wireguard";
import { ValidationError, checkEndpoint, checkIPv6Endpoint } from "./validate";
import { clampPrivateKey, publicKeyOf } from "./wireguard-keys";

export interface MeshNodeArgs {
    /** Unique member name (lowercase letters, digits, '-'). */
    name: string;
    /** Tags that rules select with "tag:<tag>". Default: none. */
    tags?: string[];
    /** host:port or [IPv6]:port peers dial to reach this node over the underlay. Default: none (it dials out only). */
    endpoint?: pulumi.Input<string>;
    /**
     * A second endpoint, [IPv6]:port, for a dual-stack node: peers that are `ipv6Only` dial it,
     * the others dial `endpoint`. Default: none.
     */
    ipv6Endpoint?: pulumi.Input<string>;
    /**
     * The node's underlay has no IPv4: it dials its peers' ipv6Endpoint (or their endpoint, when
     * that is IPv6); a peer with neither must start the tunnel itself. Default: false.
     */
    ipv6Only?: boolean;
    /** WireGuard UDP port. Default: 51820. */
    listenPort?: number;
    /** Behind NAT: peers cannot dial it, and it sends keepalives. Default: false. */
    behindNat?: boolean;
    /** Explicit mesh address. Default: allocated (the first free of the name's hashes; kept while the node exists). */
    address?: string;
    /** Explicit address in the mesh's IPv6 range (cidr6). Default: allocated, as the IPv4 one. */
    address6?: string;
    /** May SSH to every node over the mesh. Default: false. */
    management?: boolean;
    /**
     * Generation of the node's pre-shared-key secret. Raise it to rotate the pre-shared keys of
     * this node's pairs (and of no other pair). Default: 1.
     */
    pskGeneration?: number;
    /**
     * Generation of the node's WireGuard key. Raise it to rotate the key: its peers learn the new
     * public key, and a node deployed over the mesh switches at a set time (ZeroTrustNode's key
     * cut-over). Default: 1.
     */
    keyGeneration?: number;
}

export interface OperatorPeerArgs {
    /** Unique member name, e.g. "laptop-alice". */
    name: string;
    /** Tags that rules select with "tag:<tag>". Default: none. */
    tags?: string[];
    /** May SSH to every node over the mesh. Default: true. */
    management?: boolean;
    /** Explicit mesh address. Default: allocated like a node's. */
    address?: string;
    /** Explicit address in the mesh's IPv6 range (cidr6). Default: allocated like a node's. */
    address6?: string;
    /** host:port or [IPv6]:port where nodes can reach this peer. Default: none (it dials out and keeps alive). */
    endpoint?: pulumi.Input<string>;
    /** [IPv6]:port where IPv6-only nodes can reach this peer. Default: none. */
    ipv6Endpoint?: pulumi.Input<string>;
    /** This peer has no IPv4 underlay: it dials the nodes' IPv6 endpoints. Default: false. */
    ipv6Only?: boolean;
    /** Generation of its pre-shared-key secret; raise it to rotate the keys of its pairs. Default: 1. */
    pskGeneration?: number;
    /**
     * Generation of its WireGuard key; raise it to rotate the key (a lost laptop). When this peer is
     * the deployer's own tunnel and SSH is mesh-only, name it as each ZeroTrustNode's `deployerPeer`
     * so that the nodes cut over to its new key. Default: 1.
     */
    keyGeneration?: number;
}

export interface GatewayClientArgs {
    /** Unique name, also the CN of the client's certificate. */
    name: string;
    /** Tags that rules select with "tag:<tag>". Default: none. */
    tags?: string[];
}

export interface MeshNetworkArgs {
    /** Mesh range, IPv4 CIDR. Must not overlap any network the hosts already route. */
    cidr: string;
    /**
     * An IPv6 range for the mesh beside the IPv4 one (a ULA /64 such as fd12:3456:789a:2::/64): every
     * member gets an address in each, the same policy governs both (firewall sets per family), and
     * each peer's AllowedIPs hold both. Default: none (an IPv4 mesh).
     */
    cidr6?: string;
    /** The hosts. Plain values: they decide which resources exist. */
    nodes: MeshNodeArgs[];
    /** Peers that are not hosts (an administrator's laptop, the deploying machine). Default: none. */
    operators?: OperatorPeerArgs[];
    /**
     * Identities with a client certificate that reach nodes only through an MtlsGateway (people,
     * services outside the mesh). Rules name them like members; they get no key and no address.
     * Default: none.
     */
    clients?: GatewayClientArgs[];
    /** Who may reach whom, by identity. */
    rules: PolicyRule[];
    /** Assertions checked during preview; a failing one stops the preview. Default: none. */
    expect?: PolicyExpectations;
    /** Interface MTU. Default: 1420 (1500 underlay minus WireGuard over IPv6). */
    mtu?: number;
    /** WireGuard interface name on every member. Default: "wg0". */
    interfaceName?: string;
    /**
     * The addresses this mesh allocated last time (its `addresses`, as the stack exported them, e.g.
     * read with `previousStackOutput`): each member keeps its own, so newcomers never renumber anyone.
     * Default: none (each member takes the first free of its choices, in name order).
     */
    previousAddresses?: Record<string, string>;
    /** The same for the IPv6 range (the mesh's `addresses6`, as exported). Default: none. */
    previousAddresses6?: Record<string, string>;
}

export interface MeshMember extends PlannedMember {
    publicKey: pulumi.Output<string>;
    /** The member's WireGuard private key (secret): what a key cut-over stages. */
    privateKey: pulumi.Output<string>;
    /** The member's wg-quick configuration (secret). */
    config: pulumi.Output<string>;
    endpoint?: pulumi.Input<string>;
}

export class MeshNetwork extends pulumi.ComponentResource {
    readonly plan: MeshPlan;
    readonly members: Record<string, MeshMember>;
    /** Mesh address per member name (known at preview). */
    readonly addresses: Record<string, string>;
    /** IPv6 mesh address per member name, when the mesh has cidr6 (else empty). */
    readonly addresses6: Record<string, string>;
    /** What a configuration reads of each member, its pre-shared-key secret among it (secret). */
    private readonly peerViews: Map<string, pulumi.Output<MemberFacts & PskHolder>>;

    constructor(name: string, args: MeshNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate and compile before registering anything: bad input leaves no resource behind.
        const plan = planMesh(args);
        super("zerotrust:index:MeshNetwork", name, {}, opts);
        this.plan = plan;
        this.addresses = Object.fromEntries(plan.members.map((m) => [m.name, m.address]));
        this.addresses6 = Object.fromEntries(plan.members.flatMap((m) => (m.address6 ? [[m.name, m.address6]] : [])));

        const specs = new Map<string, { endpoint?: pulumi.Input<string>; ipv6Endpoint?: pulumi.Input<string> }>(
            [...args.nodes, ...(args.operators ?? [])].map((s) => [s.name, s]));
        const privateKeys = new Map<string, pulumi.Output<string>>();
        const publicKeys: Record<string, pulumi.Output<string>> = {};
        // What a configuration reads of a member (its public facts and its pre-shared-key secret), as one output.
        const peerView = new Map<string, pulumi.Output<MemberFacts & PskHolder>>();
        this.peerViews = peerView;
        for (const m of plan.members) {
            // Generation 1 has no keepers, as the key had before rotation existed. The seeds are
            // RandomPasswords, not RandomBytes, which keep their bytes in the state's clear ids: see key-seed.ts.
            const privateKey = keySeed(`${name}-${m.name}-wg-key`, "wireguard private key",
                m.keyGeneration > 1 ? { generation: String(m.keyGeneration) } : undefined, this).apply(clampPrivateKey);
            // One secret per member, not one resource per pair: pair keys are derived from two of them.
            const pskSecret = keySeed(`${name}-${m.name}-psk-secret`, "wireguard psk secret", { generation: String(m.pskGeneration) }, this);
            privateKeys.set(m.name, privateKey);
            publicKeys[m.name] = pulumi.unsecret(privateKey.apply(publicKeyOf));
            const endpoint = pulumi.output(specs.get(m.name)!.endpoint)
                .apply((e) => (e === undefined ? undefined : checkEndpoint(`${m.name}.endpoint`, e)));
            const ipv6Endpoint = pulumi.output(specs.get(m.name)!.ipv6Endpoint)
                .apply((e) => (e === undefined ? undefined : checkIPv6Endpoint(`${m.name}.ipv6Endpoint`, e)));
            peerView.set(m.name, pulumi.all([publicKeys[m.name], endpoint, ipv6Endpoint, pskSecret]).apply(([publicKey, ep, ep6, secret]) => ({
                name: m.name, address: m.address, publicKey, endpoint: ep, listenPort: m.listenPort, behindNat: m.behindNat, secret,
                ...(m.address6 ? { address6: m.address6 } : {}),
                // Absent, not undefined, when not set: the facts of an IPv4-only mesh stay as they were.
                ...(ep6 === undefined ? {} : { ipv6Endpoint: ep6 }), ...(m.ipv6Only ? { ipv6Only: true } : {}),
            })));
        }

        // Members whose peers (with themselves) are the same set share one combined output: in a full
        // mesh that is one for the whole mesh, so the outputs stay O(N) while each configuration still
        // depends only on the keys and secrets it reads.
        const groups = new Map<string, pulumi.Output<Record<string, MemberFacts & PskHolder>>>();
        const groupOf = (member: string) => {
            const closed = [...plan.policy.peers[member], member].sort();
            const key = createHash("sha256").update(closed.join(" ")).digest("base64");
            let group = groups.get(key);
            if (!group) {
                group = pulumi.all(Object.fromEntries(closed.map((p) => [p, peerView.get(p)!])));
                groups.set(key, group);
            }
            return group;
        };
        this.members = {};
        for (const m of plan.members) {
            const peers = plan.policy.peers[m.name];
            // Nested applies, not pulumi.all: `all` would walk the shared record again for every member.
            const group = groupOf(m.name);
            const config = pulumi.secret(privateKeys.get(m.name)!.apply((priv) => group.apply((views) =>
                renderWireGuardConfig(wireGuardInterfaceFor(views[m.name], priv, plan.prefixLength, plan.mtu,
                    peers.map((p) => ({ ...views[p], presharedKey: derivePresharedKey(views[m.name], views[p]) })), plan.prefixLength6)))));
            this.members[m.name] = { ...m, publicKey: publicKeys[m.name], privateKey: privateKeys.get(m.name)!, config, endpoint: specs.get(m.name)!.endpoint };
        }
        this.registerOutputs({ addresses: this.addresses, ...(plan.cidr6 ? { addresses6: this.addresses6 } : {}), publicKeys });
    }

    /**
     * One member as plain data: what a ZeroTrustNode takes as `member` (a node), or as `deployerPeer`
     * and a LabOperator as `member` (an operator peer). Throws for a name that is no member.
     */
    member(name: string): MeshMemberData {
        const m = this.members[name];
        if (!m) {
            throw new ValidationError("member", name, `is not a member of this mesh (gateway clients have no key); its members are ${Object.keys(this.members).join(", ")}`);
        }
        return {
            name: m.name, kind: m.kind, address: m.address, ...(m.address6 ? { address6: m.address6 } : {}),
            ...(m.listenPort !== undefined ? { listenPort: m.listenPort } : {}),
            interfaceName: this.plan.interfaceName,
            addresses: this.addresses, ...(this.plan.cidr6 ? { addresses6: this.addresses6 } : {}),
            policy: this.plan.policy,
            publicKey: m.publicKey, privateKey: m.privateKey, wireguardConfig: m.config,
            operatorPresharedKeys: this.operatorPresharedKeysOf(name),
        };
    }

    /** A member's pre-shared key with each operator peer it has (secret), by name: a cut-over's deployer pair. */
    private operatorPresharedKeysOf(name: string): pulumi.Output<Record<string, string>> {
        const operators = this.plan.policy.peers[name].filter((p) => this.members[p]?.kind === "operator");
        return pulumi.secret(pulumi.all(Object.fromEntries(operators.map((o) => [o, this.presharedKeyOf(name, o)]))));
    }

    /**
     * Every member's data, for other stacks (read there with membersFromStack): export both,
     * `export const { members, memberKeys } = mesh.exportMembers();`. The keys are one secret output.
     */
    exportMembers(): { [MEMBER_OUTPUTS.members]: Record<string, PlainMemberData>; [MEMBER_OUTPUTS.keys]: pulumi.Output<Record<string, MemberKeys>> } {
        const data = Object.keys(this.members).map((name) => this.member(name));
        const members = Object.fromEntries(data.map(({ publicKey: _p, privateKey: _k, wireguardConfig: _c, operatorPresharedKeys: _o, ...plain }) => [plain.name, plain]));
        const keysOf = (d: MeshMemberData): pulumi.Output<MemberKeys> => pulumi.all([d.publicKey, d.privateKey, d.wireguardConfig, d.operatorPresharedKeys])
            .apply(([publicKey, privateKey, wireguardConfig, operatorPresharedKeys]) => ({ publicKey, privateKey, wireguardConfig, operatorPresharedKeys }));
        const memberKeys = pulumi.secret(pulumi.all(Object.fromEntries(data.map((d) => [d.name, keysOf(d)]))) as pulumi.Output<Record<string, MemberKeys>>);
        return { [MEMBER_OUTPUTS.members]: members, [MEMBER_OUTPUTS.keys]: memberKeys } as const;
    }

    /**
     * The pre-shared key of two members that are peers (secret): what both their configurations
     * hold for each other, and what a key cut-over stages for the deployer's peer.
     */
    presharedKeyOf(a: string, b: string): pulumi.Output<string> {
        for (const m of [a, b]) if (!this.members[m]) throw new pulumi.ResourceError(`'${m}' is not a member of this mesh`, this);
        if (!this.plan.policy.peers[a].includes(b)) throw new pulumi.ResourceError(`'${a}' and '${b}' are not peers: they have no pre-shared key`, this);
        return pulumi.secret(pulumi.all([this.peerViews.get(a)!, this.peerViews.get(b)!]).apply(([x, y]) => derivePresharedKey(x, y)));
    }

    /** A member's wg-quick configuration (secret). */
    configOf(member: string): pulumi.Output<string> {
        const m = this.members[member];
        if (!m) throw new pulumi.ResourceError(`'${member}' is not a member of this mesh`, this);
        return m.config;
    }
}
