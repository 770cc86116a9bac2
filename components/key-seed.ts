// Secret key material for the mesh, from a random.RandomPassword. Not random.RandomBytes: the
// provider (4.21.1) keeps its bytes as the resource's id, and the state never encrypts ids, so every
// key would sit in the state in clear. A RandomPassword's id is "none" and its result is a secret
// output. Its 64 characters of [A-Za-z0-9] carry 64 * log2(62) = 381 bits; HKDF-SHA256 (RFC 5869)
// turns them into the 32 bytes a key needs, with one label per use, so the same seed could never
// give the same bytes to two purposes.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { hkdfSync } from "crypto";

/** Characters of a seed: the provider's upper, lower and numeric sets, uniformly drawn. */
export const SEED_LENGTH = 64;
const SEED_PATTERN = /^[A-Za-z0-9]{64}$/;
const SALT = Buffer.from("zerotrust key seed v1");

/** What a seed is for: each gives different bytes from the same seed. */
export type SeedUse = "wireguard private key" | "wireguard psk secret";

/** 32 bytes (base64) of key material for one use, from a seed. */
export function deriveKeyMaterial(seed: string, use: SeedUse): string {
    if (!SEED_PATTERN.test(seed)) throw new Error(`a key seed is ${SEED_LENGTH} characters of [A-Za-z0-9]; got ${seed.length} characters`);
    return Buffer.from(hkdfSync("sha256", Buffer.from(seed, "ascii"), SALT, Buffer.from(use), 32)).toString("base64");
}

/**
 * A tracked seed and the key material derived from it (secret). `keepers`: replaced when they
 * change (a new generation); none keeps the seed for the stack's lifetime.
 */
export function keySeed(name: string, use: SeedUse, keepers: Record<string, string> | undefined, parent: pulumi.Resource): pulumi.Output<string> {
    const seed = new random.RandomPassword(name, { length: SEED_LENGTH, special: false, keepers }, { parent });
    return pulumi.secret(seed.result.apply((s) => deriveKeyMaterial(s, use)));
}
