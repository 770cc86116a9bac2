// Rendered wg-quick configs, taken apart by the real `wg-quick strip` and loaded with `wg setconf`
// into a wireguard-go interface inside a throwaway namespace.
import test from "ava";
import { randomBytes } from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderWireGuardConfig } from "../../components/render/wireguard";
import { checkEndpoint } from "../../components/validate";
import { clampPrivateKey, publicKeyOf } from "../../components/wireguard-keys";
import { inNamespace, run, scratchNamespace, wireguardGo } from "../helpers/netns";

const key = () => clampPrivateKey(randomBytes(32).toString("base64"));

test("wg-quick strip + wg setconf load the rendered config; wg shows the same peers", async (t) => {
    const ns = scratchNamespace(t);
    const iface = `ztw${randomBytes(3).toString("hex")}`;
    const priv = key();
    const peers = ["app-1", "db"].map((name, i) => ({
        name, publicKey: publicKeyOf(key()), presharedKey: randomBytes(32).toString("base64"),
        address: `10.77.0.${10 + i}`, endpoint: `10.99.0.${10 + i}:51820`, behindNat: false,
    }));
    const config = renderWireGuardConfig({ privateKey: priv, addressCidr: "10.77.0.5/24", listenPort: 51820, mtu: 1420, behindNat: true, peers });
    const dir = mkdtempSync(join(tmpdir(), "zt-wg-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, `${iface}.conf`), config, { mode: 0o600 });
    const stripped = run("wg-quick", ["strip", join(dir, `${iface}.conf`)]);
    t.notRegex(stripped, /Address|MTU/);
    writeFileSync(join(dir, "stripped.conf"), stripped, { mode: 0o600 });

    await wireguardGo(t, ns, iface);
    inNamespace(ns, "wg", ["setconf", iface, join(dir, "stripped.conf")]);
    t.is(inNamespace(ns, "wg", ["show", iface, "public-key"]).trim(), publicKeyOf(priv));
    t.is(inNamespace(ns, "wg", ["show", iface, "listen-port"]).trim(), "51820");
    const dump = inNamespace(ns, "wg", ["show", iface, "dump"]).trim().split("\n").slice(1).map((l) => l.split("\t"));
    t.deepEqual(dump.map(([pub, psk, endpoint, allowed, , , , keepalive]) => [pub, psk, endpoint, allowed, keepalive]).sort(),
        peers.map((p) => [p.publicKey, p.presharedKey, p.endpoint, `${p.address}/32`, "25"]).sort());
});

test("an IPv6 peer's Endpoint is [addr]:port, and wg reads it back so", async (t) => {
    const ns = scratchNamespace(t);
    const iface = `ztw${randomBytes(3).toString("hex")}`;
    const peer = { name: "v6", publicKey: publicKeyOf(key()), presharedKey: randomBytes(32).toString("base64"), address: "10.77.0.10",
        endpoint: checkEndpoint("endpoint", "[FD12:3456:789A:1::0:10]:51820"), behindNat: false };
    const config = renderWireGuardConfig({ privateKey: key(), addressCidr: "10.77.0.5/24", listenPort: 51820, mtu: 1420, behindNat: false, peers: [peer] });
    t.regex(config, /^Endpoint = \[fd12:3456:789a:1::10\]:51820$/m);
    const dir = mkdtempSync(join(tmpdir(), "zt-wg-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, `${iface}.conf`), config, { mode: 0o600 });
    writeFileSync(join(dir, "stripped.conf"), run("wg-quick", ["strip", join(dir, `${iface}.conf`)]), { mode: 0o600 });
    await wireguardGo(t, ns, iface);
    inNamespace(ns, "wg", ["setconf", iface, join(dir, "stripped.conf")]);
    t.is(inNamespace(ns, "wg", ["show", iface, "endpoints"]).trim(), `${peer.publicKey}\t[fd12:3456:789a:1::10]:51820`);
});

test("a mesh with an IPv6 range: Address in both, each peer's AllowedIPs its two addresses, as wg loads them", async (t) => {
    const ns = scratchNamespace(t);
    const iface = `ztw${randomBytes(3).toString("hex")}`;
    const peer = { name: "p", publicKey: publicKeyOf(key()), presharedKey: randomBytes(32).toString("base64"), address: "10.77.0.10",
        address6: "fd12:3456:789a:2::10", endpoint: "10.99.0.10:51820", behindNat: false };
    const config = renderWireGuardConfig({ privateKey: key(), addressCidr: "10.77.0.5/24", address6Cidr: "fd12:3456:789a:2::5/64", listenPort: 51820, mtu: 1420, behindNat: false, peers: [peer] });
    t.regex(config, /^Address = 10\.77\.0\.5\/24, fd12:3456:789a:2::5\/64$/m);
    t.regex(config, /^AllowedIPs = 10\.77\.0\.10\/32, fd12:3456:789a:2::10\/128$/m);
    const dir = mkdtempSync(join(tmpdir(), "zt-wg-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, `${iface}.conf`), config, { mode: 0o600 });
    writeFileSync(join(dir, "stripped.conf"), run("wg-quick", ["strip", join(dir, `${iface}.conf`)]), { mode: 0o600 });
    await wireguardGo(t, ns, iface);
    inNamespace(ns, "wg", ["setconf", iface, join(dir, "stripped.conf")]);
    t.is(inNamespace(ns, "wg", ["show", iface, "allowed-ips"]).trim(), `${peer.publicKey}\t10.77.0.10/32 fd12:3456:789a:2::10/128`);
});

test("a key with an injected line is refused by the renderer", (t) => {
    t.throws(() => renderWireGuardConfig({ privateKey: key() + "\nPostUp = id", addressCidr: "10.77.0.5/24", mtu: 1420, behindNat: false, peers: [] }),
        { message: /privateKey: not a WireGuard key/ });
});
