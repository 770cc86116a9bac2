// Input validation for every value that ends up in a config file or a shell.
// Each check is an allowlist: a value passes only if it is made of the characters the target
// format needs, so config tokens (; { } #), quotes, newlines, shell metacharacters and unicode
// look-alikes are rejected before any resource exists.

/** Thrown for bad input; the message names the field, the value and the rule. */
export class ValidationError extends Error {
    constructor(readonly field: string, readonly value: unknown, rule: string) {
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

/** host:port where host is an IPv4 address or DNS name; the form WireGuard's Endpoint takes. */
export function checkEndpoint(field: string, value: unknown): string {
    const s = requireString(field, value);
    const m = /^([^:]+):(\d{1,5})$/.exec(s);
    if (!m) {
        throw new ValidationError(field, value, "expected host:port, such as 203.0.113.7:51820 or vpn.example.org:51820");
    }
    if (parseIPv4(m[1]) === null) checkDnsName(field, m[1]);
    checkPort(field, Number(m[2]));
    return s;
}

/** An address that SSH or WireGuard dials: IPv4 or a DNS name. */
export function checkHost(field: string, value: unknown): string {
    const s = requireString(field, value);
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
