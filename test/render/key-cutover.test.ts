// The key cut-over's host side against a real wireguard-go interface, in a throwaway network and
// mount namespace (its own /etc/wireguard and /var/lib/zerotrust): the host switches to the staged
// key by itself after the delay; unconfirmed and uncommitted, it puts the old key back; an apply that
// reaches it after the switch confirms it; a committed key, or one a peer has used, is kept.
import test, { ExecutionContext } from "ava";
import { randomBytes } from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderWireGuardConfig } from "../../components/render/wireguard";
import { composeHostProgram, payloadToken } from "../../components/remote/script";
import { clampPrivateKey, publicKeyOf } from "../../components/wireguard-keys";
import { inNamespace, scratchNamespace, wireguardGo } from "../helpers/netns";

const key = () => clampPrivateKey(randomBytes(32).toString("base64"));
const SWITCH = 1;
const WINDOW = 2;

function wgConf(privateKey: string, peerKey: string): string {
    return renderWireGuardConfig({
        privateKey, addressCidr: "10.77.0.5/24", listenPort: 51820, mtu: 1420, behindNat: false,
        peers: [{ name: "db", publicKey: peerKey, presharedKey: randomBytes(32).toString("base64"), address: "10.77.0.9", endpoint: "10.99.0.9:51820", behindNat: false }],
    });
}

test("a staged key is switched to by the host itself, rolled back when neither confirmed nor committed, kept once an apply reaches the host or the deployer committed it", async (t) => {
    const ns = scratchNamespace(t);
    const iface = `ztk${randomBytes(3).toString("hex")}`;
    const dir = mkdtempSync(join(tmpdir(), "zt-cutover-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    await wireguardGo(t, ns, iface);
    const [oldKey, newKey, peerKey] = [key(), key(), publicKeyOf(key())];
    const before = wgConf(oldKey, peerKey);
    const after = before.replace(oldKey, newKey);
    const vars = { ZT_IFACE: iface, ZT_SWITCH_SECONDS: SWITCH };
    const program = (action: "cutover" | "commit" | "apply", files: Record<string, string>) =>
        composeHostProgram({ concern: "wireguard", action, token: payloadToken("wireguard", files), rollbackSeconds: WINDOW, vars, files });
    writeFileSync(join(dir, "before.conf"), before, { mode: 0o600 });
    writeFileSync(join(dir, "cutover"), program("cutover", { "wg.key": newKey }), { mode: 0o600 });
    writeFileSync(join(dir, "apply"), program("apply", { "wg.conf": after }), { mode: 0o600 });
    const thirdKey = key();
    writeFileSync(join(dir, "cutover-3"), program("cutover", { "wg.key": thirdKey }), { mode: 0o600 });
    writeFileSync(join(dir, "commit-3"), program("commit", { "wg.key": thirdKey }), { mode: 0o600 });
    const [fourthKey, fifthKey] = [key(), key()];
    writeFileSync(join(dir, "cutover-4"), program("cutover", { "wg.key": fourthKey }), { mode: 0o600 });
    writeFileSync(join(dir, "cutover-5"), program("cutover", { "wg.key": fifthKey }), { mode: 0o600 });

    // One shell in a private mount namespace: the host's state and its detached jobs live there.
    const scenario = `
        set -u
        mount -t tmpfs -o mode=700 zt /etc/wireguard && mount -t tmpfs -o mode=700 zt /var/lib/zerotrust || exit 1
        cp ${dir}/before.conf /etc/wireguard/${iface}.conf
        wg setconf ${iface} <(wg-quick strip ${iface}) && ip addr add 10.77.0.5/24 dev ${iface} && ip link set ${iface} up
        key() { echo "$1 $(wg show ${iface} public-key)"; }
        key start
        bash ${dir}/cutover; key staged
        sleep ${SWITCH + 0.5}; key switched
        sleep ${WINDOW + 1}; key unconfirmed
        cat /var/lib/zerotrust/wireguard-cutover/rollbacks.log
        bash ${dir}/cutover; sleep ${SWITCH + 0.5}; key switched-again
        bash ${dir}/apply 2>&1 | grep -E "key switch|^(unchanged|applied)$"
        sleep ${WINDOW + 1}; key confirmed
        grep -c PrivateKey /etc/wireguard/${iface}.conf
        grep -q "${newKey.replace(/[/+]/g, ".")}" /etc/wireguard/${iface}.conf && echo "file has the new key"
        ls /var/lib/zerotrust/wireguard-cutover
        bash ${dir}/cutover-3 >/dev/null && bash ${dir}/commit-3 && sleep ${SWITCH + WINDOW + 1}; key committed
        tail -n 1 /var/lib/zerotrust/wireguard-cutover/rollbacks.log
        bash ${dir}/cutover-4 >/dev/null && sleep ${SWITCH + 0.5} && bash ${dir}/cutover-5 2>&1 | grep -o "key switch confirmed"
        sleep ${SWITCH + WINDOW + 1}; key after-pending
    `;
    const out = inNamespace(ns, "unshare", ["--mount", "--propagation", "private", "bash", "-c", scenario]);
    t.log(out);
    const line = (label: string) => out.split("\n").find((l) => l.startsWith(`${label} `))?.split(" ")[1];
    const [oldPub, newPub] = [publicKeyOf(oldKey), publicKeyOf(newKey)];
    t.is(line("start"), oldPub);
    t.regex(out, /^switch at \d+$/m, "the cut-over says when the switch comes");
    t.is(line("staged"), oldPub, "nothing changes while the staging session may still be open");
    t.is(line("switched"), newPub, "the host switches by itself");
    t.is(line("unconfirmed"), oldPub, "unconfirmed, it puts the old key back");
    t.regex(out, /rolled back \S+: not confirmed within 3s/);
    t.is(line("switched-again"), newPub);
    t.regex(out, /key switch confirmed: this connection reached the node through the new key/);
    t.is(line("confirmed"), newPub, "confirmed by the apply, the new key stays past the window");
    t.regex(out, /file has the new key/);
    t.notRegex(out, /^armed$/m, "nothing is left armed");
    // The deployer committed (it has the answer, so the stack records the key): kept though unconfirmed.
    t.regex(out, /^committed$/m);
    t.is(line("committed"), publicKeyOf(thirdKey));
    t.regex(out, /kept \S+: not confirmed within 3s, but the deployer recorded the new key/);
    // A cut-over over a switched, pending one confirms it (it came through its key): the next rollback returns to it.
    t.is(out.split("\n").filter((l) => l === "key switch confirmed").length, 1);
    t.is(line("after-pending"), publicKeyOf(fourthKey));
});

/**
 * Two hosts on a veth pair, X (whose configuration is cut over) and P (its peer, which may be the
 * deployer): X's configuration at first, P's interface up, and the cut-over program for `files`.
 * Underlay and mesh ranges are not routed on this machine. Returns what a scenario in X needs.
 */
async function twoHosts(t: ExecutionContext, keys: { x: string; p: string; xAsPSees: string; pAsXSees: string }, files: Record<string, string>) {
    const [nsX, nsP] = [scratchNamespace(t), scratchNamespace(t)];
    // Names of their own: wireguard-go's control socket (/var/run/wireguard/NAME.sock) is not per namespace.
    const [iface, peerIface] = [`ztk${randomBytes(3).toString("hex")}`, `ztp${randomBytes(3).toString("hex")}`];
    const dir = mkdtempSync(join(tmpdir(), "zt-cutover-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    inNamespace(nsX, "ip", ["link", "add", "ztx0", "type", "veth", "peer", "name", "ztp0", "netns", nsP]);
    inNamespace(nsX, "ip", ["addr", "add", "10.213.90.1/24", "dev", "ztx0"]);
    inNamespace(nsX, "ip", ["link", "set", "ztx0", "up"]);
    inNamespace(nsP, "ip", ["addr", "add", "10.213.90.2/24", "dev", "ztp0"]);
    inNamespace(nsP, "ip", ["link", "set", "ztp0", "up"]);
    await wireguardGo(t, nsX, iface);
    await wireguardGo(t, nsP, peerIface);
    const psk = randomBytes(32).toString("base64");
    const side = (privateKey: string, address: string, listenPort: number, other: { publicKey: string; address: string; endpoint: string }) =>
        renderWireGuardConfig({ privateKey, addressCidr: `${address}/24`, listenPort, mtu: 1420, behindNat: false,
            peers: [{ name: "other", presharedKey: psk, behindNat: false, ...other }] });
    writeFileSync(join(dir, "x.conf"), side(keys.x, "10.79.0.5", 51820, { publicKey: keys.pAsXSees, address: "10.79.0.9", endpoint: "10.213.90.2:51821" }), { mode: 0o600 });
    writeFileSync(join(dir, `${peerIface}.conf`), side(keys.p, "10.79.0.9", 51821, { publicKey: keys.xAsPSees, address: "10.79.0.5", endpoint: "10.213.90.1:51820" }), { mode: 0o600 });
    inNamespace(nsP, "bash", ["-c", `wg setconf ${peerIface} <(wg-quick strip ${dir}/${peerIface}.conf) && ip addr add 10.79.0.9/24 dev ${peerIface} && ip link set ${peerIface} up`]);
    writeFileSync(join(dir, "cutover"), composeHostProgram({ concern: "wireguard", action: "cutover", token: payloadToken("wireguard", files),
        rollbackSeconds: WINDOW, vars: { ZT_IFACE: iface, ZT_SWITCH_SECONDS: SWITCH }, files }), { mode: 0o600 });
    const setUpX = `
        set -u
        mount -t tmpfs -o mode=700 zt /etc/wireguard && mount -t tmpfs -o mode=700 zt /var/lib/zerotrust || exit 1
        cp ${dir}/x.conf /etc/wireguard/${iface}.conf
        wg setconf ${iface} <(wg-quick strip ${iface}) && ip addr add 10.79.0.5/24 dev ${iface} && ip link set ${iface} up
    `;
    /** Runs a scenario in X, in a private mount namespace, after X's set-up. */
    const inX = (scenario: string) => inNamespace(nsX, "unshare", ["--mount", "--propagation", "private", "bash", "-c", setUpX + scenario]);
    return { nsP, iface, peerIface, inX, cutover: join(dir, "cutover") };
}

test("an unconfirmed switch is kept when a peer has already made a handshake with the new key: the stack gave it out", async (t) => {
    // P has X's new public key, as the stack gave it, and answers X's handshake.
    const [oldKey, newKey, peerKey] = [key(), key(), key()];
    const { iface, inX, cutover } = await twoHosts(t, { x: oldKey, p: peerKey, xAsPSees: publicKeyOf(newKey), pAsXSees: publicKeyOf(peerKey) }, { "wg.key": newKey });
    const out = inX(`
        bash ${cutover}
        sleep ${SWITCH + 0.5}
        ping -c 2 -W 2 10.79.0.9 >/dev/null && echo "the peer answers through the new key"
        sleep ${WINDOW + 1}
        echo "after the window $(wg show ${iface} public-key)"
        cat /var/lib/zerotrust/wireguard-cutover/rollbacks.log
    `);
    t.log(out);
    t.regex(out, /the peer answers through the new key/);
    t.true(out.includes(`after the window ${publicKeyOf(newKey)}`), "the new key stays");
    t.regex(out, /kept \S+: not confirmed within 3s, but 1 peer\(s\) made a handshake with the new key since the switch/);
});

test("the deployer's own key rotates in the same cut-over: the node's entry for that peer switches, its own key stays", async (t) => {
    // P is the deployer: X keeps its key and takes P's new public key at the switch, while P switches its own key.
    const [xKey, oldDeployer, newDeployer] = [key(), key(), key()];
    const { nsP, iface, peerIface, inX, cutover } = await twoHosts(t,
        { x: xKey, p: oldDeployer, xAsPSees: publicKeyOf(xKey), pAsXSees: publicKeyOf(oldDeployer) },
        { "wg.key": xKey, "deployer.peer": `10.79.0.9 ${publicKeyOf(newDeployer)}` });
    const newDeployerFile = join(tmpdir(), `zt-deployer-${randomBytes(4).toString("hex")}`);
    writeFileSync(newDeployerFile, newDeployer + "\n", { mode: 0o600 });
    t.teardown(() => rmSync(newDeployerFile, { force: true }));
    const out = inX(`
        ping -c 1 -W 2 10.79.0.9 >/dev/null && echo "reachable before"
        bash ${cutover}
        ip netns exec ${nsP} wg set ${peerIface} private-key ${newDeployerFile}
        sleep ${SWITCH + 0.5}
        ping -c 2 -W 2 10.79.0.9 >/dev/null && echo "reachable after, both sides switched"
        echo "own key $(wg show ${iface} public-key)"
        echo "deployer as seen $(wg show ${iface} peers)"
        grep -c "PublicKey = ${publicKeyOf(newDeployer).replace(/[/+]/g, ".")}" /etc/wireguard/${iface}.conf
        sleep ${WINDOW + 1}
        echo "after the window $(wg show ${iface} peers)"
    `);
    t.log(out);
    t.regex(out, /reachable before/);
    t.regex(out, /reachable after, both sides switched/);
    t.true(out.includes(`own key ${publicKeyOf(xKey)}`), "the node's own key stays");
    t.true(out.includes(`deployer as seen ${publicKeyOf(newDeployer)}`), "the deployer's entry has its new key");
    t.regex(out, /^1$/m, "the file too");
    t.true(out.includes(`after the window ${publicKeyOf(newDeployer)}`), "kept: the deployer made a handshake with it");
});

test("the node's key and its pre-shared key with the deployer change in one cut-over (every key reseeded at once): the node takes the new PSK at the switch", async (t) => {
    // What an upgrade that reseeds every key does: X gets a new key, and the pair's PSK changes on both ends.
    const [oldKey, newKey, deployer] = [key(), key(), key()];
    const newPsk = randomBytes(32).toString("base64");
    const { nsP, iface, peerIface, inX, cutover } = await twoHosts(t,
        { x: oldKey, p: deployer, xAsPSees: publicKeyOf(oldKey), pAsXSees: publicKeyOf(deployer) },
        { "wg.key": newKey, "deployer.peer": `10.79.0.9 ${publicKeyOf(deployer)} ${newPsk}` });
    const pskFile = join(tmpdir(), `zt-psk-${randomBytes(4).toString("hex")}`);
    writeFileSync(pskFile, newPsk + "\n", { mode: 0o600 });
    t.teardown(() => rmSync(pskFile, { force: true }));
    // The deployer's tunnel takes X's new public key and the new PSK between the staging and the switch.
    const out = inX(`
        ping -c 1 -W 2 10.79.0.9 >/dev/null && echo "reachable before"
        bash ${cutover}
        ip netns exec ${nsP} wg set ${peerIface} peer ${publicKeyOf(oldKey)} remove peer ${publicKeyOf(newKey)} preshared-key ${pskFile} endpoint 10.213.90.1:51820 allowed-ips 10.79.0.5/32
        sleep ${SWITCH + 0.5}
        ping -c 2 -W 2 10.79.0.9 >/dev/null && echo "reachable after, through the new key and PSK"
        echo "own key $(wg show ${iface} public-key)"
        # Compared here, not printed: the output is logged.
        [ "$(wg show ${iface} preshared-keys | cut -f2)" = "$(cat ${pskFile})" ] && echo "the deployer's entry has the new PSK"
        grep -c "PresharedKey = $(cat ${pskFile})" /etc/wireguard/${iface}.conf || true
        # Waited out: the rollback's timer must not fire after the test (it would outlive the teardown).
        sleep ${WINDOW + 1}
        echo "after the window $(wg show ${iface} public-key)"
    `);
    t.log(out);
    t.regex(out, /reachable before/);
    t.regex(out, /reachable after, through the new key and PSK/);
    t.true(out.includes(`own key ${publicKeyOf(newKey)}`));
    t.regex(out, /the deployer's entry has the new PSK/);
    t.regex(out, /^1$/m, "the file too");
    t.true(out.includes(`after the window ${publicKeyOf(newKey)}`), "kept: the deployer made a handshake with it");
});
