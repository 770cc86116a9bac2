// Pre-shared keys without one resource per pair: each member holds one tracked secret, and the key of
// a pair is HKDF-SHA256 (RFC 5869) over the two members' secrets, bound to the pair's names. Both
// ends derive the same key; a new secret for one member changes exactly the keys of its own pairs.
import { hkdfSync } from "crypto";
import { pairName } from "./enforcement";

/** Domain separation: a key derived here cannot equal one derived for another purpose. */
const SALT = Buffer.from("zerotrust wireguard psk v1");

export interface PskHolder {
    name: string;
    /** The member's pre-shared-key secret: 32 random bytes, base64. */
    secret: string;
}

function secretBytes(holder: PskHolder): Buffer {
    const raw = Buffer.from(holder.secret, "base64");
    if (raw.length !== 32) throw new Error(`${holder.name}: a pre-shared-key secret is 32 bytes in base64; got ${raw.length} bytes`);
    return raw;
}

/** The WireGuard pre-shared key (32 bytes, base64) of the pair {a, b}: the same whichever side asks. */
export function derivePresharedKey(a: PskHolder, b: PskHolder): string {
    if (a.name === b.name) throw new Error(`${a.name}: a member has no pre-shared key with itself`);
    const [first, second] = a.name < b.name ? [a, b] : [b, a];
    const ikm = Buffer.concat([secretBytes(first), secretBytes(second)]);
    return Buffer.from(hkdfSync("sha256", ikm, SALT, Buffer.from(pairName(first.name, second.name)), 32)).toString("base64");
}
