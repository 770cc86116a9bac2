// Mesh address allocation that never collides and never moves a member.
// A member's first choice is a hash of its name into the range (the address 0.1.0 gave it); when
// that is taken it tries further hashes of its name, then the next free address. Explicit
// addresses come first, then every member keeps the address it was allocated before (`previous`:
// what the stack exported last time), then newcomers choose in name order. So with `previous`
// adding or removing members renumbers no one, and allocation succeeds while the range has room.
import { createHash } from "crypto";
import { Cidr, ValidationError, checkIPv4, cidrContains, formatIPv4, parseCidr, parseIPv4 } from "./validate";

export interface AddressRequest {
    name: string;
    /** Explicit address; when absent the address is allocated. */
    address?: string;
}

/** Hashed choices tried before walking the range: at half full, all of them taken has odds 2^-32. */
const HASHED_CHOICES = 32;

/** Usable host addresses of a CIDR: the network and broadcast addresses are left out. */
function hostRange(cidr: Cidr): { first: number; count: number } {
    const size = 2 ** (32 - cidr.prefix);
    if (size < 4) return { first: cidr.network, count: 0 };
    return { first: cidr.network + 1, count: size - 2 };
}

/** The address a name's `choice`-th hash points to inside the range (choice 0: 0.1.0's address). */
export function hashedAddress(name: string, cidr: Cidr, choice = 0): number {
    const { first, count } = hostRange(cidr);
    const digest = createHash("sha256").update(choice === 0 ? name : `${name}#${choice}`).digest();
    return first + (digest.readUInt32BE(0) % count);
}

function isHostAddress(cidr: Cidr, address: number | null): address is number {
    const { first, count } = hostRange(cidr);
    return address !== null && cidrContains(cidr, address) && address >= first && address < first + count;
}

/**
 * Allocates one address per member: explicit ones as given, earlier allocations kept, newcomers
 * on the first free of their choices. Throws a ValidationError naming the member when an explicit
 * address is outside the range or held by another member, or the range is too small.
 */
export function allocateAddresses(cidrText: string, members: AddressRequest[], field = "meshCidr",
    previous: Record<string, string> = {}): Map<string, string> {
    const cidr = parseCidr(field, cidrText);
    const { first, count } = hostRange(cidr);
    if (count < members.length) {
        throw new ValidationError(field, cidrText,
            `the range has ${count} host addresses for ${members.length} members; choose a shorter prefix`);
    }
    const holders = new Map<number, string>();
    const result = new Map<string, number>();
    const take = (name: string, address: number) => { holders.set(address, name); result.set(name, address); };

    for (const m of members.filter((x) => x.address !== undefined)) {
        const explicitField = `${m.name}.address`;
        const address = parseIPv4(checkIPv4(explicitField, m.address))!;
        if (!isHostAddress(cidr, address)) throw new ValidationError(explicitField, m.address, `must be a host address inside ${cidrText}`);
        const holder = holders.get(address);
        if (holder !== undefined) throw new ValidationError(explicitField, m.address, `it is also the explicit address of '${holder}'; give one of them another`);
        take(m.name, address);
    }
    const toAllocate = members.filter((m) => m.address === undefined);
    const newcomers: string[] = [];
    for (const m of toAllocate) {
        const before = previous[m.name] === undefined ? null : parseIPv4(previous[m.name]);
        if (!isHostAddress(cidr, before)) { newcomers.push(m.name); continue; } // new, or the range changed
        const holder = holders.get(before);
        if (holder !== undefined) {
            throw new ValidationError(`${holder}.address`, formatIPv4(before),
                `'${m.name}' has had this address since it was allocated; give '${holder}' another so that no member is renumbered`);
        }
        take(m.name, before);
    }
    for (const name of newcomers.sort()) take(name, firstFree(name, cidr, holders, first, count));
    return new Map(members.map((m) => [m.name, formatIPv4(result.get(m.name)!)]));
}

function firstFree(name: string, cidr: Cidr, holders: Map<number, string>, first: number, count: number): number {
    let candidate = first;
    for (let choice = 0; choice < HASHED_CHOICES; choice++) {
        candidate = hashedAddress(name, cidr, choice);
        if (!holders.has(candidate)) return candidate;
    }
    // The range is nearly full: walk on from the last choice (the capacity check guarantees room).
    for (let i = 1; i < count; i++) {
        const next = first + ((candidate - first + i) % count);
        if (!holders.has(next)) return next;
    }
    throw new Error("unreachable: the capacity check leaves a free address");
}
