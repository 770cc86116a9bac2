// Stable mesh address allocation.
// A member's address depends only on its own name (a hash into the range) or on an explicit
// address, never on which other members exist, so adding or removing a member renumbers no one.
// Two members that land on the same address are an error that suggests a free address.
import { createHash } from "crypto";
import { Cidr, ValidationError, checkIPv4, cidrContains, formatIPv4, parseCidr, parseIPv4 } from "./validate";

export interface AddressRequest {
    name: string;
    /** Explicit address; when absent the address is derived from the name. */
    address?: string;
}

/** Usable host addresses of a CIDR: the network and broadcast addresses are left out. */
function hostRange(cidr: Cidr): { first: number; count: number } {
    const size = 2 ** (32 - cidr.prefix);
    if (size < 4) return { first: cidr.network, count: 0 };
    return { first: cidr.network + 1, count: size - 2 };
}

/** The address a name hashes to inside the range (the same for the same name and range, always). */
export function hashedAddress(name: string, cidr: Cidr): number {
    const { first, count } = hostRange(cidr);
    const digest = createHash("sha256").update(name).digest();
    return first + (digest.readUInt32BE(0) % count);
}

/**
 * Allocates one address per member. Throws a ValidationError naming the members involved when
 * two members collide, an explicit address lies outside the range, or the range is too small.
 */
export function allocateAddresses(cidrText: string, members: AddressRequest[], field = "meshCidr"): Map<string, string> {
    const cidr = parseCidr(field, cidrText);
    const { first, count } = hostRange(cidr);
    if (count < members.length) {
        throw new ValidationError(field, cidrText,
            `the range has ${count} host addresses for ${members.length} members; choose a shorter prefix`);
    }
    const byAddress = new Map<number, string>();
    const result = new Map<string, string>();
    for (const m of members) {
        let address: number;
        if (m.address !== undefined) {
            const explicitField = `${m.name}.address`;
            address = parseIPv4(checkIPv4(explicitField, m.address))!;
            if (!cidrContains(cidr, address) || address < first || address >= first + count) {
                throw new ValidationError(explicitField, m.address, `must be a host address inside ${cidrText}`);
            }
        } else {
            address = hashedAddress(m.name, cidr);
        }
        const holder = byAddress.get(address);
        if (holder !== undefined) {
            const free = suggestFree(byAddress, members, cidr, first, count);
            throw new ValidationError(`${m.name}.address`, formatIPv4(address),
                `it is also the address of '${holder}'; give '${m.name}' an explicit address` +
                (free ? ` (for example ${free})` : "") + " so that no existing member is renumbered");
        }
        byAddress.set(address, m.name);
        result.set(m.name, formatIPv4(address));
    }
    return result;
}

function suggestFree(taken: Map<number, string>, members: AddressRequest[], cidr: Cidr, first: number, count: number): string | undefined {
    // Skip the hashed addresses of every member too, so the suggestion cannot collide later.
    const reserved = new Set<number>(taken.keys());
    for (const m of members) if (m.address === undefined) reserved.add(hashedAddress(m.name, cidr));
    for (let i = count - 1; i >= 0; i--) {
        if (!reserved.has(first + i)) return formatIPv4(first + i);
    }
    return undefined;
}
