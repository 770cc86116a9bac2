// Input validation for every value that ends up in a config file or a shell.
// Each check is an allowlist: a value passes only if it is made of the characters the target
// format needs, so config tokens (; { } #), quotes, newlines, shell metacharacters and unicode
// look-alikes are rejected before any resource exists.
import { Cidr6, formatIPv6, ipv6DialRefusal, ipv6SourceRefusal, mask6, parseIPv6 } from "./ipv6";

/** Thrown for bad input; the message names the field, the value and the rule. */
export class ValidationError extends Error {
    constructor(readonly field: string, readonly value: unknown, readonly rule: string) {
        super(`${field}: ${describe(value)} is not valid: ${rule}`);
        this.name = "ValidationError";
    }
}

function describe(value: unknown): string {
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
    const shown = text.length > 80 ? `${text.slice(0, 80)}...(${text.length} chars)` : text;
    // JSON.stringify makes newlines, quotes and control characters visible in the message.
    return JSON.stringify(shown);
}

function requireString(field: string, value: unknown): string {
    if (typeof value !== "string") {
        throw new ValidationError(field, value, "expected a string");
    }
    return value;
}

const NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$/;

/** A node, operator or client name: it becomes part of file names, nft set names and DNS labels. */
export function checkName(field: string, value: unknown): string {
    const s = requireString(field, value);
    if (!NAME.test(s)) {
        throw new ValidationError(field, value,
            "use 1-32 characters: lowercase ASCII letters, digits and '-', starting with a letter, not ending with '-'");
    }
    return s;
}

/** A tag as written on a node (without the "tag:" prefix). */
export function checkTag(field: string, value: unknown): string {
    return checkName(field, value);
}

const INTERFACE = /^[a-zA-Z][a-zA-Z0-9_-]{0,14}$/;

/** A network interface name (Linux allows at most 15 characters). */
export function checkInterfaceName(field: string, value: unknown): string {
    const s = requireString(field, value);
    if (!INTERFACE.test(s)) {
        throw new ValidationError(field, value, "use 1-15 characters: ASCII letters, digits, '_' or '-', starting with a letter");
    }
    return s;
}

/** Parses dotted-quad IPv4 into a 32-bit unsigned number; null when it is not one. */
export function parseIPv4(s: string): number | null {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    if (!m) return null;
    const parts = m.slice(1).map(Number);
    if (parts.some((p, i) => p > 255 || (m[i + 1].length > 1 && m[i + 1].startsWith("0")))) return null;
    return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function formatIPv4(n: number): string {
    return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join(".");
}

export function checkIPv4(field: string, value: unknown): string {
    const s = requireString(field, value);
    if (parseIPv4(s) === null) {
        throw new ValidationError(field, value, "expected an IPv4 address such as 10.20.0.5");
    }
    return s;
}

export interface Cidr {
    network: number;
    prefix: number;
    text: string;
}

export function parseCidr(field: string, value: unknown): Cidr {
    const s = requireString(field, value);
    const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s);
    const network = m ? parseIPv4(m[1]) : null;
    const prefix = m ? Number(m[2]) : NaN;
    if (!m || network === null || prefix > 32) {
        throw new ValidationError(field, value, "expected an IPv4 CIDR such as 10.20.0.0/24");
    }
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    if ((network & mask) >>> 0 !== network) {
        throw new ValidationError(field, value,
            `host bits are set; the network is ${formatIPv4((network & mask) >>> 0)}/${prefix}`);
    }
    return { network, prefix, text: s };
}

export function cidrContains(cidr: Cidr, address: number): boolean {
    const mask = cidr.prefix === 0 ? 0 : (~0 << (32 - cidr.prefix)) >>> 0;
    return ((address & mask) >>> 0) === cidr.network;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
    const shorter = a.prefix <= b.prefix ? a : b;
    const other = shorter === a ? b : a;
    return cidrContains(shorter, other.network);
}

export function checkPort(field: string, value: unknown): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
        throw new ValidationError(field, value, "expected a whole number from 1 to 65535");
    }
    return value;
}

const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** A DNS name; `allowWildcard` permits one leading "*." label, as certificate SANs may carry. */
export function checkDnsName(field: string, value: unknown, allowWildcard = false): string {
    const s = requireString(field, value);
    const bare = allowWildcard && s.startsWith("*.") ? s.slice(2) : s;
    if (!HOSTNAME.test(bare)) {
        throw new ValidationError(field, value,
            "expected a DNS name: ASCII letters, digits, '-' and '.', labels of at most 63 characters");
    }
    return s;
}

/** Why `s` is not an IPv6 address one can dial, in words that point at the fix; undefined when it is one. */
function ipv6Rule(s: string): string | undefined {
    const n = parseIPv6(s);
    if (n !== null) return ipv6DialRefusal(n);
    if (s.includes("%")) {
        return "has a zone id (%...), which zerotrust does not accept (a link-local address means something on one link only); give the host's global or ULA address";
    }
    if (/^[0-9a-fA-F:]*:[0-9.]*\.[0-9.]*$/.test(s)) {
        return "writes an IPv4 address inside IPv6 text (::ffff:a.b.c.d is the IPv4 host itself); give the IPv4 address, or an IPv6 address in hex groups only";
    }
    if (s.startsWith("[")) return "has brackets; give the bare address (2001:db8::7): brackets go only around an address followed by a port";
    return "expected an IPv6 address such as 2001:db8::7: hex groups separated by ':', at most one '::'";
}

/** Text that can only be meant as IPv6 (a DNS name or an IPv4 address has no ':', '%' or brackets). */
const LOOKS_IPV6 = /[:%[\]]/;

/** An IPv6 address a host can be dialled at (not unspecified, multicast, link-local or IPv4-mapped); returned canonical (RFC 5952). */
export function checkIPv6(field: string, value: unknown): string {
    const s = requireString(field, value);
    const rule = ipv6Rule(s);
    if (rule) throw new ValidationError(field, value, rule);
    return formatIPv6(parseIPv6(s)!);
}

/** An IPv4 address as given, or an IPv6 address in canonical form. */
export function checkIPAddress(field: string, value: unknown): string {
    const s = requireString(field, value);
    if (LOOKS_IPV6.test(s)) return checkIPv6(field, s);
    if (parseIPv4(s) === null) throw new ValidationError(field, value, "expected an IPv4 address such as 10.20.0.5 or an IPv6 address such as 2001:db8::7");
    return s;
}

/** The family of an address or CIDR that was validated already. */
export function ipFamily(address: string): 4 | 6 {
    return address.includes(":") ? 6 : 4;
}

export function parseCidr6(field: string, value: unknown): Cidr6 {
    const s = requireString(field, value);
    const m = /^([^/]*)\/(\d{1,3})$/.exec(s);
    const network = m ? parseIPv6(m[1]) : null;
    const prefix = m ? Number(m[2]) : NaN;
    if (!m || prefix > 128 || (m[2].length > 1 && m[2].startsWith("0"))) {
        throw new ValidationError(field, value, "expected an IPv6 CIDR such as fd12:3456:789a:1::/64 (prefix length 0-128)");
    }
    // Syntax only: a range may hold special addresses (::/0 holds them all).
    if (network === null) throw new ValidationError(field, value, ipv6Rule(m[1])!);
    if ((network & mask6(prefix)) !== network) {
        throw new ValidationError(field, value, `host bits are set; the network is ${formatIPv6(network & mask6(prefix))}/${prefix}`);
    }
    return { network, prefix, text: `${formatIPv6(network)}/${prefix}` };
}

/**
 * An underlay source that may SSH while bootstrapping: an IPv4 or IPv6 address or CIDR. IPv6 comes
 * back canonical; IPv4-mapped, multicast and unspecified sources are refused with what to give instead.
 */
export function checkSource(field: string, value: unknown): string {
    const s = requireString(field, value);
    if (!LOOKS_IPV6.test(s)) return s.includes("/") ? parseCidr(field, s).text : checkIPv4(field, s);
    let cidr: Cidr6;
    if (s.includes("/")) {
        cidr = parseCidr6(field, s);
    } else {
        const n = parseIPv6(s);
        if (n === null) throw new ValidationError(field, value, ipv6Rule(s)!);
        cidr = { network: n, prefix: 128, text: formatIPv6(n) };
    }
    const refusal = ipv6SourceRefusal(cidr);
    if (refusal) throw new ValidationError(field, value, refusal);
    return cidr.text;
}

/** Splits "host:port" or "[IPv6]:port" (syntax only; the parts are checked by the caller); undefined when neither. */
export function splitHostPort(s: string): { host: string; port: string; bracketed: boolean } | undefined {
    const bracketed = /^\[([^\]]*)\]:(\d{1,5})$/.exec(s);
    if (bracketed) return { host: bracketed[1], port: bracketed[2], bracketed: true };
    const plain = /^([^:[\]]+):(\d{1,5})$/.exec(s);
    return plain ? { host: plain[1], port: plain[2], bracketed: false } : undefined;
}

/** host:port, with an IPv6 host in brackets (the form WireGuard, nginx and `ssh` known_hosts take). */
export function joinHostPort(host: string, port: number | string): string {
    return ipFamily(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * host:port where host is an IPv4 address or DNS name, or [IPv6]:port; the form WireGuard's
 * Endpoint takes. Returned with the port as a number and an IPv6 host canonical.
 */
export function checkEndpoint(field: string, value: unknown): string {
    const s = requireString(field, value);
    const parts = splitHostPort(s);
    if (!parts) {
        const rule = (s.match(/:/g) ?? []).length > 1 && !s.startsWith("[")
            ? "an IPv6 endpoint needs brackets around the address, such as [2001:db8::7]:51820"
            : "expected host:port, such as 203.0.113.7:51820, vpn.example.org:51820 or [2001:db8::7]:51820";
        throw new ValidationError(field, value, rule);
    }
    let host = parts.host;
    if (parts.bracketed) {
        if (host !== "" && !LOOKS_IPV6.test(host)) {
            throw new ValidationError(field, value, "brackets are for an IPv6 address only; write an IPv4 address or a DNS name without them, such as 203.0.113.7:51820");
        }
        const rule = ipv6Rule(host);
        if (rule) throw new ValidationError(field, value, rule);
        host = formatIPv6(parseIPv6(host)!);
    } else if (parseIPv4(host) === null) {
        checkDnsName(field, host);
    }
    return joinHostPort(host, checkPort(field, Number(parts.port)));
}

/** An endpoint that must be [IPv6]:port (a node's second, IPv6 endpoint); returned canonical. */
export function checkIPv6Endpoint(field: string, value: unknown): string {
    const endpoint = checkEndpoint(field, value);
    if (!endpoint.startsWith("[")) throw new ValidationError(field, value, "expected an IPv6 endpoint in brackets, such as [2001:db8::7]:51820");
    return endpoint;
}

/** An address that SSH or WireGuard dials: IPv4, IPv6 (bare, returned canonical) or a DNS name. */
export function checkHost(field: string, value: unknown): string {
    const s = requireString(field, value);
    if (LOOKS_IPV6.test(s)) return checkIPv6(field, s);
    if (parseIPv4(s) === null) checkDnsName(field, s);
    return s;
}

// Printable ASCII without the characters that end or escape a value in the formats we write
// (nginx, shell, openssl's DN syntax): quotes, backslash, ; { } # $ ` and the DN separators , + = / < >.
const DN_VALUE = /^[A-Za-z0-9]([A-Za-z0-9 ._@()-]{0,62}[A-Za-z0-9.)])?$/;

/** One value of a certificate subject (CN, O, OU). */
export function checkDnValue(field: string, value: unknown): string {
    const s = requireString(field, value);
    if (!DN_VALUE.test(s)) {
        throw new ValidationError(field, value,
            "use 1-64 characters: ASCII letters, digits, spaces and . _ @ ( ) -, starting with a letter or digit");
    }
    return s;
}

const LINUX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

export function checkUserName(field: string, value: unknown): string {
    const s = requireString(field, value);
    if (!LINUX_USER.test(s)) {
        throw new ValidationError(field, value, "expected a Linux user name: lowercase letters, digits, '_' and '-'");
    }
    return s;
}

const OPENSSH_PUBLIC = /^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) ([A-Za-z0-9+/=]+)( [A-Za-z0-9@._-]*)?$/;

/** The key type a public key blob declares in its first field (RFC 4253 string), or undefined. */
function blobKeyType(base64: string): string | undefined {
    const blob = Buffer.from(base64, "base64");
    if (blob.length < 4) return undefined;
    const length = blob.readUInt32BE(0);
    return blob.length >= 4 + length ? blob.subarray(4, 4 + length).toString("latin1") : undefined;
}

/** An OpenSSH public key line ("ssh-ed25519 AAAA... comment"), whose blob is of its stated type; returned trimmed. */
export function checkOpenSshPublicKey(field: string, value: unknown): string {
    const m = typeof value === "string" ? OPENSSH_PUBLIC.exec(value.trim()) : null;
    if (!m || blobKeyType(m[2]) !== m[1]) {
        throw new ValidationError(field, value, "expected an OpenSSH public key (\"ssh-ed25519 AAAA...\"), as in the host's /etc/ssh/ssh_host_ed25519_key.pub");
    }
    return m[0];
}

const PRIVATE_KEY = /^-----BEGIN ([A-Z]+ )?PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n-]+-----END ([A-Z]+ )?PRIVATE KEY-----\s*$/;

/** An OpenSSH or PEM private key. The message never shows the value: it is a secret. */
export function checkPrivateKey(field: string, value: unknown): string {
    if (typeof value !== "string" || !PRIVATE_KEY.test(value.trim())) {
        throw new ValidationError(field, "(a secret, not shown)",
            "expected an OpenSSH or PEM private key (\"-----BEGIN OPENSSH PRIVATE KEY-----\" ...), as ssh-keygen writes it");
    }
    return value;
}

/**
 * The host address at `index` counting from .10 of a subnet (.10, .11, ...), refused when the
 * subnet has no room for it. `given` overrides it (still checked to be inside).
 */
export function hostAddressAt(field: string, subnetText: string, index: number, given?: string): string {
    const subnet = parseCidr(field, subnetText);
    const address = given !== undefined ? checkIPv4(`${field} address`, given) : formatIPv4(subnet.network + 10 + index);
    const n = parseIPv4(address)!;
    const broadcast = subnet.network + 2 ** (32 - subnet.prefix) - 1;
    if (!cidrContains(subnet, n) || n === subnet.network || n === broadcast) {
        throw new ValidationError(field, subnetText, `has no room for host address ${address} (host ${index}); use a larger subnet`);
    }
    return address;
}

/** An absolute path without spaces, quotes or shell metacharacters. */
export function checkPath(field: string, value: unknown): string {
    const s = requireString(field, value);
    if (!/^\/[A-Za-z0-9._/-]{0,254}$/.test(s) || s.split("/").includes("..")) {
        throw new ValidationError(field, value, "expected an absolute path of letters, digits, '.', '_', '-' and '/', without '..'");
    }
    return s;
}

export function checkPositiveInt(field: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
        throw new ValidationError(field, value, `expected a whole number from 1 to ${max}`);
    }
    return value;
}

/** Names must be unique within one list; `kind` says what they name. */
export function checkUnique(field: string, names: string[], kind: string): void {
    const seen = new Set<string>();
    for (const n of names) {
        if (seen.has(n)) {
            throw new ValidationError(field, n, `two ${kind}s share this name; names must be unique`);
        }
        seen.add(n);
    }
}
