// Looking for secrets in clear in an exported Pulumi state: which values to look for (and the
// other forms that would give them away), and where in the export they occur.
import { createPrivateKey } from "crypto";

/** The engine's mark on a secret value in an exported deployment. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The plaintext of every value the engine marks secret in a `--show-secrets` export. */
export function secretPlaintexts(node: unknown, found: string[] = []): string[] {
    if (Array.isArray(node)) node.forEach((n) => secretPlaintexts(n, found));
    else if (node && typeof node === "object") {
        const o = node as Record<string, unknown>;
        if (SECRET_SIG in o && typeof o.plaintext === "string") strings(JSON.parse(o.plaintext), found);
        else Object.values(o).forEach((v) => secretPlaintexts(v, found));
    }
    return found;
}

function strings(node: unknown, found: string[]): void {
    if (typeof node === "string") found.push(node);
    else if (node && typeof node === "object") Object.values(node).forEach((v) => strings(v, found));
}

/**
 * What would give a secret away, as text that can be searched for: the value; for 32-byte keys also
 * the middle of their base64 and their hex (the bytes a clamp or another encoding leaves alone: the
 * seed a key came from); for a PEM private key its private part (JWK `d`) in base64url and hex.
 * Not a line of a PEM body: an EC key's PEM also holds its public key.
 */
export function telltales(label: string, value: string): [string, string][] {
    const out: [string, string][] = [[label, value]];
    const raw = Buffer.from(value, "base64");
    if (/^[A-Za-z0-9+/]{43}=$/.test(value) && raw.length === 32) {
        out.push([`${label} (base64 of bytes 3..29)`, value.slice(4, 40)], [`${label} (hex of bytes 1..30)`, raw.subarray(1, 31).toString("hex")]);
    }
    // One PEM key (PKCS#8, SEC1 or PKCS#1); an OpenSSH key or PEMs joined on a stdin are checked whole.
    if (/^-----BEGIN (EC |RSA )?PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END (EC |RSA )?PRIVATE KEY-----\n?$/.test(value)) {
        const d = createPrivateKey(value).export({ format: "jwk" }).d!;
        out.push([`${label} (its private part, base64url)`, d], [`${label} (its private part, hex)`, Buffer.from(d, "base64url").toString("hex")]);
    }
    return out;
}

/** Where (JSON path) each telltale occurs in a document, e.g. "resources[4].id: db's private key". */
export function occurrences(doc: unknown, secrets: [string, string][], path = "$"): string[] {
    if (typeof doc === "string") return secrets.filter(([, s]) => doc.includes(s)).map(([label]) => `${path}: ${label}`);
    if (Array.isArray(doc)) return doc.flatMap((d, i) => occurrences(d, secrets, `${path}[${i}]`));
    if (doc && typeof doc === "object") return Object.entries(doc).flatMap(([k, v]) => occurrences(v, secrets, `${path}.${k}`));
    return [];
}

/** The secret values shaped like key material: seeds, 32-byte keys in base64, PEM and OpenSSH private keys. */
export function keyShaped(values: string[]): string[] {
    return values.filter((v) => /^[A-Za-z0-9]{64}$/.test(v) || /^[A-Za-z0-9+/]{43}=$/.test(v) || /^-----BEGIN [A-Z ]*PRIVATE KEY-----\n/.test(v));
}
