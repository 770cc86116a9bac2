// MeshNetwork: the WireGuard overlay. Addresses, keys and pre-shared keys are tracked resources;
// the peer graph comes from the identity policy, compiled once during preview.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { MemberFacts, pairName, wireGuardInterfaceFor } from "./enforcement";
import { MeshPlan, PlannedMember, planMesh } from "./mesh-plan";
import { PolicyExpectations, PolicyRule } from "./policy";
import { renderWireGuardConfig } from "./render/wireguard";
import { checkEndpoint } from "./validate";
import { clampPrivateKey, publicKeyOf } from "./wireguard-keys";

export interface MeshNodeArgs {
    /** Unique member name (lowercase letters, digits, '-'). */
    name: string;
    /** Tags that rules select with "tag:<tag>". Default: none. */
    tags?: string[];
    /** host:port peers dial to reach this node over the underlay. Default: none (it dials out only). */
    endpoint?: pulumi.Input<string>;
    /** WireGuard UDP port. Default: 51820. */
    listenPort?: number;
    /** Behind NAT: peers cannot dial it, and it sends keepalives. Default: false. */
    behindNat?: boolean;
    /** Explicit mesh address. Default: derived from the name (stable as members come and go). */
    address?: string;
    /** May SSH to every node over the mesh. Default: false. */
    management?: boolean;
}

export interface OperatorPeerArgs {
    /** Unique member name, e.g. "laptop-alice". */
    name: string;
    /** Tags that rules select with "tag:<tag>". Default: none. */
    tags?: string[];
    /** May SSH to every node over the mesh. Default: true. */
    management?: boolean;
    /** Explicit mesh address. Default: derived from the name. */
    address?: string;
    /** host:port where nodes can reach this peer. Default: none (it dials out and keeps alive). */
    endpoint?: pulumi.Input<string>;
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
}

export interface MeshMember extends PlannedMember {
    publicKey: pulumi.Output<string>;
    /** The member's wg-quick configuration (secret). */
    config: pulumi.Output<string>;
    endpoint?: pulumi.Input<string>;
}

export class MeshNetwork extends pulumi.ComponentResource {
    readonly plan: MeshPlan;
    readonly members: Record<string, MeshMember>;
    /** Mesh address per member name (known at preview). */
    readonly addresses: Record<string, string>;

    constructor(name: string, args: MeshNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate and compile before registering anything: bad input leaves no resource behind.
        const plan = planMesh(args);
        super("zerotrust:index:MeshNetwork", name, {}, opts);
        this.plan = plan;
        this.addresses = Object.fromEntries(plan.members.map((m) => [m.name, m.address]));

        const privateKeys: Record<string, pulumi.Output<string>> = {};
        for (const m of plan.members) {
            const seed = new random.RandomBytes(`${name}-${m.name}-wg-key`, { length: 32 }, { parent: this });
            privateKeys[m.name] = pulumi.secret(seed.base64.apply(clampPrivateKey));
        }
        const publicKeys = Object.fromEntries(Object.entries(privateKeys).map(([n, k]) => [n, pulumi.unsecret(k.apply(publicKeyOf))]));
        const psks: Record<string, pulumi.Output<string>> = {};
        for (const m of plan.members) for (const peer of plan.policy.peers[m.name]) {
            const pair = pairName(m.name, peer);
            psks[pair] ??= pulumi.secret(new random.RandomBytes(`${name}-${pair}-psk`, { length: 32 }, { parent: this }).base64);
        }

        const specs = new Map<string, { endpoint?: pulumi.Input<string> }>([...args.nodes, ...(args.operators ?? [])].map((s) => [s.name, s]));
        const endpoints = Object.fromEntries(plan.members.map((m) => [m.name,
            pulumi.output(specs.get(m.name)!.endpoint).apply((e) => (e === undefined ? undefined : checkEndpoint(`${m.name}.endpoint`, e)))]));
        const facts = pulumi.all([pulumi.all(endpoints), pulumi.all(publicKeys)]).apply(([eps, pubs]) =>
            Object.fromEntries(plan.members.map((m): [string, MemberFacts] => [m.name, {
                name: m.name, address: m.address, publicKey: pubs[m.name], endpoint: eps[m.name],
                listenPort: m.listenPort, behindNat: m.behindNat,
            }])));

        this.members = {};
        for (const m of plan.members) {
            const config = pulumi.secret(pulumi.all([facts, pulumi.all(psks), privateKeys[m.name]]).apply(([f, keys, priv]) =>
                renderWireGuardConfig(wireGuardInterfaceFor(plan.policy, f[m.name], priv, plan.prefixLength, plan.mtu, f, keys))));
            this.members[m.name] = { ...m, publicKey: publicKeys[m.name], config, endpoint: specs.get(m.name)!.endpoint };
        }
        this.registerOutputs({ addresses: this.addresses, publicKeys });
    }

    /** A member's wg-quick configuration (secret). */
    configOf(member: string): pulumi.Output<string> {
        const m = this.members[member];
        if (!m) throw new pulumi.ResourceError(`'${member}' is not a member of this mesh`, this);
        return m.config;
    }
}
