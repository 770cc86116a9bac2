// Growing a mesh on real lab hosts through the real engine. First, migration of a 0.1.0 stack (one
// RandomBytes per pair for pre-shared keys) to derived keys (one secret per member): one `pulumi up`
// swaps every pre-shared key with one `wg set` per host (wg-update.sh: allowed IPs left alone) and
// renumbers no one. The same up reseeds every member's key: 0.1.0's seeds were RandomBytes, whose
// bytes are the resource id, in clear in the state (key-seed.ts), so the keys change once and a
// pair's tunnel is down from the first end's update to the second's (up to about 2.5 s in the runs
// here). Then members come and go, and no other member's address or tunnel moves.
// Why a pre-shared key alone changes without a loss: setting a peer's pre-shared key changes only
// what the next handshake uses (wireguard-go's UAPI `preshared_key` replaces the handshake's key and
// leaves the current keypair alone), and a session stays valid 180 s after its handshake, while both
// ends are updated within seconds of each other.
import * as tls from "@pulumi/tls";
import test from "ava";
import { execFileSync } from "child_process";
import { hashedAddress } from "../../components/addressing";
import { LabHost, LabNetwork, labLayout } from "../../components/hosts/lab";
import { MeshNetwork, MeshNetworkArgs } from "../../components/mesh-network";
import { previousStackOutput } from "../../components/previous-output";
import { formatIPv4, parseCidr } from "../../components/validate";
import { ZeroTrustNode } from "../../components/zero-trust-node";
import { inLabHost, interfaceIndex, startPing } from "../../scripts/lab/lab-probe";
import { EngineStack } from "../helpers/engine";
import { removeLabLeftovers } from "../helpers/lab";
import { MeshNetworkV01 } from "./fixtures/mesh-network-0.1";

const LAB = "scl";
const LAYOUT = labLayout(LAB);
const MESH = "10.75.0.0/24";
const NODES = ["n1", "n2", "n3"];
const PAIRS: [string, string][] = [["n1", "n2"], ["n2", "n3"], ["n3", "n1"]];
/** A name that sorts before n2 and whose first choice is n2's address: only memory keeps n2 where it is. */
const NEWCOMER = (() => {
    const n2 = hashedAddress("n2", parseCidr("cidr", MESH));
    for (let i = 0; ; i++) if (hashedAddress(`m-${i}`, parseCidr("cidr", MESH)) === n2) return `m-${i}`;
})();
/** Each host keeps its underlay address whoever comes and goes (the placement by index would move them). */
const UNDERLAY_SLOT: Record<string, number> = { n1: 0, n2: 1, n3: 2, [NEWCOMER]: 3 };
const cleanup = () => removeLabLeftovers(LAB, [...NODES, NEWCOMER]);

function program(layout: "0.1" | "current", nodes = NODES) {
    return async () => {
        const lab = new LabNetwork(LAB, { subnet: "10.213.40.0/24", alsoUnrouted: [MESH] });
        const deployerKey = new tls.PrivateKey("deployer-key", { algorithm: "ED25519" });
        const hosts = Object.fromEntries(nodes.map((n) => [n, new LabHost(n, {
            network: lab, address: lab.addressFor(UNDERLAY_SLOT[n]), authorizedKey: deployerKey.publicKeyOpenssh,
        })]));
        const args: MeshNetworkArgs = {
            cidr: MESH,
            nodes: nodes.map((n) => ({ name: n, tags: ["lab"], endpoint: `${hosts[n].address}:51820` })),
            rules: [{ from: "tag:lab", to: "tag:lab", ports: ["tcp/8080"] }],
            // 0.1.0 had no memory; the current program reads the allocation it exported last time.
            previousAddresses: layout === "current" ? await previousStackOutput<Record<string, string>>("addresses") : undefined,
        };
        const mesh = layout === "0.1" ? new MeshNetworkV01(LAB, args).asMesh() : new MeshNetwork(LAB, args);
        for (const n of nodes) {
            new ZeroTrustNode(n, {
                member: mesh.member(n), connection: { ...hosts[n].connection, privateKey: deployerKey.privateKeyOpenssh },
                bootstrapSshSources: [lab.gatewayAddress], rollbackSeconds: 8,
            });
        }
        return { addresses: mesh.addresses };
    };
}

let engine: EngineStack;

test.before(async () => {
    process.chdir(`${__dirname}/../../..`);
    cleanup();
    engine = await EngineStack.create("zt-scl", "scl", program("0.1"));
});

test.after.always(async () => {
    await engine?.dispose();
    cleanup();
});

const wg = (host: string, what: string): Map<string, string> => new Map(inLabHost(LAYOUT.hostRootOf(host), ["wg", "show", "wg0", what])
    .trim().split("\n").map((l) => l.split("\t") as [string, string]));
const ping = (from: string, to: string) =>
    execFileSync("ip", ["netns", "exec", LAYOUT.namespaceOf(from), "ping", "-c", "3", "-i", "0.2", "-W", "2", to], { encoding: "utf8" });

test.serial("one pulumi up moves a 0.1.0 stack to derived pre-shared keys and reseeded keys: every tunnel comes back, no address moves", async (t) => {
    const first = await engine.up();
    t.is(first.error, undefined);
    const addresses = first.outputs.addresses.value as Record<string, string>;
    for (const [a, b] of PAIRS) ping(a, addresses[b]); // sessions exist before the migration
    const pskBefore = wg("n1", "preshared-keys");
    const handshakesBefore = Object.fromEntries(NODES.map((n) => [n, wg(n, "latest-handshakes")]));

    const pings = PAIRS.map(([a, b]) => ({ pair: `${a} -> ${b}`, run: startPing(LAYOUT.namespaceOf(a), addresses[b]) }));
    await new Promise((r) => setTimeout(r, 1000));
    engine.withProgram(program("current"));
    const second = await engine.up();
    await new Promise((r) => setTimeout(r, 1000));
    const counts = await Promise.all(pings.map(async (p) => ({ pair: p.pair, ...(await p.run.stop()) })));
    t.is(second.error, undefined);
    for (const c of counts) t.log(`${c.pair} during the migrating up: ${c.sent} pings sent, ${c.lost.length} lost` + (c.inFlightAtStop ? " (the last still on its way when stopped)" : ""));
    // The keys change (reseeded), so a pair is down between its two ends' updates: counted, not bounded.
    for (const c of counts) t.true(c.sent > 20, c.pair);
    for (const [a, b] of PAIRS) t.notThrows(() => ping(a, addresses[b]), `${a} -> ${b} after the migration`);

    // The state: per-pair secrets gone, one per member instead, each key's seed replaced, addresses kept.
    const changed = second.changes.map((c) => c.split(" ").filter((_, i) => i !== 1).join(" ")).sort();
    t.deepEqual(changed.filter((c) => c.includes("-psk")), [
        "create scl-n1-psk-secret", "create scl-n2-psk-secret", "create scl-n3-psk-secret",
        "delete scl-n1--n2-psk", "delete scl-n1--n3-psk", "delete scl-n2--n3-psk",
    ]);
    t.deepEqual(second.changes.filter((c) => c.includes("wg-key")).map((c) => c.split(" ").slice(0, 2).join(" ")).sort(),
        [...NODES.map(() => "create random:index/randomPassword:RandomPassword"), ...NODES.map(() => "delete random:index/randomBytes:RandomBytes")],
        "every key's RandomBytes seed (its bytes in clear in the id) is replaced by a RandomPassword");
    t.deepEqual(second.ran.sort(), ["n1-wireguard", "n2-wireguard", "n3-wireguard"], "only the WireGuard concerns run");
    t.deepEqual(second.outputs.addresses.value, addresses, "no member is renumbered");

    // On the hosts: new keys, the same on both ends of a pair; sessions not renegotiated by the up.
    const pskAfter = wg("n1", "preshared-keys");
    for (const [peer, psk] of pskAfter) t.not(psk, pskBefore.get(peer), "n1's pre-shared keys changed");
    const n2Key = execFileSync("wg", ["pubkey"], { input: /PrivateKey = (\S+)/.exec(inLabHost(LAYOUT.hostRootOf("n2"), ["cat", "/etc/wireguard/wg0.conf"]))![1] + "\n", encoding: "utf8" }).trim();
    const n1Key = execFileSync("wg", ["pubkey"], { input: /PrivateKey = (\S+)/.exec(inLabHost(LAYOUT.hostRootOf("n1"), ["cat", "/etc/wireguard/wg0.conf"]))![1] + "\n", encoding: "utf8" }).trim();
    t.is(wg("n2", "preshared-keys").get(n1Key), pskAfter.get(n2Key), "n1 and n2 hold the same new key");
    for (const n of NODES) {
        const after = wg(n, "latest-handshakes");
        const kept = [...after].filter(([peer, at]) => handshakesBefore[n].get(peer) === at).length;
        t.log(`${n}: ${kept} of ${after.size} sessions carried through the up without a new handshake`);
    }

    // A fresh handshake with the new keys works: drop n1's state for n2, restore it from the file, ping.
    inLabHost(LAYOUT.hostRootOf("n1"), ["bash", "-c", `wg set wg0 peer '${n2Key}' remove && wg syncconf wg0 <(wg-quick strip wg0)`]);
    t.notThrows(() => ping("n1", addresses.n2));
    t.true(Number(wg("n1", "latest-handshakes").get(n2Key)) > Date.now() / 1000 - 30, "n1 and n2 made a new handshake with the derived key");
});

test.serial("a member leaves and a newcomer takes the address it first chose from another: no other member's address, interface or tunnel moves", async (t) => {
    engine.withProgram(program("current"));
    const before = (await engine.up()).outputs.addresses.value as Record<string, string>;
    const wg0 = { n1: interfaceIndex(LAYOUT.namespaceOf("n1"), "wg0"), n2: interfaceIndex(LAYOUT.namespaceOf("n2"), "wg0") };
    const pings = [startPing(LAYOUT.namespaceOf("n1"), before.n2), startPing(LAYOUT.namespaceOf("n2"), before.n1)];
    await new Promise((r) => setTimeout(r, 1000));
    engine.withProgram(program("current", ["n1", "n2", NEWCOMER]));
    const grown = await engine.up();
    await new Promise((r) => setTimeout(r, 1000));
    const counts = await Promise.all(pings.map((p) => p.stop()));
    t.is(grown.error, undefined);
    t.log(`n1 <-> n2 while n3 left and ${NEWCOMER} joined: ${counts.map((c) => `${c.sent} sent, ${c.lost.length} lost`).join("; ")}`);
    for (const c of counts) {
        t.true(c.sent > 20);
        t.deepEqual(c.lost, []);
    }
    const after = grown.outputs.addresses.value as Record<string, string>;
    t.is(after.n1, before.n1);
    t.is(after.n2, before.n2, `n2 keeps its address although ${NEWCOMER} (sorted first) chose it first`);
    t.not(after[NEWCOMER], before.n2);
    t.false(NEWCOMER in before);
    t.false("n3" in after);
    t.deepEqual(wg0, { n1: interfaceIndex(LAYOUT.namespaceOf("n1"), "wg0"), n2: interfaceIndex(LAYOUT.namespaceOf("n2"), "wg0") },
        "n1's and n2's WireGuard interfaces were not recreated");
    t.notThrows(() => ping("n1", after[NEWCOMER]), "the newcomer is on the mesh");
    t.log(`addresses before: ${JSON.stringify(before)}; after: ${JSON.stringify(after)} (${NEWCOMER} first chose ${formatIPv4(hashedAddress(NEWCOMER, parseCidr("cidr", MESH)))})`);
});
