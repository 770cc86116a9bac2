// wg-update.sh against a real wireguard-go interface: one `wg set` brings it to a new configuration,
// sends nothing about peers that did not change (so their allowed IPs are never emptied and
// refilled), and passes every key as a file, never as an argument.
import test from "ava";
import { randomBytes } from "crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { assetPath } from "../../components/assets";
import { WireGuardPeer, renderWireGuardConfig } from "../../components/render/wireguard";
import { clampPrivateKey, publicKeyOf } from "../../components/wireguard-keys";
import { inNamespace, run, scratchNamespace, wireguardGo } from "../helpers/netns";

const key = () => clampPrivateKey(randomBytes(32).toString("base64"));
const psk = () => randomBytes(32).toString("base64");
const peer = (name: string, i: number): WireGuardPeer => ({
    name, publicKey: publicKeyOf(key()), presharedKey: psk(), address: `10.77.0.${10 + i}`, endpoint: `10.99.0.${10 + i}:51820`, behindNat: false,
});

/** The interface as `wg show dump` has it: [public key, psk, allowed IPs, keepalive] per peer, sorted. */
function peersOf(ns: string, iface: string): string[][] {
    return inNamespace(ns, "wg", ["show", iface, "dump"]).trim().split("\n").slice(1).map((l) => l.split("\t"))
        .map(([pub, presharedKey, , allowed, , , , keepalive]) => [pub, presharedKey, allowed, keepalive]).sort();
}

test("zt_wg_update sets only what changed, in one wg set, with keys in files", async (t) => {
    const ns = scratchNamespace(t);
    const iface = `ztu${randomBytes(3).toString("hex")}`;
    const dir = mkdtempSync(join(tmpdir(), "zt-wgu-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const stripped = (name: string, privateKey: string, peers: WireGuardPeer[]) => {
        writeFileSync(join(dir, `${iface}.conf`), renderWireGuardConfig({ privateKey, addressCidr: "10.77.0.5/24", listenPort: 51820, mtu: 1420, behindNat: false, peers }), { mode: 0o600 });
        writeFileSync(join(dir, name), run("wg-quick", ["strip", join(dir, `${iface}.conf`)]), { mode: 0o600 });
        return join(dir, name);
    };
    const [kept, rekeyed, dropped, added] = ["kept", "rekeyed", "dropped", "added"].map(peer);
    const before = stripped("before.conf", key(), [kept, rekeyed, dropped]);
    await wireguardGo(t, ns, iface);
    inNamespace(ns, "wg", ["setconf", iface, before]);

    const newKey = key();
    const after = { ...rekeyed, presharedKey: psk() };
    const target = stripped("after.conf", newKey, [kept, after, added]);
    // `wg` wrapped to record each call's arguments: what the update sends, and that no secret is among them.
    const log = join(dir, "wg-calls");
    const script = [
        `. '${assetPath("remote/host/wg-update.sh")}'`,
        `wg() { printf '%s\\n' "$*" >>'${log}'; command wg "$@"; }`,
        `zt_wg_update '${iface}' '${target}'`,
    ].join("\n");
    inNamespace(ns, "bash", ["-c", script]);

    t.deepEqual(peersOf(ns, iface), [kept, after, added].map((p) => [p.publicKey, p.presharedKey, `${p.address}/32`, "off"]).sort());
    t.is(inNamespace(ns, "wg", ["show", iface, "public-key"]).trim(), publicKeyOf(newKey));
    const sets = readFileSync(log, "utf8").split("\n").filter((l) => l.startsWith("set "));
    t.is(sets.length, 1, "one wg set");
    t.false(sets[0].includes(kept.publicKey), "the unchanged peer is not sent (its allowed IPs are left alone)");
    t.regex(sets[0], new RegExp(`peer ${escape(after.publicKey)} preshared-key \\S+ persistent-keepalive 0 endpoint \\S+(?: peer|$)`));
    t.false(new RegExp(`peer ${escape(after.publicKey)} [^p]*allowed-ips`).test(sets[0]), "a peer with the same allowed IPs keeps them");
    t.regex(sets[0], new RegExp(`peer ${escape(added.publicKey)} .*allowed-ips ${escape(added.address)}/32`));
    t.regex(sets[0], new RegExp(`peer ${escape(dropped.publicKey)} remove`));
    for (const secret of [newKey, after.presharedKey, added.presharedKey]) t.false(sets[0].includes(secret), "keys travel in files");

    // Already in place: nothing to send.
    inNamespace(ns, "bash", ["-c", script]);
    t.is(readFileSync(log, "utf8").split("\n").filter((l) => l.startsWith("set ")).length, 1, "a second update sends nothing");
});

function escape(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
