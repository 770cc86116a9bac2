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

test("keys and PSKs are tracked random.RandomBytes children of the mesh", async (t) => {
    const mesh = seedMesh("tracked");
    await resolve(mesh.configOf("db"));
    const mine = recorded.filter((r) => r.name.startsWith("tracked-") && r.type === "random:index/randomBytes:RandomBytes");
    t.is(mine.filter((r) => r.name.endsWith("-wg-key")).length, 6);
    // Pairs: operator with 5 nodes, gateway with 2 apps, 2 apps with db.
    t.is(mine.filter((r) => r.name.endsWith("-psk")).length, 9);
    t.true(mine.every((r) => r.inputs.length === 32));
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
