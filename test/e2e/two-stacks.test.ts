// One mesh across two stacks, through the real engine on lab hosts: a "net" stack owns the mesh
// (keys, addresses, policy) and exports its members as data; a "site" stack deploys the hosts and
// their ZeroTrustNodes from those outputs through a StackReference. Adding a node in net changes, in
// site, only its peers' configurations (and makes the newcomer); tunnels work across both; no key
// is in the clear in either stack's state.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import test from "ava";
import { execFileSync } from "child_process";
import { LabHost, LabNetwork, labLayout } from "../../components/hosts/lab";
import { membersFromStack } from "../../components/mesh-member";
import { MeshNetwork } from "../../components/mesh-network";
import { previousStackOutput } from "../../components/previous-output";
import { hostAddressAt } from "../../components/validate";
import { ZeroTrustNode } from "../../components/zero-trust-node";
import { inLabHost } from "../../scripts/lab/lab-probe";
import { EngineStack } from "../helpers/engine";
import { removeLabLeftovers } from "../helpers/lab";

const LAB = "tws";
const LAYOUT = labLayout(LAB);
const PROJECT = "zt-two-stacks";
const SUBNET = "10.213.185.0/24";
const MESH = "10.185.0.0/24";
const FIRST = ["n1", "n2"];
const GROWN = ["n1", "n2", "n3"];
/** Each host's underlay slot: net knows the endpoints before site makes the hosts. */
const SLOT: Record<string, number> = { n1: 0, n2: 1, n3: 2 };
const underlayOf = (n: string) => hostAddressAt("subnet", SUBNET, SLOT[n]);
const cleanup = () => removeLabLeftovers(LAB, GROWN);

/** The network stack: the mesh alone, no host. */
function netProgram(nodes: string[]) {
    return async () => {
        const mesh = new MeshNetwork("corp", {
            cidr: MESH,
            nodes: nodes.map((n) => ({ name: n, tags: ["lab"], endpoint: `${underlayOf(n)}:51820` })),
            rules: [{ from: "tag:lab", to: "tag:lab", ports: ["tcp/8080"] }],
            previousAddresses: await previousStackOutput<Record<string, string>>("addresses"),
        });
        return { addresses: mesh.addresses, ...mesh.exportMembers() };
    };
}

/** The site stack: a host and a node for every node the network stack has. */
async function siteProgram() {
    const members = await membersFromStack(new pulumi.StackReference(`organization/${PROJECT}/net`));
    const lab = new LabNetwork(LAB, { subnet: SUBNET, alsoUnrouted: [MESH] });
    const deployerKey = new tls.PrivateKey("deployer-key", { algorithm: "ED25519" });
    for (const n of Object.keys(members).filter((m) => members[m].kind === "node")) {
        const host = new LabHost(n, { network: lab, address: underlayOf(n), authorizedKey: deployerKey.publicKeyOpenssh });
        new ZeroTrustNode(n, {
            member: members[n], connection: { ...host.connection, privateKey: deployerKey.privateKeyOpenssh },
            bootstrapSshSources: [lab.gatewayAddress], rollbackSeconds: 8,
        });
    }
}

let net: EngineStack;
let site: EngineStack;
let firstAddresses: Record<string, string> = {};

test.before(async () => {
    process.chdir(`${__dirname}/../../..`);
    cleanup();
    net = await EngineStack.create(PROJECT, "net", netProgram(FIRST));
    site = await net.sibling("site", siteProgram);
});

test.after.always(async () => {
    await site?.dispose(); // first: its hosts, then the mesh they read
    await net?.dispose();
    cleanup();
});

const ping = (from: string, to: string) =>
    execFileSync("ip", ["netns", "exec", LAYOUT.namespaceOf(from), "ping", "-c", "2", "-i", "0.2", "-W", "2", to], { encoding: "utf8" });

function checkTunnels(t: import("ava").ExecutionContext, addresses: Record<string, string>, nodes: string[]): void {
    for (const a of nodes) for (const b of nodes) if (a !== b) t.notThrows(() => ping(a, addresses[b]), `${a} reaches ${b} over the mesh`);
}

/** Operations on the resources that do something (not the components' or the stack's own records). */
const real = (changes: string[]) => changes.filter((c) => !/ (zerotrust:|pulumi:pulumi:Stack)/.test(c)).map((c) => c.replace(/ \S+ /, " ")).sort();

test.serial("the site stack deploys its nodes from the network stack's outputs; the tunnels work", async (t) => {
    const first = await net.up();
    t.is(first.error, undefined);
    const deployed = await site.up();
    t.is(deployed.error, undefined);
    t.deepEqual(deployed.ran.filter((r) => /-(wireguard|firewall|ssh)$/.test(r)).sort(),
        FIRST.flatMap((n) => [`${n}-firewall`, `${n}-ssh`, `${n}-wireguard`]).sort());
    firstAddresses = first.outputs.addresses.value as Record<string, string>;
    checkTunnels(t, firstAddresses, FIRST);
});

test.serial("a node added in the network stack changes, in the site stack, only its peers' configurations", async (t) => {
    net.withProgram(netProgram(GROWN));
    const grown = await net.up();
    t.is(grown.error, undefined);
    t.deepEqual(real(grown.changes), ["create corp-n3-psk-secret", "create corp-n3-wg-key"], "the network stack makes the newcomer's key and secret, nothing else");

    const planned = await site.preview();
    // The StackReference is read on every run: that is how the site learns of the newcomer.
    t.true(planned.includes(`read organization/${PROJECT}/net`));
    const updates = planned.filter((p) => !p.startsWith("create ") && !p.startsWith("read "));
    t.deepEqual(updates.sort(), ["update n1-firewall", "update n1-wireguard", "update n2-firewall", "update n2-wireguard"],
        "the only existing resources that change are the peers' WireGuard and firewall configurations");
    t.true(planned.some((p) => p === "create n3-wireguard"), "n3 is made");
    t.true(planned.every((p) => !p.startsWith("create ") || p.includes("n3")), `every creation is n3's: ${planned.join(", ")}`);

    const applied = await site.up();
    t.is(applied.error, undefined);
    checkTunnels(t, grown.outputs.addresses.value as Record<string, string>, GROWN);
    const grownAddresses = grown.outputs.addresses.value as Record<string, string>;
    t.deepEqual(FIRST.map((n) => grownAddresses[n]), FIRST.map((n) => firstAddresses[n]), "no member is renumbered");
});

test.serial("no WireGuard private key or pre-shared key is in the clear in either stack's state", (t) => {
    const state = net.stateText(); // one backend: both stacks' states and their history
    t.true(state.includes("n1-wireguard") && state.includes("corp-n1-wg-key"), "both stacks' states are in the text searched");
    const secrets = GROWN.flatMap((n) => {
        const root = LAYOUT.hostRootOf(n);
        const privateKey = inLabHost(root, ["wg", "show", "wg0", "private-key"]).trim();
        const psks = inLabHost(root, ["wg", "show", "wg0", "preshared-keys"]).trim().split("\n").map((l) => l.split("\t")[1]);
        return [{ what: `${n}'s private key`, value: privateKey }, ...psks.map((v, i) => ({ what: `${n}'s pre-shared key ${i + 1}`, value: v }))];
    });
    t.is(secrets.length, GROWN.length * GROWN.length, "each host's key and one pre-shared key per peer were read");
    for (const s of secrets) {
        t.regex(s.value, /^[A-Za-z0-9+/]{43}=$/, s.what);
        t.false(state.includes(s.value), `${s.what} is not in the clear in the state`);
    }
});
