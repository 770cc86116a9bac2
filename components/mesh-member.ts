// One mesh member as plain data: what a ZeroTrustNode (or a LabOperator) takes instead of the
// MeshNetwork object, so that a node can live in another program or another stack than its mesh
// (a StackReference carries data, not components) and any Pulumi language can pass it.
// MeshNetwork.member(name) makes it. Everything that decides which resources exist, or what the
// preview renders, is a plain value; only the keys and the WireGuard configuration are inputs.
import * as pulumi from "@pulumi/pulumi";
import { CompiledPolicy } from "./policy";
import { ValidationError } from "./validate";

export interface MeshMemberData {
    /** The member's name in the mesh. */
    name: string;
    /** "node" (a host) or "operator" (a peer that is not a host). */
    kind: string;
    /** Its mesh address (IPv4). */
    address: string;
    /** Its address in the mesh's IPv6 range, when the mesh has one. */
    address6?: string;
    /** The WireGuard UDP port it listens on (nodes). */
    listenPort?: number;
    /** The mesh's WireGuard interface name on every member. */
    interfaceName: string;
    /** Every member's mesh address, by name: its firewall's sets, a gateway's upstreams. */
    addresses: Record<string, string>;
    /** Every member's IPv6 mesh address, by name, when the mesh has an IPv6 range. */
    addresses6?: Record<string, string>;
    /** The mesh's compiled policy: what its firewall and a gateway on it are made from. */
    policy: CompiledPolicy;
    /** Its WireGuard public key. */
    publicKey: pulumi.Input<string>;
    /** Its WireGuard private key (secret): what a key cut-over stages. */
    privateKey: pulumi.Input<string>;
    /** Its wg-quick configuration, with its peers and pre-shared keys (secret). */
    wireguardConfig: pulumi.Input<string>;
    /**
     * Its pre-shared key with each operator peer it has, by name (secret): a key cut-over stages the
     * one with the deployer's peer, whose tunnel handshakes with it after the switch.
     */
    operatorPresharedKeys: pulumi.Input<Record<string, string>>;
}

const isRecordOfStrings = (v: unknown): v is Record<string, string> =>
    typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");

/**
 * Checks member data before anything is registered (pure): the plain fields are what they must
 * be, it is the kind the taker needs, and the policy it carries knows it.
 */
export function checkMemberData(field: string, data: unknown, kind: "node" | "operator"): MeshMemberData {
    const fix = "pass what MeshNetwork.member(name) returns (or the same data from the mesh's stack)";
    if (typeof data !== "object" || data === null) throw new ValidationError(field, data, `expected a mesh member's data: ${fix}`);
    const d = data as Partial<MeshMemberData>;
    for (const key of ["name", "kind", "address", "interfaceName"] as const) {
        if (typeof d[key] !== "string") throw new ValidationError(`${field}.${key}`, d[key], `expected a string: ${fix}`);
    }
    if (!isRecordOfStrings(d.addresses)) throw new ValidationError(`${field}.addresses`, d.addresses, `expected each member's address by name: ${fix}`);
    if (d.addresses6 !== undefined && !isRecordOfStrings(d.addresses6)) {
        throw new ValidationError(`${field}.addresses6`, d.addresses6, `expected each member's IPv6 address by name: ${fix}`);
    }
    const policy = d.policy;
    if (typeof policy !== "object" || policy === null || !Array.isArray(policy.members) || typeof policy.peers !== "object") {
        throw new ValidationError(`${field}.policy`, policy, `expected the mesh's compiled policy: ${fix}`);
    }
    if (d.kind !== kind) {
        const what = kind === "node" ? "a node of the mesh (operator peers are not hosts)" : "an operator peer of the mesh (the deployer's own tunnel)";
        throw new ValidationError(field, d.name, `must name ${what}; ${d.name} is ${d.kind === "node" ? "a node" : `a ${d.kind}`}`);
    }
    if (!policy.members.some((m) => m.name === d.name && m.kind === kind) || d.addresses[d.name!] !== d.address) {
        throw new ValidationError(field, d.name, `is not ${kind === "node" ? "a node" : "an operator peer"} in the policy and addresses it carries: ${fix}`);
    }
    for (const key of ["publicKey", "privateKey", "wireguardConfig", "operatorPresharedKeys"] as const) {
        if (d[key] === undefined) throw new ValidationError(`${field}.${key}`, undefined, `is missing: ${fix}`);
    }
    return d as MeshMemberData;
}

/** A member's data without its keys: what a mesh's stack exports in the clear. */
export type PlainMemberData = Omit<MeshMemberData, "publicKey" | "privateKey" | "wireguardConfig" | "operatorPresharedKeys">;

/** A member's keys and configuration, exported as one secret output per stack. */
export interface MemberKeys { publicKey: string; privateKey: string; wireguardConfig: string; operatorPresharedKeys: Record<string, string> }

/** The stack outputs that carry a mesh's members to other stacks (MeshNetwork.exportMembers). */
export const MEMBER_OUTPUTS = { members: "members", keys: "memberKeys" } as const;

/**
 * The members a mesh's stack exported (`export const { members, memberKeys } = mesh.exportMembers()`),
 * read through a StackReference: the plain data as values (they decide which resources this
 * stack makes, so they are known at preview), the keys as secret outputs.
 */
export async function membersFromStack(ref: pulumi.StackReference): Promise<Record<string, MeshMemberData>> {
    const exported = (await ref.getOutputDetails(MEMBER_OUTPUTS.members)).value as Record<string, PlainMemberData> | undefined;
    if (typeof exported !== "object" || exported === null) {
        throw new ValidationError("StackReference", ref.name, `exports no '${MEMBER_OUTPUTS.members}': in the mesh's program, ` +
            `export const { ${MEMBER_OUTPUTS.members}, ${MEMBER_OUTPUTS.keys} } = mesh.exportMembers();`);
    }
    const keys = pulumi.secret(ref.getOutput(MEMBER_OUTPUTS.keys)) as pulumi.Output<Record<string, MemberKeys>>;
    const keyOf = <K extends keyof MemberKeys>(name: string, key: K) => keys.apply((k): MemberKeys[K] => {
        if (!k?.[name]) throw new Error(`${ref.name} exports no ${MEMBER_OUTPUTS.keys}.${name}: export mesh.exportMembers() whole`);
        return k[name][key];
    });
    return Object.fromEntries(Object.entries(exported).map(([name, data]) => [name, {
        ...data, publicKey: pulumi.unsecret(keyOf(name, "publicKey")), privateKey: keyOf(name, "privateKey"), wireguardConfig: keyOf(name, "wireguardConfig"),
        operatorPresharedKeys: keyOf(name, "operatorPresharedKeys"),
    }]));
}
