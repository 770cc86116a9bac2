// MeshNetwork under mocks that return real random bytes: keys, configs and the peer graph.
import test from "ava";
import { execFileSync } from "child_process";
import { installMocks, resolve } from "../helpers/mocks";

const recorded = installMocks();
// Imported after the mocks are installed.
import { MeshNetwork } from "../../components/mesh-network";
import { SEED_CLIENTS, SEED_EXPECT, SEED_NODES, SEED_RULES } from "../../stacks/seed-scenario";
import * as pulumi from "@pulumi/pulumi";

function seedMesh(name: string) {
    return new MeshNetwork(name, {
        cidr: "10.77.0.0/24",
        nodes: SEED_NODES.map((n, i) => ({ ...n, endpoint: `10.99.0.${10 + i}:51820` })),
        operators: [{ name: "operator", tags: ["admin"] }],
        clients: SEED_CLIENTS,
        rules: SEED_RULES,
        expect: SEED_EXPECT,
    });
}

function section(config: string, peer: string): string {
    const start = config.indexOf(`# ${peer}\n[Peer]`);
    return start < 0 ? "" : config.slice(start).split("\n\n")[0];
}

test("every member's public key is what `wg pubkey` prints for its private key", async (t) => {
    const mesh = seedMesh("keys");
    for (const name of [...SEED_NODES.map((n) => n.name), "operator"]) {
        const config = await resolve(mesh.configOf(name));
        const priv = /PrivateKey = (\S+)/.exec(config)![1];
        const expected = execFileSync("wg", ["pubkey"], { input: priv + "\n", encoding: "utf8" }).trim();
        t.is(await resolve(mesh.members[name].publicKey), expected, name);
    }
});

test("configs: peers from the policy, one PSK per pair, keepalive only behind NAT, MTU 1420, no SaveConfig", async (t) => {
    const mesh = seedMesh("configs");
    const db = await resolve(mesh.configOf("db"));
    const app1 = await resolve(mesh.configOf("app-1"));
    const operator = await resolve(mesh.configOf("operator"));
    t.deepEqual([...db.matchAll(/^# (\S+)\n\[Peer\]/gm)].map((m) => m[1]), ["app-1", "app-2", "operator"]);
    t.regex(db, /^MTU = 1420$/m);
    t.regex(db, /^ListenPort = 51820$/m);
    t.notRegex(db + app1 + operator, /SaveConfig/);
    // The pair's PSK is the same on both sides and differs between pairs.
    const psk = (c: string, peer: string) => /PresharedKey = (\S+)/.exec(section(c, peer))![1];
    t.is(psk(db, "app-1"), psk(app1, "db"));
    t.not(psk(db, "app-1"), psk(db, "app-2"));
    // Nodes are not behind NAT: no keepalive on them; the operator (no endpoint) keeps alive.
    t.notRegex(db, /PersistentKeepalive/);
    t.regex(section(operator, "db"), /PersistentKeepalive = 25/);
    // Nobody can dial the operator: no Endpoint for it on the nodes, one per node on the operator.
    t.notRegex(section(db, "operator"), /Endpoint/);
    t.regex(section(operator, "db"), new RegExp(`Endpoint = 10\\.99\\.0\\.13:51820`));
    t.regex(section(db, "app-1"), new RegExp(`AllowedIPs = ${mesh.addresses["app-1"].replace(/\./g, "\\.")}/32`));
    t.regex(db, new RegExp(`Address = ${mesh.addresses.db.replace(/\./g, "\\.")}/24`));
});

test("configs and private keys are secret outputs", async (t) => {
    const mesh = seedMesh("secrets");
    t.true(await pulumi.isSecret(mesh.configOf("db")));
    t.false(await pulumi.isSecret(mesh.members.db.publicKey));
});

test("keys and pre-shared-key secrets are seeded by tracked random.RandomPassword children of the mesh: two per member, none per pair, no RandomBytes", async (t) => {
    const mesh = seedMesh("tracked");
    await resolve(mesh.configOf("db"));
    const mine = recorded.filter((r) => r.name.startsWith("tracked-"));
    // RandomBytes keeps its bytes as the resource id, which the state never encrypts.
    t.false(mine.some((r) => r.type === "random:index/randomBytes:RandomBytes"));
    const seeds = mine.filter((r) => r.type === "random:index/randomPassword:RandomPassword");
    t.is(seeds.filter((r) => r.name.endsWith("-wg-key")).length, 6);
    t.is(seeds.filter((r) => r.name.endsWith("-psk-secret")).length, 6);
    t.is(seeds.length, 12);
    // 64 of 62 characters: 381 bits, at least the 256 a key needs.
    t.true(seeds.every((r) => r.inputs.length === 64 && r.inputs.special === false));
});

/** A mesh where every app node reaches every other: N(N-1)/2 pairs. */
function fullMesh(name: string, n: number, generations: Record<string, number> = {}, keyGenerations: Record<string, number> = {}) {
    const nodes = Array.from({ length: n }, (_, i) => `app-${i}`);
    return new MeshNetwork(name, {
        cidr: "10.90.0.0/16",
        nodes: nodes.map((node) => ({
            name: node, tags: ["app"], endpoint: "198.51.100.1:51820", pskGeneration: generations[node], keyGeneration: keyGenerations[node],
        })),
        rules: [{ from: "tag:app", to: "tag:app", ports: ["tcp/8080"] }],
    });
}

test("resources grow linearly with the members of a full mesh, not with its pairs", async (t) => {
    for (const n of [8, 24]) {
        const name = `full${n}`;
        const mesh = fullMesh(name, n);
        const configs = await Promise.all(Object.keys(mesh.members).map((m) => resolve(mesh.configOf(m))));
        t.true(configs.every((c) => (c.match(/\[Peer\]/g) ?? []).length === n - 1), "every member peers with all others");
        t.is(recorded.filter((r) => r.name.startsWith(`${name}-`)).length, 2 * n, `${n} members`);
    }
});

test("raising one member's pskGeneration changes the pre-shared keys of its pairs and of no other pair", async (t) => {
    // The mocks keep outputs for unchanged inputs, as the engine's state does between two runs.
    const psks = async (mesh: MeshNetwork) => {
        const keys = new Map<string, string>();
        for (const m of Object.keys(mesh.members)) {
            for (const [, peer, psk] of (await resolve(mesh.configOf(m))).matchAll(/^# (\S+)\n\[Peer\]\nPublicKey = \S+\nPresharedKey = (\S+)$/gm)) {
                keys.set([m, peer].sort().join("--"), psk);
            }
        }
        return keys;
    };
    const before = await psks(fullMesh("rotate", 5));
    const after = await psks(fullMesh("rotate", 5, { "app-2": 2 }));
    t.is(before.size, 10);
    for (const [pair, psk] of before) {
        if (pair.split("--").includes("app-2")) t.not(after.get(pair), psk, pair);
        else t.is(after.get(pair), psk, pair);
    }
    const rotated = recorded.filter((r) => r.name === "rotate-app-2-psk-secret").map((r) => r.inputs.keepers.generation);
    t.deepEqual(rotated, ["1", "2"]);
});

test("raising one member's keyGeneration replaces its key alone; generation 1 has no keepers, as keys had before rotation existed", async (t) => {
    const publicKeys = async (mesh: MeshNetwork) => Object.fromEntries(await Promise.all(Object.keys(mesh.members).map(async (m) => [m, await resolve(mesh.members[m].publicKey)])));
    const before = await publicKeys(fullMesh("rekey", 3));
    const after = await publicKeys(fullMesh("rekey", 3, {}, { "app-1": 2 }));
    t.not(after["app-1"], before["app-1"]);
    t.is(after["app-0"], before["app-0"]);
    t.is(after["app-2"], before["app-2"]);
    const keepers = recorded.filter((r) => r.name === "rekey-app-1-wg-key").map((r) => r.inputs.keepers);
    t.deepEqual(keepers, [undefined, { generation: "2" }], "an existing stack upgrades without a new key");
    t.true(await pulumi.isSecret(fullMesh("rekey-secret", 2).members["app-0"].privateKey), "the private key (what a cut-over stages) is a secret");
});

test("a bad pskGeneration is refused before anything is registered", (t) => {
    t.throws(() => fullMesh("badgen", 2, { "app-1": 0 }), { message: /nodes\[1\]\.pskGeneration/ });
    t.false(recorded.some((r) => r.name.startsWith("badgen")));
});

test("a behind-NAT node sends keepalives and gets no Endpoint on its peers", async (t) => {
    const mesh = new MeshNetwork("nat", {
        cidr: "10.78.0.0/24",
        nodes: [{ name: "home", behindNat: true, endpoint: "198.51.100.20:51820" }, { name: "vps", endpoint: "198.51.100.7:51820" }],
        rules: [{ from: "home", to: "vps", ports: ["tcp/443"] }],
    });
    t.regex(await resolve(mesh.configOf("home")), /PersistentKeepalive = 25/);
    const vps = await resolve(mesh.configOf("vps"));
    t.notRegex(vps, /PersistentKeepalive|Endpoint = 198\.51\.100\.20/);
});

test("previousAddresses: members keep what the stack exported last time; a newcomer takes a free address", (t) => {
    const args = (nodes: string[], previousAddresses?: Record<string, string>) => ({
        cidr: "10.91.0.0/24", nodes: nodes.map((name) => ({ name })), rules: [{ from: "*", to: "*", ports: ["tcp/80"] }], previousAddresses,
    });
    const first = new MeshNetwork("prev-a", args(["web"], { web: "10.91.0.77" }));
    t.is(first.addresses.web, "10.91.0.77", "a remembered address is kept even where the name would not hash");
    const grown = new MeshNetwork("prev-b", args(["web", "api"], first.addresses));
    t.is(grown.addresses.web, "10.91.0.77");
    t.not(grown.addresses.api, "10.91.0.77");
    t.throws(() => new MeshNetwork("prev-c", args(["web"], { web: 7 } as any)), { message: /previousAddresses/ });
});

test("an IPv6 endpoint, given or resolved later, is [addr]:port in the peers' configs, canonical; a bare or zoned one stops the mesh", async (t) => {
    const mesh = new MeshNetwork("v6-endpoints", {
        cidr: "10.77.0.0/24",
        nodes: [{ name: "a", endpoint: "[2001:DB8:0::7]:51820" }, { name: "b", endpoint: pulumi.output("[fd12:3456:789a:1:0:0:0:10]:51821") }, { name: "c", endpoint: "10.99.0.3:51820" }],
        rules: [{ from: "*", to: "*", ports: ["tcp/22"] }],
    });
    const c = await resolve(mesh.configOf("c"));
    t.regex(section(c, "a"), /^Endpoint = \[2001:db8::7\]:51820$/m);
    t.regex(section(c, "b"), /^Endpoint = \[fd12:3456:789a:1::10\]:51821$/m);
    t.regex(section(await resolve(mesh.configOf("a")), "c"), /^Endpoint = 10\.99\.0\.3:51820$/m);
    for (const endpoint of ["2001:db8::7:51820", "[fe80::1%eth0]:51820", "[::ffff:10.99.0.3]:51820"]) {
        t.throws(() => new MeshNetwork(`v6-bad-${endpoint.length}`, { cidr: "10.77.0.0/24", nodes: [{ name: "a", endpoint }], rules: [] }),
            { message: /^nodes\[0\]\.endpoint: .* is not valid: / }, endpoint);
    }
});

test("an IPv6-only node dials its peers' IPv6 endpoints; dual-stack peers dial it over IPv6 and each other over IPv4", async (t) => {
    const mesh = new MeshNetwork("v6-only", {
        cidr: "10.77.0.0/24",
        nodes: [
            { name: "a", endpoint: "10.99.0.1:51820", ipv6Endpoint: "[fd12:3456:789a:1::a]:51820" },
            { name: "b", endpoint: "10.99.0.2:51820", ipv6Endpoint: pulumi.output("[fd12:3456:789a:1::b]:51820") },
            { name: "six", endpoint: "[fd12:3456:789a:1::6]:51820", ipv6Only: true },
            { name: "old", endpoint: "10.99.0.4:51820" },
        ],
        operators: [{ name: "op" }],
        rules: [{ from: "*", to: "*", ports: ["tcp/22"] }],
    });
    const [a, six, op] = await Promise.all(["a", "six", "op"].map((m) => resolve(mesh.configOf(m))));
    const endpointIn = (config: string, peer: string) => /^Endpoint = (\S+)$/m.exec(section(config, peer))?.[1];
    t.is(endpointIn(a, "b"), "10.99.0.2:51820");
    t.is(endpointIn(a, "six"), "[fd12:3456:789a:1::6]:51820");
    t.is(endpointIn(six, "a"), "[fd12:3456:789a:1::a]:51820");
    t.is(endpointIn(six, "b"), "[fd12:3456:789a:1::b]:51820");
    t.is(endpointIn(six, "old"), undefined, "an IPv4-only peer cannot be dialled from an IPv6-only node: it starts the tunnel");
    t.is(endpointIn(op, "six"), "[fd12:3456:789a:1::6]:51820");
    t.is(endpointIn(op, "a"), "10.99.0.1:51820");
    t.throws(() => new MeshNetwork("v6-only-bad", { cidr: "10.77.0.0/24", nodes: [{ name: "x", endpoint: "10.99.0.9:51820", ipv6Only: true }], rules: [] }),
        { message: /^nodes\[0\]\.endpoint: "10\.99\.0\.9:51820" is not valid: the node is ipv6Only, so no peer can reach it over IPv4: give its \[IPv6\]:port/ });
    t.throws(() => new MeshNetwork("v6-only-bad2", { cidr: "10.77.0.0/24", nodes: [{ name: "x", ipv6Endpoint: "10.99.0.9:51820" }], rules: [] }),
        { message: /^nodes\[0\]\.ipv6Endpoint: .* expected an IPv6 endpoint in brackets/ });
});

test("a member as data: its plain fields survive JSON (as a stack reference carries them), its keys stay secret, and a node made from it renders as from the mesh", async (t) => {
    const { ZeroTrustNode } = await import("../../components/zero-trust-node");
    const { sshKeyPair } = await import("../../scripts/ssh-key-pair");
    const mesh = seedMesh("as-data");
    const db = mesh.member("db");
    const { publicKey, privateKey, wireguardConfig, operatorPresharedKeys, ...plain } = db;
    const carried = JSON.parse(JSON.stringify(plain));
    t.deepEqual(carried, plain, "everything but the keys and the configuration is plain JSON data");
    t.true(await pulumi.isSecret(pulumi.output(privateKey)));
    t.true(await pulumi.isSecret(pulumi.output(wireguardConfig)));
    t.true(await pulumi.isSecret(pulumi.output(operatorPresharedKeys)));
    t.deepEqual(await resolve(pulumi.output(operatorPresharedKeys)), { operator: await resolve(mesh.presharedKeyOf("db", "operator")) },
        "its pre-shared key with each operator peer it has");
    t.is(await resolve(pulumi.output(wireguardConfig)), await resolve(mesh.configOf("db")));
    const keys = sshKeyPair();
    const connection = { host: "203.0.113.13", privateKey: keys.privateKey, hostKey: keys.publicKey };
    const fromMesh = new ZeroTrustNode("db-mesh", { member: db, connection, bootstrapSshSources: ["198.51.100.4"] });
    const fromData = new ZeroTrustNode("db-data", {
        // Keys as plain strings, the way another stack's outputs or another language pass them.
        member: { ...carried, publicKey: await resolve(pulumi.output(publicKey)), privateKey: await resolve(pulumi.output(privateKey)),
            wireguardConfig: await resolve(pulumi.output(wireguardConfig)), operatorPresharedKeys: await resolve(pulumi.output(operatorPresharedKeys)) },
        connection, bootstrapSshSources: ["198.51.100.4"],
    });
    t.is(fromData.firewallFile, fromMesh.firewallFile);
    t.is(fromData.member, "db");
    t.deepEqual(fromData.meshAddresses, mesh.addresses);
});
