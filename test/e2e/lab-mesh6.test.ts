// The mesh on both families, end to end through the real engine: the stack program with meshCidr6
// (a ULA /64 beside the mesh's IPv4 range) on a dual-stack lab with db IPv6-only underneath. Every
// member gets an address in each range, every tunnel carries both, one policy governs both: the
// access matrix measured to IPv4 mesh addresses and to IPv6 ones each equals the policy; the
// drift check finds every concern in sync (the wireguard concern reads both families' addresses).
import test from "ava";
import { execFileSync } from "child_process";
import { existsSync, readFileSync } from "fs";
import { labLayout } from "../../components/hosts/lab";
import { labUlaSubnet } from "../../components/hosts/lab-ipv6";
import { cidr6Contains, parseIPv6 } from "../../components/ipv6";
import { compilePolicy, parsePort, rulesAllowing } from "../../components/policy";
import { StateResource, formatVerifyReport, verifyDeployment } from "../../components/verify";
import { parseCidr6 } from "../../components/validate";
import { inLabHost, probe } from "../../scripts/lab/lab-probe";
import { LabNode, measureMatrix, startListeners } from "../../scripts/lab/report";
import { StackSettings, zeroTrustStack } from "../../stacks/program";
import { SEED_NODES, SEED_OPERATOR, SEED_PROBE_PORTS, SEED_RULES, seedPolicyMembers } from "../../stacks/seed-scenario";
import { EngineStack, UpResult } from "../helpers/engine";
import { removeLabLeftovers } from "../helpers/lab";
import { NFT } from "../helpers/netns";
import { stillRunning } from "../helpers/processes";

const LAB = "v6m";
const LAYOUT = labLayout(LAB);
/** The mesh's IPv6 range: a ULA /64 of its own, as a lab's underlay gets one. */
const MESH6 = labUlaSubnet("v6m mesh");
const SETTINGS: StackSettings = {
    hostKind: "lab",
    meshCidr: "10.167.0.0/24",
    meshCidr6: MESH6,
    labSubnet: "10.213.67.0/24",
    labIPv6: true,
    ipv6OnlyNodes: ["db"],
    sshOverMeshOnly: true,
    rollbackSeconds: 8,
    extraAppServers: 0,
};

let engine: EngineStack;
let out: Record<string, any> = {};

async function up(): Promise<UpResult> {
    const result = await engine.up();
    if (!result.error) out = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
    return result;
}

const host = (name: string): { underlay: string; underlay6?: string; mesh: string; mesh6: string } => out.hosts[name];
const inMesh6 = (a: string) => cidr6Contains(parseCidr6("mesh6", MESH6), parseIPv6(a) ?? -1n);

test.before(async () => {
    process.chdir(`${__dirname}/../../..`);
    removeLabLeftovers(LAB, SEED_NODES.map((n) => n.name));
    engine = await EngineStack.create("zt-v6m", "v6m", async () => {
        const built = zeroTrustStack(LAB, SETTINGS);
        return { hosts: built.hosts, meshAddresses6: built.meshAddresses6 };
    });
});

test.after.always(async () => {
    await engine?.dispose();
    removeLabLeftovers(LAB, SEED_NODES.map((n) => n.name));
});

test.serial("pulumi up: every member has an address in both mesh ranges, on its WireGuard interface, and this machine routes the IPv6 one to its tunnel", async (t) => {
    const { error } = await up();
    t.is(error, undefined);
    t.log(`mesh ranges: ${SETTINGS.meshCidr} and ${MESH6}`);
    for (const n of SEED_NODES) {
        const h = host(n.name);
        t.true(inMesh6(h.mesh6), `${n.name}: ${h.mesh6}`);
        const addresses = inLabHost(`${LAYOUT.root}/${n.name}`, ["ip", "-o", "addr", "show", "dev", "wg0", "scope", "global"]);
        t.regex(addresses, new RegExp(`inet ${h.mesh.replace(/\./g, "\\.")}/24 `), n.name);
        t.regex(addresses, new RegExp(`inet6 ${h.mesh6}/64 `), n.name);
    }
    t.true(inMesh6(out.meshAddresses6[SEED_OPERATOR]));
    t.regex(execFileSync("ip", ["-6", "route", "get", host("db").mesh6], { encoding: "utf8" }), new RegExp(` dev ${LAYOUT.operatorInterface} `));
    // db's firewall: the operator's SSH and the app servers' 5432 by both of their addresses.
    const sets = inLabHost(`${LAYOUT.root}/db`, [NFT, "list", "table", "inet", "zerotrust"]);
    t.regex(sets, new RegExp(`set ssh_mesh6 \\{[^}]*elements = \\{ ${out.meshAddresses6[SEED_OPERATOR]} \\}`));
    t.regex(sets, new RegExp(`set mesh_allow6 \\{[^}]*${host("app-1").mesh6} \\. tcp \\. 5432`));
});

test.serial("the access matrix, measured to IPv4 and to IPv6 mesh addresses, equals the policy on each family", async (t) => {
    const nodes: LabNode[] = SEED_NODES.map((n) => ({ name: n.name, namespace: LAYOUT.namespaceOf(n.name), ...host(n.name) }));
    const ports = SEED_PROBE_PORTS.map((p) => parsePort("p", p).first);
    const listeners = await startListeners(nodes, ports);
    t.teardown(() => listeners.forEach((l) => l.kill()));
    const measured = measureMatrix(nodes, SEED_OPERATOR, ports, LAYOUT.interfaces);
    const policy = compilePolicy(seedPolicyMembers(), SEED_RULES);
    const expected = policy.members.filter((m) => m.kind !== "client").flatMap((from) => SEED_NODES.filter((to) => to.name !== from.name).flatMap((to) =>
        SEED_PROBE_PORTS.filter((p) => rulesAllowing(policy, from.name, to.name, parsePort("p", p)).length > 0).map((p) => `${from.name} -> ${to.name} ${p}`))).sort();
    t.log(`open over the mesh, IPv4 and IPv6 alike:\n${measured.rows.join("\n")}`);
    t.deepEqual(measured.meshOpen.sort(), expected, "IPv4 mesh addresses");
    t.deepEqual(measured.meshOpen6.sort(), expected, "IPv6 mesh addresses");
    t.deepEqual(measured.underlayAnswered, []);
    // From a node the policy keeps out, over IPv6 too: dev-box reaches nothing, not even a port db listens on.
    const fromDevBox = probe({ namespace: LAYOUT.namespaceOf("dev-box") }, [`[${host("db").mesh6}]:5432`, `[${host("db").mesh6}]:22`]);
    t.deepEqual(Object.values(fromDevBox), ["filtered", "filtered"]);
});

test.serial("the drift check reads both families and finds every concern in sync; a second up changes nothing", async (t) => {
    const exported = await engine.stack.exportStack();
    const report = await verifyDeployment((exported.deployment as { resources: StateResource[] }).resources);
    t.deepEqual(report.concerns.filter((c) => c.state !== "in sync").map((c) => `${c.resource}: ${c.state}`), [], formatVerifyReport(report));
    const { ran, changes, error } = await up();
    t.is(error, undefined);
    t.deepEqual(ran, []);
    t.deepEqual(changes, []);
});

test.serial("pulumi destroy removes every namespace, interface, process and route", async (t) => {
    const pids = SEED_NODES.map((n) => Number(readFileSync(`${LAYOUT.root}/${n.name}/sshd.pid`, "utf8")));
    await engine.destroy();
    t.notRegex(execFileSync("ip", ["netns", "list"], { encoding: "utf8" }), new RegExp(`zt-${LAB}-`));
    t.notRegex(execFileSync("ip", ["-o", "link"], { encoding: "utf8" }), new RegExp(LAYOUT.interfaces.join("|")));
    for (const range of [MESH6, labUlaSubnet(LAB)]) {
        t.is(execFileSync("ip", ["-6", "route", "show", "table", "all", "match", range], { encoding: "utf8" }).split("\n").filter((l) => l && !l.startsWith("default")).join("\n"), "", range);
    }
    t.false(existsSync(LAYOUT.root));
    for (const pid of pids) t.false(await stillRunning(pid), `sshd ${pid} still runs`);
});
