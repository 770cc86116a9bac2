// IPv6 text and arithmetic, pure. The parser is an allowlist: hex groups and at most one "::",
// nothing else. No zone ids ("%eth0": an address that means something on one link only) and no
// dotted IPv4 tails ("::ffff:203.0.113.1": the same address as 203.0.113.1, so a check made on one
// form could be passed by the other); validate.ts turns a null into a message that says which.

const GROUP = /^[0-9a-fA-F]{1,4}$/;
const BITS = 128n;
const ALL = (1n << BITS) - 1n;

/** Parses IPv6 text (RFC 4291 hex form, "::" compression) into a 128-bit number; null when it is not one. */
export function parseIPv6(s: string): bigint | null {
    // 8 groups of 4 digits and 7 colons; anything longer is not an address whatever it holds.
    if (s.length < 2 || s.length > 39 || !/^[0-9a-fA-F:]+$/.test(s)) return null;
    const halves = s.split("::");
    if (halves.length > 2) return null;
    const groups = (text: string) => (text === "" ? [] : text.split(":"));
    const head = groups(halves[0]);
    const tail = halves.length === 2 ? groups(halves[1]) : [];
    if (![...head, ...tail].every((g) => GROUP.test(g))) return null;
    const count = head.length + tail.length;
    // "::" stands for at least one zero group; without it there must be exactly eight.
    if (halves.length === 2 ? count > 7 : count !== 8) return null;
    const all = [...head, ...Array<string>(8 - count).fill("0"), ...tail];
    return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** The canonical text (RFC 5952): lowercase, no leading zeros, the longest run of zero groups as "::". */
export function formatIPv6(n: bigint): string {
    const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
    let best = { start: -1, length: 1 }; // a single zero group is not compressed
    for (let i = 0; i < 8;) {
        if (groups[i] !== 0) { i++; continue; }
        let j = i;
        while (j < 8 && groups[j] === 0) j++;
        if (j - i > best.length) best = { start: i, length: j - i };
        i = j;
    }
    const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
    if (best.start < 0) return hex(groups);
    return `${hex(groups.slice(0, best.start))}::${hex(groups.slice(best.start + best.length))}`;
}

export interface Cidr6 {
    network: bigint;
    prefix: number;
    text: string;
}

export function mask6(prefix: number): bigint {
    return prefix === 0 ? 0n : (ALL << (BITS - BigInt(prefix))) & ALL;
}

export function cidr6Contains(cidr: Cidr6, address: bigint): boolean {
    return (address & mask6(cidr.prefix)) === cidr.network;
}

export function cidrs6Overlap(a: Cidr6, b: Cidr6): boolean {
    const shorter = a.prefix <= b.prefix ? a : b;
    return cidr6Contains(shorter, (shorter === a ? b : a).network);
}

const range = (text: string, prefix: number): Cidr6 => ({ network: parseIPv6(text)!, prefix, text: `${text}/${prefix}` });

/**
 * Ranges that are no place to dial or to be dialled from, each with what to give instead. Loopback
 * (::1) is not among them, as 127.0.0.1 is not for IPv4.
 */
const SPECIAL: { range: Cidr6; what: (n: bigint) => string; exact?: boolean }[] = [
    { range: range("::", 128), exact: true, what: () => "is the unspecified address (::), which names no host; give the host's own address" },
    { range: range("::ffff:0:0", 96), what: (n) => `is an IPv4-mapped address, the same host as ${ipv4Of(n)}; give ${ipv4Of(n)} itself` },
    { range: range("::", 96), what: (n) => `is a deprecated IPv4-compatible address (of ${ipv4Of(n)}); give ${ipv4Of(n)} itself or the host's IPv6 address` },
    { range: range("ff00::", 8), what: () => "is a multicast address, not one host; give the host's unicast address" },
    { range: range("fe80::", 10), what: () => "is link-local, which needs a zone id (%eth0) that zerotrust does not accept; give the host's global or ULA (fd00::/8) address" },
];

function ipv4Of(n: bigint): string {
    return [24n, 16n, 8n, 0n].map((s) => String(Number((n >> s) & 255n))).join(".");
}

/** Why an address cannot be dialled (an endpoint, an SSH host, a certificate's IP), or undefined. */
export function ipv6DialRefusal(n: bigint): string | undefined {
    if (n === 1n) return undefined;
    return SPECIAL.find((s) => (s.exact ? s.range.network === n : cidr6Contains(s.range, n)))?.what(n);
}

/**
 * Why a source range (a bootstrap SSH source) is refused, or undefined. A source may be
 * link-local (a deployer on the same link needs no zone id to be matched), and ::/0 is "anyone".
 */
export function ipv6SourceRefusal(cidr: Cidr6): string | undefined {
    const single = cidr.prefix === 128;
    if (single && cidr.network === 1n) return undefined;
    for (const s of SPECIAL) {
        if (s.range.text === "fe80::/10") continue;
        if (s.exact ? single && cidr.network === s.range.network : cidr.prefix >= s.range.prefix && cidr6Contains(s.range, cidr.network)) {
            return s.what(cidr.network);
        }
    }
    return undefined;
}
