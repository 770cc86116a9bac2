// Addresses and prefixes as intervals of one family's address space (IPv4 or IPv6). Pure.
import { formatIPv6, parseIPv6 } from "../ipv6";
import { formatIPv4, parseIPv4 } from "../validate";
import { Interval, IntervalSet } from "./intervals";

export type Family = 4 | 6;

export interface Address {
    family: Family;
    value: bigint;
}

const BITS = { 4: 32, 6: 128 } as const;

const parsed = new Map<string, Address | null>();

/** An address's family and value (memoized: a ruleset names the same addresses over and over). */
export function parseAddress(text: string): Address | null {
    let a = parsed.get(text);
    if (a === undefined) {
        a = parseUncached(text);
        if (parsed.size > 1_000_000) parsed.clear();
        parsed.set(text, a);
    }
    return a;
}

function parseUncached(text: string): Address | null {
    const v4 = parseIPv4(text);
    if (v4 !== null) return { family: 4, value: BigInt(v4) };
    const v6 = parseIPv6(text);
    return v6 === null ? null : { family: 6, value: v6 };
}

export function formatAddress(a: Address): string {
    return a.family === 4 ? formatIPv4(Number(a.value)) : formatIPv6(a.value);
}

/** The addresses of a prefix, e.g. 10.0.0.0/24, as one interval (a host address when len is the family's width). */
export function prefixInterval(family: Family, network: bigint, len: number): Interval {
    const host = BigInt(BITS[family] - len);
    const first = (network >> host) << host;
    return [first, first + (1n << host) - 1n];
}

export interface AddressBlock {
    family: Family;
    range: IntervalSet;
}

/** "10.0.0.5", "10.0.0.0/24", "fd12::5/128": the block it names, or null. */
export function parseBlock(text: string): AddressBlock | null {
    const [addr, len, extra] = text.trim().split("/");
    if (extra !== undefined) return null;
    const a = parseAddress(addr);
    if (!a) return null;
    const n = len === undefined ? BITS[a.family] : Number(len);
    if (!Number.isInteger(n) || n < 0 || n > BITS[a.family] || (len !== undefined && !/^\d+$/.test(len))) return null;
    return { family: a.family, range: [prefixInterval(a.family, a.value, n)] };
}

/** A block as text: a host address, a prefix, or first-last. */
export function formatBlock(family: Family, [a, b]: Interval): string {
    const f = (v: bigint) => formatAddress({ family, value: v });
    if (a === b) return f(a);
    const span = b - a + 1n;
    const bits = span.toString(2).length - 1;
    if (span === 1n << BigInt(bits) && a % span === 0n) return `${f(a)}/${BITS[family] - bits}`;
    return `${f(a)}-${f(b)}`;
}
