// WireGuard (X25519) keys from 32 random bytes, in plain Node: no native module, works under mocks.
import { createPrivateKey, createPublicKey } from "crypto";

// RFC 8410 PKCS#8 header for an X25519 private key; the 32 key bytes follow it.
const PKCS8_X25519_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");

function decodeKey(base64: string): Buffer {
    const raw = Buffer.from(base64, "base64");
    if (raw.length !== 32) {
        throw new Error(`a WireGuard key is 32 bytes in base64; got ${raw.length} bytes`);
    }
    return raw;
}

/** Clamps 32 random bytes the way `wg genkey` does, so stored keys look like wg's own. */
export function clampPrivateKey(randomBase64: string): string {
    const k = decodeKey(randomBase64);
    k[0] &= 248;
    k[31] = (k[31] & 127) | 64;
    return k.toString("base64");
}

/** The public key `wg pubkey` prints for this private key. */
export function publicKeyOf(privateBase64: string): string {
    const der = Buffer.concat([PKCS8_X25519_PREFIX, decodeKey(privateBase64)]);
    const key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    const spki = createPublicKey(key).export({ format: "der", type: "spki" });
    return spki.subarray(spki.length - 32).toString("base64");
}

export function isWireGuardKey(s: string): boolean {
    return /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(s);
}
