// What a mesh-only node's key cut-over stages, under mocks: its own key, and for the deployer's
// peer its public key and their pair's pre-shared key, the ones its configuration holds.
import test from "ava";
import { installMocks, plain, resolve } from "../helpers/mocks";
import { sshKeyPair } from "../../scripts/ssh-key-pair";

const recorded = installMocks();
import { MeshNetwork } from "../../components/mesh-network";
import { ZeroTrustNode } from "../../components/zero-trust-node";

const KEYS = sshKeyPair();

test("the cut-over stages the node's key, and the deployer's public key and pre-shared key as the node's configuration has them", async (t) => {
    const mesh = new MeshNetwork("cut", {
        cidr: "10.70.0.0/24",
        nodes: [{ name: "db", endpoint: "198.51.100.1:51820" }, { name: "app", endpoint: "198.51.100.2:51820" }],
        operators: [{ name: "op" }],
        rules: [{ from: "app", to: "db", ports: ["tcp/5432"] }],
    });
    const connection = { host: "198.51.100.1", privateKey: KEYS.privateKey, hostKey: KEYS.publicKey };
    const node = new ZeroTrustNode("cut-db", { member: mesh.member("db"), connection, sshOverMeshOnly: true, deployerPeer: mesh.member("op") });
    const config = await resolve(mesh.configOf("db"));
    const opSection = config.slice(config.indexOf("# op\n[Peer]")).split("\n\n")[0];
    const psk = /PresharedKey = (\S+)/.exec(opSection)![1];
    t.is(await resolve(mesh.presharedKeyOf("op", "db")), psk, "the same from either side");
    // Its stdin, as the command was registered with it (resolved once the registration is done).
    await resolve(node.keyCutover!.urn);
    const request = JSON.parse(plain(recorded.find((r) => r.name === "cut-db-key-cutover")!.inputs.stdin));
    t.is(request.files["wg.key"], await resolve(mesh.members.db.privateKey));
    t.is(request.files["deployer.peer"], `${mesh.addresses.op} ${await resolve(mesh.members.op.publicKey)} ${psk}`);
    t.throws(() => mesh.presharedKeyOf("db", "nobody"), { message: /'nobody' is not a member/ });
});
