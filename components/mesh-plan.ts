// Everything about a mesh that is known before any resource exists: validated members, addresses
// and the compiled policy. MeshNetwork calls this first, so bad input fails the preview with
// nothing registered.
import { allocateAddresses } from "./addressing";
import { allocateAddresses6 } from "./addressing6";
import { Cidr6, ipv6DialRefusal } from "./ipv6";
import { CompiledPolicy, PolicyExpectations, PolicyMember, PolicyRule, checkExpectations, compilePolicy } from "./policy";
import { DEFAULT_MTU } from "./render/wireguard";
import {
    ValidationError, checkEndpoint, checkIPv4, checkIPv6, checkIPv6Endpoint, checkInterfaceName, checkName, checkPort, checkPositiveInt, checkTag, checkUnique,
    parseCidr, parseCidr6, parseIPv4, splitHostPort,
} from "./validate";

export const DEFAULT_WG_PORT = 51820;

/** The fields of a node or operator peer that the plan reads (endpoints may still be unknown). */
export interface MemberSpec {
    name: string;
    tags?: string[];
    endpoint?: unknown;
    ipv6Endpoint?: unknown;
    ipv6Only?: boolean;
    listenPort?: number;
    behindNat?: boolean;
    address?: string;
    address6?: string;
    management?: boolean;
    pskGeneration?: number;
    keyGeneration?: number;
}

/** A gateway client: an identity with a certificate, not on the mesh. */
export interface ClientSpec {
    name: string;
    tags?: string[];
}

export interface MeshPlanInput {
    cidr: string;
    cidr6?: string;
    nodes: MemberSpec[];
    operators?: MemberSpec[];
    clients?: ClientSpec[];
    rules: PolicyRule[];
    expect?: PolicyExpectations;
    mtu?: number;
    interfaceName?: string;
    previousAddresses?: Record<string, string>;
    previousAddresses6?: Record<string, string>;
}

export interface PlannedMember extends PolicyMember {
    address: string;
    /** Its address in the mesh's IPv6 range, when the mesh has one. */
    address6?: string;
    /** UDP port it listens on; operator peers listen on none. */
    listenPort?: number;
    behindNat: boolean;
    /** It has no IPv4 underlay: it dials its peers over IPv6 only. */
    ipv6Only: boolean;
    /** Generation of its pre-shared-key secret: a new generation rotates the keys of its pairs. */
    pskGeneration: number;
    /** Generation of its WireGuard key: a new generation rotates it (1 is the key made at first). */
    keyGeneration: number;
}

export interface MeshPlan {
    cidr: string;
    prefixLength: number;
    /** The mesh's IPv6 range beside its IPv4 one, and its prefix length. */
    cidr6?: string;
    prefixLength6?: number;
    mtu: number;
    interfaceName: string;
    /** Nodes and operator peers: the members on the mesh. */
    members: PlannedMember[];
    /** Everyone the policy names: the members, and the gateway clients. */
    policy: CompiledPolicy;
}

function nameAndTags(field: string, spec: ClientSpec): { name: string; tags: string[] } {
    if (typeof spec !== "object" || spec === null) throw new ValidationError(field, spec, "expected an object with at least a name");
    const name = checkName(`${field}.name`, spec.name);
    if (spec.tags !== undefined && !Array.isArray(spec.tags)) throw new ValidationError(`${field}.tags`, spec.tags, "expected a list of tags");
    return { name, tags: (spec.tags ?? []).map((t, i) => checkTag(`${field}.tags[${i}]`, t)) };
}

function planMember(field: string, spec: MemberSpec, kind: "node" | "operator"): Omit<PlannedMember, "address"> {
    const { name, tags } = nameAndTags(field, spec);
    // Plain endpoints are checked now; outputs (known only at deploy time) when they resolve.
    if (typeof spec.endpoint === "string") checkEndpoint(`${field}.endpoint`, spec.endpoint);
    if (typeof spec.ipv6Endpoint === "string") checkIPv6Endpoint(`${field}.ipv6Endpoint`, spec.ipv6Endpoint);
    if (spec.ipv6Only !== undefined && typeof spec.ipv6Only !== "boolean") throw new ValidationError(`${field}.ipv6Only`, spec.ipv6Only, "expected true or false");
    const ipv6Only = spec.ipv6Only ?? false;
    if (ipv6Only && typeof spec.endpoint === "string" && parseIPv4(splitHostPort(spec.endpoint)!.host) !== null) {
        throw new ValidationError(`${field}.endpoint`, spec.endpoint, "the node is ipv6Only, so no peer can reach it over IPv4: give its [IPv6]:port");
    }
    const pskGeneration = checkPositiveInt(`${field}.pskGeneration`, spec.pskGeneration ?? 1);
    const keyGeneration = checkPositiveInt(`${field}.keyGeneration`, spec.keyGeneration ?? 1);
    if (kind === "node") {
        return {
            name, tags, kind, pskGeneration, keyGeneration,
            management: spec.management ?? false,
            listenPort: checkPort(`${field}.listenPort`, spec.listenPort ?? DEFAULT_WG_PORT),
            behindNat: spec.behindNat ?? false,
            ipv6Only,
        };
    }
    if (spec.listenPort !== undefined) throw new ValidationError(`${field}.listenPort`, spec.listenPort, "operator peers do not listen; remove it");
    // An operator peer without an endpoint dials out, so it sits behind NAT as far as peers care.
    return {
        name, tags, kind, pskGeneration, keyGeneration, ipv6Only, management: spec.management ?? true,
        behindNat: spec.endpoint === undefined && spec.ipv6Endpoint === undefined,
    };
}

export function planMesh(input: MeshPlanInput): MeshPlan {
    const cidr = parseCidr("cidr", input.cidr);
    if (!Array.isArray(input.nodes) || input.nodes.length === 0) {
        throw new ValidationError("nodes", input.nodes, "the mesh needs at least one node");
    }
    const operators = input.operators ?? [];
    const mtu = checkPositiveInt("mtu", input.mtu ?? DEFAULT_MTU, 9000);
    if (mtu < 1280) throw new ValidationError("mtu", mtu, "must be at least 1280, the IPv6 minimum");
    const interfaceName = checkInterfaceName("interfaceName", input.interfaceName ?? "wg0");
    const partial = [
        ...input.nodes.map((n, i) => planMember(`nodes[${i}]`, n, "node")),
        ...operators.map((o, i) => planMember(`operators[${i}]`, o, "operator")),
    ];
    if (input.clients !== undefined && !Array.isArray(input.clients)) throw new ValidationError("clients", input.clients, "expected a list of clients");
    const clients: PolicyMember[] = (input.clients ?? []).map((c, i) => ({ ...nameAndTags(`clients[${i}]`, c), kind: "client", management: false }));
    checkUnique("nodes/operators/clients", [...partial, ...clients].map((m) => m.name), "member");
    const previous = input.previousAddresses ?? {};
    if (typeof previous !== "object" || previous === null || Array.isArray(previous)) {
        throw new ValidationError("previousAddresses", previous, "expected the mesh's addresses by member name, as the stack exported them");
    }
    for (const [member, address] of Object.entries(previous)) checkIPv4(`previousAddresses.${member}`, address);
    const addresses = allocateAddresses(cidr.text, [...input.nodes, ...operators], "cidr", previous);
    const cidr6 = input.cidr6 === undefined ? undefined : checkMeshCidr6("cidr6", input.cidr6);
    const addresses6 = cidr6 ? allocateAddresses6(cidr6.text, [...input.nodes, ...operators], "cidr6", checkPrevious6(input.previousAddresses6)) : undefined;
    for (const m of [...input.nodes, ...operators]) {
        if (!cidr6 && m.address6 !== undefined) throw new ValidationError(`${m.name}.address6`, m.address6, "the mesh has no IPv6 range: give cidr6, or drop address6");
    }
    const members = partial.map((m) => ({ ...m, address: addresses.get(m.name)!, ...(addresses6 ? { address6: addresses6.get(m.name)! } : {}) }));
    const policy = compilePolicy([...members, ...clients], input.rules);
    checkExpectations(policy, input.rules, input.expect);
    return {
        cidr: cidr.text, prefixLength: cidr.prefix, ...(cidr6 ? { cidr6: cidr6.text, prefixLength6: cidr6.prefix } : {}),
        mtu, interfaceName, members, policy,
    };
}

/** The mesh's IPv6 range: room for hosts (/16 to /124), and no special range (mapped, multicast, link-local). */
function checkMeshCidr6(field: string, value: unknown): Cidr6 {
    const cidr = parseCidr6(field, value);
    if (cidr.prefix < 16 || cidr.prefix > 124) throw new ValidationError(field, value, "use a prefix from /16 to /124, such as a ULA /64 (fd12:3456:789a:2::/64)");
    const special = ipv6DialRefusal(cidr.network + 1n);
    if (special) {
        throw new ValidationError(field, value, `is not a range for hosts (its first address ${special.replace(/[;,].*$/, "")}); use a ULA /64 such as fd12:3456:789a:2::/64`);
    }
    return cidr;
}

function checkPrevious6(previous: unknown): Record<string, string> {
    if (previous === undefined) return {};
    if (typeof previous !== "object" || previous === null || Array.isArray(previous)) {
        throw new ValidationError("previousAddresses6", previous, "expected the mesh's IPv6 addresses by member name, as the stack exported them");
    }
    for (const [member, address] of Object.entries(previous)) checkIPv6(`previousAddresses6.${member}`, address);
    return previous as Record<string, string>;
}
