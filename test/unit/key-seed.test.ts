// The derivation of key material from a RandomPassword seed: deterministic, 32 bytes, one label per use.
import test from "ava";
import { hkdfSync } from "crypto";
import { deriveKeyMaterial } from "../../components/key-seed";

const SEED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789AB";

test("32 bytes, the same for the same seed and use, HKDF-SHA256 with the seed as input key material", (t) => {
    const key = deriveKeyMaterial(SEED, "wireguard private key");
    t.is(Buffer.from(key, "base64").length, 32);
    t.is(deriveKeyMaterial(SEED, "wireguard private key"), key);
    const expected = Buffer.from(hkdfSync("sha256", Buffer.from(SEED), Buffer.from("zerotrust key seed v1"), Buffer.from("wireguard private key"), 32)).toString("base64");
    t.is(key, expected);
});

test("each use gives other bytes from the same seed, and another seed other bytes", (t) => {
    t.not(deriveKeyMaterial(SEED, "wireguard private key"), deriveKeyMaterial(SEED, "wireguard psk secret"));
    t.not(deriveKeyMaterial(SEED, "wireguard private key"), deriveKeyMaterial(SEED.replace("a", "b"), "wireguard private key"));
});

test("a seed that is not 64 characters of [A-Za-z0-9] is refused (a short seed would be a weak key)", (t) => {
    t.throws(() => deriveKeyMaterial(SEED.slice(1), "wireguard psk secret"), { message: /64 characters/ });
    t.throws(() => deriveKeyMaterial(SEED.slice(1) + "!", "wireguard psk secret"), { message: /64 characters/ });
});
