// Pair keys derived from per-member secrets: symmetric, bound to the pair, and equal to what
// OpenSSL's own HKDF computes from the same inputs.
import test from "ava";
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { derivePresharedKey } from "../../components/preshared-keys";
import { isWireGuardKey } from "../../components/wireguard-keys";

const holder = (name: string) => ({ name, secret: randomBytes(32).toString("base64") });

test("both ends of a pair derive the same key, a valid WireGuard key", (t) => {
    const [a, b] = [holder("app-1"), holder("db")];
    const key = derivePresharedKey(a, b);
    t.is(derivePresharedKey(b, a), key);
    t.true(isWireGuardKey(key));
});

test("the key is HKDF-SHA256 over the two secrets in name order, salted, with the pair as info (checked by openssl kdf)", (t) => {
    const [a, b] = [holder("db"), holder("app-1")];
    const hex = (h: { secret: string }) => Buffer.from(h.secret, "base64").toString("hex");
    const out = execFileSync("openssl", ["kdf", "-keylen", "32", "-kdfopt", "digest:SHA256",
        "-kdfopt", `hexkey:${hex(b)}${hex(a)}`, "-kdfopt", `salt:zerotrust wireguard psk v1`, "-kdfopt", "info:app-1--db", "HKDF"],
    { encoding: "utf8" }).trim().replace(/:/g, "");
    t.is(Buffer.from(derivePresharedKey(a, b), "base64").toString("hex").toUpperCase(), out.toUpperCase());
});

test("a new secret for one member changes the keys of its pairs and no other", (t) => {
    const [a, b, c] = [holder("a"), holder("b"), holder("c")];
    const c2 = { ...c, secret: randomBytes(32).toString("base64") };
    t.is(derivePresharedKey(a, b), derivePresharedKey(a, b));
    t.not(derivePresharedKey(a, c), derivePresharedKey(a, c2));
    t.not(derivePresharedKey(b, c), derivePresharedKey(b, c2));
    // The same two secrets under other names give another key: keys are bound to the pair.
    t.not(derivePresharedKey(a, b), derivePresharedKey({ ...a, name: "x" }, b));
});

test("bad secrets and a pair with itself are refused with the member's name", (t) => {
    t.throws(() => derivePresharedKey({ name: "a", secret: "c2hvcnQ=" }, holder("b")), { message: /^a: .*32 bytes.*got 5/ });
    const a = holder("a");
    t.throws(() => derivePresharedKey(a, a), { message: /a: .*itself/ });
});
