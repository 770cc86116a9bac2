import test from "ava";
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { clampPrivateKey, isWireGuardKey, publicKeyOf } from "../../components/wireguard-keys";

test("RFC 7748 section 6.1 vectors", (t) => {
    const alice = Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex").toString("base64");
    const bob = Buffer.from("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", "hex").toString("base64");
    t.is(Buffer.from(publicKeyOf(alice), "base64").toString("hex"), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    t.is(Buffer.from(publicKeyOf(bob), "base64").toString("hex"), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
});

test("the public key equals what `wg pubkey` prints, for 20 random keys", (t) => {
    for (let i = 0; i < 20; i++) {
        const priv = clampPrivateKey(randomBytes(32).toString("base64"));
        const expected = execFileSync("wg", ["pubkey"], { input: priv + "\n", encoding: "utf8" }).trim();
        t.is(publicKeyOf(priv), expected);
        t.true(isWireGuardKey(priv) && isWireGuardKey(expected));
    }
});

test("clamping matches wg genkey's form and leaves the public key unchanged", (t) => {
    const raw = Buffer.alloc(32, 0xff).toString("base64");
    const clamped = Buffer.from(clampPrivateKey(raw), "base64");
    t.is(clamped[0] & 7, 0);
    t.is(clamped[31] & 0xc0, 0x40);
    t.is(publicKeyOf(clampPrivateKey(raw)), publicKeyOf(raw));
});

test("a key of the wrong length is refused", (t) => {
    t.throws(() => publicKeyOf(randomBytes(31).toString("base64")), { message: /32 bytes/ });
});
