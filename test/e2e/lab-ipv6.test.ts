// End to end on an IPv6 underlay, through the real Pulumi engine: the stack program on a
// dual-stack lab (every lab host has an address in the lab's own ULA /64, derived from its name)
// with one node, db, IPv6-only (no IPv4 underlay at all). Its WireGuard endpoint and the
// deployer's SSH go over IPv6; the measured matrix equals the policy; nmap -6 from a stranger on
// the underlay sees only the gateway's 443. Every address this machine sends to was checked to
// route through the lab's own interfaces first (ip -6 route get), and destroy leaves nothing.
import test, { ExecutionContext } from "ava";
import { execFileSync, spawnSync } from "child_process";
import { existsSync, readFileSync, rmSync } from "fs";
import { labLayout } from "../../components/hosts/lab";
import { gatewayAddress6, labUlaSubnet } from "../../components/hosts/lab-ipv6";
import { cidr6Contains, parseIPv6 } from "../../components/ipv6";
import { compilePolicy, parsePort, rulesAllowing } from "../../components/policy";
import { assertRoutedVia } from "../../components/remote/route-guard";
import { parseCidr6 } from "../../components/validate";
import { inLabHost, probe, startTool } from "../../scripts/lab/lab-probe";
import { LabNode, measureMatrix, startListeners } from "../../scripts/lab/report";
import { nmapAnswering } from "../../scripts/audit/scanners";
import { strangerOnUnderlay } from "../../scripts/audit/stranger";
import { StackSettings, zeroTrustStack } from "../../stacks/program";
import { SEED_NODES, SEED_OPERATOR, SEED_PROBE_PORTS, SEED_RULES, seedPolicyMembers } from "../../stacks/seed-scenario";
import { EngineStack, UpResult } from "../helpers/engine";
import { removeLabLeftovers } from "../helpers/lab";
import { NFT } from "../helpers/netns";
import { stillRunning } from "../helpers/processes";
import { curl, privateDir, writePrivate } from "./gateway-clients";

const LAB = "v6";
const LAYOUT = labLayout(LAB);
const SUBNET6 = labUlaSubnet(LAB);
const BRIDGE6 = gatewayAddress6(SUBNET6);
const SIX = "db"; // the IPv6-only node
const BASE: StackSettings = {
    hostKind: "lab",
    meshCidr: "10.166.0.0/24",
    labSubnet: "10.213.66.0/24",
    labIPv6: true,
    ipv6OnlyNodes: [SIX],
    sshOverMeshOnly: false,
    rollbackSeconds: 8,
    extraAppServers: 0,
};
const MESH_ONLY: StackSettings = { ...BASE, sshOverMeshOnly: true };
const cleanupLeftovers = () => removeLabLeftovers(LAB, SEED_NODES.map((n) => n.name));

let engine: EngineStack;
let out: Record<string, any> = {};

function program(settings: StackSettings) {
    return async () => {
        const built = zeroTrustStack(LAB, settings);
        return { hosts: built.hosts, caChainPem: built.ca.chainPem, gatewayClients: built.gatewayClients, gatewayEndpoint: built.gatewayEndpoint };
    };
}

async function up(settings: StackSettings): Promise<UpResult> {
    engine.withProgram(program(settings));
    const result = await engine.up();
    if (!result.error) out = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
    return result;
}

const ns = LAYOUT.namespaceOf;
const inLab6 = (address: string) => cidr6Contains(parseCidr6("lab", SUBNET6), parseIPv6(address) ?? -1n);
const host = (name: string): { underlay: string; underlay6?: string; mesh: string; publicKey: string; managedVia: string } => out.hosts[name];
const wgEndpoints = (text: string) => Object.fromEntries(text.trim().split("\n").map((l) => l.split("\t") as [string, string]));

test.before(async () => {
    process.chdir(`${__dirname}/../../..`);
    cleanupLeftovers();
    engine = await EngineStack.create("zt-v6", "v6", program(BASE));
});

test.after.always(async () => {
    await engine?.dispose();
    cleanupLeftovers();
});

test.serial("bootstrap on a dual-stack underlay: db has no IPv4 underlay, and the deployer configures it over IPv6", async (t) => {
    const { error, ran } = await up(BASE);
    t.is(error, undefined);
    t.true(ran.includes("db-firewall") && ran.includes("v6-bridge"), ran.join(" "));
    t.log(`the lab's IPv6 range, from its name: ${SUBNET6}; this machine on the bridge: ${BRIDGE6}`);
    // The bridge carries the lab's /64, and this machine routes it there (and nowhere else).
    t.regex(execFileSync("ip", ["-6", "route", "show", "table", "all", "match", SUBNET6], { encoding: "utf8" }), new RegExp(`^${SUBNET6.replace(/\//, "\\/")} dev ${LAYOUT.bridge} `, "m"));
    for (const n of SEED_NODES) {
        const h = host(n.name);
        t.true(inLab6(h.underlay6 ?? ""), `${n.name} has an address in the lab's IPv6 range: ${h.underlay6}`);
        t.is(h.underlay === h.underlay6, n.name === SIX, `${n.name}: the deployer dials ${h.underlay}`);
    }
    t.is(execFileSync("ip", ["-n", ns(SIX), "-4", "addr", "show", "dev", "eth0"], { encoding: "utf8" }).trim(), "", "no IPv4 address on db's underlay");
    t.is(host(SIX).managedVia, host(SIX).underlay6!);
    // db's sshd saw the deployer come from this machine's IPv6 address on the bridge.
    const sshdLog = readFileSync(`${LAYOUT.root}/${SIX}/sshd.log`, "utf8");
    t.regex(sshdLog, new RegExp(`Accepted publickey for root from ${BRIDGE6} port \\d+`));
    t.notRegex(sshdLog, /Accepted publickey for root from \d+\.\d+\.\d+\.\d+ /, "never over IPv4");
    // Its firewall lets SSH in from that address, in a set of IPv6 sources.
    t.regex(inLabHost(`${LAYOUT.root}/${SIX}`, [NFT, "list", "set", "inet", "zerotrust", "ssh_bootstrap6"]), new RegExp(`elements = \\{ ${BRIDGE6} \\}`));
});

test.serial("one switch to SSH over the mesh; every tunnel is up, db's over IPv6 only", async (t) => {
    const { error } = await up(MESH_ONLY);
    t.is(error, undefined);
    for (const n of SEED_NODES) t.is(host(n.name).managedVia, host(n.name).mesh);
    // This machine's tunnel to db goes to db's IPv6 endpoint; to the others over IPv4.
    const operator = wgEndpoints(execFileSync("wg", ["show", LAYOUT.operatorInterface, "endpoints"], { encoding: "utf8" }));
    for (const n of SEED_NODES) {
        const expected = n.name === SIX ? `[${host(SIX).underlay6}]:51820` : `${host(n.name).underlay}:51820`;
        t.is(operator[host(n.name).publicKey], expected, `operator -> ${n.name}`);
    }
    // db's peers reach it at its IPv6 endpoint, and db reaches them at theirs: every endpoint db has is in the lab's /64.
    const fromDb = wgEndpoints(inLabHost(`${LAYOUT.root}/${SIX}`, ["wg", "show", "wg0", "endpoints"]));
    t.true(Object.keys(fromDb).length >= 3, JSON.stringify(fromDb));
    for (const [peer, endpoint] of Object.entries(fromDb)) t.true(inLab6(/^\[(.*)\]:\d+$/.exec(endpoint)?.[1] ?? ""), `db -> ${peer} at ${endpoint}`);
    const app1 = wgEndpoints(inLabHost(`${LAYOUT.root}/app-1`, ["wg", "show", "wg0", "endpoints"]));
    t.is(app1[host(SIX).publicKey], `[${host(SIX).underlay6}]:51820`, "app-1 -> db over IPv6");
});

test.serial("the measured access matrix equals the policy, and no probed port answers on either underlay family", async (t) => {
    const nodes: LabNode[] = SEED_NODES.map((n) => ({ name: n.name, namespace: ns(n.name), mesh: host(n.name).mesh, underlay: host(n.name).underlay, underlay6: host(n.name).underlay6 }));
    const ports = SEED_PROBE_PORTS.map((p) => parsePort("p", p).first);
    const listeners = await startListeners(nodes, ports);
    t.teardown(() => listeners.forEach((l) => l.kill()));
    const measured = measureMatrix(nodes, SEED_OPERATOR, ports, LAYOUT.interfaces);
    t.log(`measured over the mesh:\n${measured.rows.join("\n")}`);
    const policy = compilePolicy(seedPolicyMembers(), SEED_RULES);
    const expected = policy.members.filter((m) => m.kind !== "client").flatMap((from) => SEED_NODES.filter((to) => to.name !== from.name).flatMap((to) =>
        SEED_PROBE_PORTS.filter((p) => rulesAllowing(policy, from.name, to.name, parsePort("p", p)).length > 0).map((p) => `${from.name} -> ${to.name} ${p}`)));
    t.deepEqual(measured.meshOpen.sort(), expected.sort());
    t.deepEqual(measured.underlayAnswered, []);
    t.true(measured.meshOpen.some((m) => m.endsWith(`-> ${SIX} tcp/5432`)), "db, IPv6-only underneath, is reached over the mesh");
    // The guard: an IPv6 address this machine would route off the machine is not probed at all.
    t.throws(() => probe({ labInterfaces: LAYOUT.interfaces }, ["[fd7e:57e5:1bad:ffff::1]:22"]), { message: /refusing to send to fd7e:57e5:1bad:ffff::1: this machine routes it via eth0/ });
});

/** A stranger on the lab's underlay, IPv4 and IPv6 (free addresses of both ranges), with no mesh key. */
function stranger(t: ExecutionContext): string[] {
    const s = strangerOnUnderlay(LAYOUT.bridge, "10.213.66.200/24", `${SUBNET6.replace("::/64", "")}::200/64`);
    t.teardown(s.remove);
    return s.wrap;
}

test.serial("nmap -6 from a stranger on the underlay sees only the gateway's 443; over IPv4 the same; WireGuard's UDP port is no TCP port", (t) => {
    const wrap = stranger(t);
    const ports = "1-1024,5432,8080,51820";
    const v6 = SEED_NODES.map((n) => host(n.name).underlay6!);
    const scan6 = nmapAnswering(v6, ports, wrap);
    t.deepEqual(scan6.answering, [`[${host("gateway").underlay6}]:443/open`], scan6.output);
    const v4 = SEED_NODES.filter((n) => n.name !== SIX).map((n) => host(n.name).underlay);
    const scan4 = nmapAnswering(v4, ports, wrap);
    t.deepEqual(scan4.answering, [`${host("gateway").underlay}:443/open`], scan4.output);
});

test.serial("the gateway over IPv6: nginx listens on [::]:443, alice passes, carol gets 403, no certificate gets 400", async (t) => {
    const gw6 = host("gateway").underlay6!;
    assertRoutedVia(gw6, LAYOUT.interfaces); // every request below goes to this address from here
    const echo = await Promise.all(["app-1", "app-2"].map((h) => startTool({ namespace: ns(h) }, ["http-echo", "8080"])));
    t.teardown(() => echo.forEach((e) => e.kill()));
    const dir = privateDir();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const name = out.gatewayEndpoint.serverName;
    t.is(out.gatewayEndpoint.address6, gw6);
    const ca = writePrivate(dir, "ca.pem", out.caChainPem);
    const as = (client?: string) => curl(`https://${name}/`, `${name}:443:[${gw6}]`, ca, client ? [
        "--cert", writePrivate(dir, `${client}.crt`, out.gatewayClients[client].certPem),
        "--key", writePrivate(dir, `${client}.key`, out.gatewayClients[client].privateKeyPem)] : []);
    const alice = as("alice");
    t.is(alice.status, "200", alice.body);
    t.is(JSON.parse(alice.body)["x-client-dn"], "CN=alice,O=zerotrust");
    t.is(as("carol").status, "403");
    t.is(as().status, "400");
    // The certificate names the gateway by its IPv6 address too.
    const san = spawnSync("openssl", ["s_client", "-connect", `[${gw6}]:443`, "-servername", name, "-CAfile", ca], { input: "", encoding: "utf8", timeout: 15_000 });
    const text = spawnSync("openssl", ["x509", "-noout", "-ext", "subjectAltName"], { input: san.stdout, encoding: "utf8" }).stdout;
    // OpenSSL prints all eight groups, uppercase.
    const groups = Array.from({ length: 8 }, (_, i) => ((parseIPv6(gw6)! >> BigInt(112 - 16 * i)) & 0xffffn).toString(16).toUpperCase()).join(":");
    t.true(text.includes(`IP Address:${groups}`), text);
});

test.serial("a second deployment changes nothing and runs no remote command; a preview shows no changes", async (t) => {
    const { ran, changes, error } = await up(MESH_ONLY);
    t.is(error, undefined);
    t.deepEqual(ran, []);
    t.deepEqual(changes, []);
    t.deepEqual(await engine.preview(), []);
});

test.serial("pulumi destroy removes every namespace, interface, process, address and route the lab made", async (t) => {
    const pids = SEED_NODES.map((n) => Number(readFileSync(`${LAYOUT.root}/${n.name}/sshd.pid`, "utf8")));
    await engine.destroy();
    t.notRegex(execFileSync("ip", ["netns", "list"], { encoding: "utf8" }), new RegExp(`zt-${LAB}-`));
    t.notRegex(execFileSync("ip", ["-o", "link"], { encoding: "utf8" }), new RegExp(LAYOUT.interfaces.join("|")));
    t.is(execFileSync("ip", ["-6", "route", "show", "table", "all", "match", SUBNET6], { encoding: "utf8" }).split("\n").filter((l) => l && !l.startsWith("default")).join("\n"), "");
    t.false(existsSync(LAYOUT.root));
    for (const pid of pids) t.false(await stillRunning(pid), `sshd ${pid} still runs`);
});
