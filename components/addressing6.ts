// Mesh addresses in the mesh's IPv6 range (MeshNetwork cidr6), by the same rules as the IPv4 ones
// (addressing.ts): explicit addresses first, then every member keeps the address it had (`previous`,
// the stack's last export), then newcomers in name order take the first free of their name's
// hashes into the range, then the next free address. In a /64 a collision is practically never
// met, but a small range (a /120) is walked the same way.
import { createHash } from "crypto";
import { Cidr6, cidr6Contains, formatIPv6, parseIPv6 } from "./ipv6";
import { ValidationError, checkIPv6, parseCidr6 } from "./validate";

export interface AddressRequest6 {
    name: string;
    /** Explicit IPv6 mesh address; when absent it is allocated. */
    address6?: string;
}

const HASHED_CHOICES = 32;

/** Host addresses of the range: the network's own address (the subnet-router anycast) is left out. */
function hostRange(cidr: Cidr6): { first: bigint; count: bigint } {
    return { first: cidr.network + 1n, count: (1n << BigInt(128 - cidr.prefix)) - 1n };
}

/** The address a name's `choice`-th hash points to inside the range. */
export function hashedAddress6(name: string, cidr: Cidr6, choice = 0): bigint {
    const { first, count } = hostRange(cidr);
    const digest = createHash("sha256").update(choice === 0 ? `${name}/6` : `${name}/6#${choice}`).digest();
    return first + (digest.readBigUInt64BE(0) % count);
}

function isHostAddress(cidr: Cidr6, address: bigint | null): address is bigint {
    return address !== null && cidr6Contains(cidr, address) && address !== cidr.network;
}

/** One IPv6 address per member; refusals name the member, as allocateAddresses' do. */
export function allocateAddresses6(cidrText: string, members: AddressRequest6[], field = "cidr6",
    previous: Record<string, string> = {}): Map<string, string> {
    const cidr = parseCidr6(field, cidrText);
    const { first, count } = hostRange(cidr);
    if (count < BigInt(members.length)) {
        throw new ValidationError(field, cidrText, `the range has ${count} host addresses for ${members.length} members; choose a shorter prefix`);
    }
    const holders = new Map<bigint, string>();
    const result = new Map<string, bigint>();
    const take = (name: string, address: bigint) => { holders.set(address, name); result.set(name, address); };

    for (const m of members.filter((x) => x.address6 !== undefined)) {
        const explicitField = `${m.name}.address6`;
        const address = parseIPv6(checkIPv6(explicitField, m.address6))!;
        if (!isHostAddress(cidr, address)) throw new ValidationError(explicitField, m.address6, `must be a host address inside ${cidr.text}`);
        const holder = holders.get(address);
        if (holder !== undefined) throw new ValidationError(explicitField, m.address6, `it is also the explicit address of '${holder}'; give one of them another`);
        take(m.name, address);
    }
    const newcomers: string[] = [];
    for (const m of members.filter((x) => x.address6 === undefined)) {
        const before = previous[m.name] === undefined ? null : parseIPv6(previous[m.name]);
        if (!isHostAddress(cidr, before)) { newcomers.push(m.name); continue; }
        const holder = holders.get(before);
        if (holder !== undefined) {
            throw new ValidationError(`${holder}.address6`, formatIPv6(before),
                `'${m.name}' has had this address since it was allocated; give '${holder}' another so that no member is renumbered`);
        }
        take(m.name, before);
    }
    for (const name of newcomers.sort()) take(name, firstFree(name, cidr, holders, first, count));
    return new Map(members.map((m) => [m.name, formatIPv6(result.get(m.name)!)]));
}

function firstFree(name: string, cidr: Cidr6, holders: Map<bigint, string>, first: bigint, count: bigint): bigint {
    let candidate = first;
    for (let choice = 0; choice < HASHED_CHOICES; choice++) {
        candidate = hashedAddress6(name, cidr, choice);
        if (!holders.has(candidate)) return candidate;
    }
    for (let i = 1n; i < count; i++) {
        const next = first + ((candidate - first + i) % count);
        if (!holders.has(next)) return next;
    }
    throw new Error("unreachable: the capacity check leaves a free address");
}
