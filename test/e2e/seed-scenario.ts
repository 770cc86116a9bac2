// The seeds' scenario end to end on real lab hosts through the real Pulumi engine: the stack program
// (stacks/program.ts) as an inline program of the Automation API on a file backend, deployed by
// `pulumi up` with the real command, tls and random plugins onto network namespaces with their own
// sshd, wireguard-go and nftables. Then the network is measured, and changes are made as an
// operator would make them. One lab per test file that registers these tests: on this machine's
// own programs (lab-mesh.test.ts), or with hosts rooted in other Debian releases (release-lab-*).
import test, { ExecutionContext } from "ava";
import { execFileSync, spawnSync } from "child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import { labLayout, machineRelease } from "../../components/hosts/lab";
import { RELEASES } from "../../components/render/releases";
import { StateResource, VerifyReport, formatVerifyReport, verifyDeployment } from "../../components/verify";
import { compilePolicy, parsePort, rulesAllowing } from "../../components/policy";
import { assertRoutedVia } from "../../components/remote/route-guard";
import { inLabHost, interfaceIndex, probe, startPing, startTool } from "../../scripts/lab/lab-probe";
import { LabNode, measureMatrix, startListeners } from "../../scripts/lab/report";
import { StackSettings, zeroTrustStack } from "../../stacks/program";
import { SEED_NODES, SEED_OPERATOR, SEED_PROBE_PORTS, SEED_RULES, seedPolicyMembers } from "../../stacks/seed-scenario";
import { EngineStack, UpResult } from "../helpers/engine";
import { keyShaped, occurrences, secretPlaintexts, telltales } from "../helpers/state-secrets";
import { removeLabLeftovers } from "../helpers/lab";
import { stillRunning } from "../helpers/processes";
import { SSH_AUDIT_ACCEPTED_WARNINGS, TestsslFinding, nmapAnswering, sshAudit, testssl } from "../../scripts/audit/scanners";
import { strangerOnUnderlay } from "../../scripts/audit/stranger";
import { proveBeforeApply } from "../../components/proof/gate";
import { proofLabTests } from "./scenario/proof";
import { curl, expiredCertificate, foreignCertificate, privateDir, tlsRequest, writePrivate } from "./gateway-clients";
import { holdConnection, sameOverHttp2 } from "./scenario/http2";
import { AccessLogScenario, accessLogTests, dropRecordKeptTest } from "./scenario/access-log";

export interface ScenarioLab {
    /** The lab's name (at most 8 characters): its interfaces, namespaces and stack are named after it. */
    lab: string;
    meshCidr: string;
    /** A /24 this machine does not route. */
    labSubnet: string;
    /** Each node's host release (a release lab); default: this machine's own programs. */
    releases?: Record<string, string>;
}

/** Registers the scenario's tests, in order, for one lab. */
export function seedScenarioTests(lab: ScenarioLab): void {
const LAB = lab.lab;
const LAYOUT = labLayout(LAB);
/** An address of the lab's range that no host has: .99 (a wrong bootstrap source), .200 (a stranger). */
const spare = (last: number) => lab.labSubnet.replace(/\.0\/24$/, `.${last}`);
const LAB_ROOT = LAYOUT.root;
const OPERATOR_IFACE = LAYOUT.operatorInterface;
const LAB_INTERFACES = LAYOUT.interfaces;
const cleanupLeftovers = () => removeLabLeftovers(LAB, [...SEED_NODES.map((n) => n.name), "app-3"]);
const BASE: StackSettings = {
    hostKind: "lab",
    meshCidr: lab.meshCidr,
    labSubnet: lab.labSubnet,
    sshOverMeshOnly: false,
    rollbackSeconds: 8,
    extraAppServers: 0,
    releases: lab.releases,
};
/** The release each node's host runs, as the stack says. */
const releaseOf = (host: string): string => out.hosts[host].release;
const MESH_ONLY: StackSettings = { ...BASE, sshOverMeshOnly: true };

let engine: EngineStack;
/** The outputs of the last successful `up`. */
let out: Record<string, any> = {};

/** The stack program with these settings, returning what the tests read. */
function program(settings: StackSettings) {
    return async () => {
        const built = zeroTrustStack(LAB, settings);
        // As the stack's own program does: every preview and up proves the rendered files first.
        proveBeforeApply(built.mesh.plan, built.nodes);
        return {
            hosts: built.hosts,
            proofPolicy: built.proofPolicy,
            caChainPem: built.ca.chainPem,
            issuerCertPem: built.ca.issuerCertPem,
            issuerKeyPem: built.ca.issuerKeyPem,
            gatewayClients: built.gatewayClients,
        };
    };
}

async function up(settings: StackSettings): Promise<UpResult> {
    engine.withProgram(program(settings));
    const result = await engine.up();
    if (!result.error) out = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
    return result;
}

const ns = LAYOUT.namespaceOf;
const underlayOf = (host: string): string => out.hosts[host].underlay;
const meshOf = (host: string): string => out.hosts[host].mesh;
const fromHere = { labInterfaces: LAB_INTERFACES };
const sshAnswers = (address: string) => probe(fromHere, [`${address}:22`])[`${address}:22`] === "open";

test.before(async () => {
    process.chdir(`${__dirname}/../../..`);
    cleanupLeftovers();
    engine = await EngineStack.create(`zt-${LAB}`, LAB, program(BASE));
});

test.after.always(async () => {
    await engine?.dispose();
    cleanupLeftovers();
});

test.serial("bootstrap: pulumi up brings the lab up and configures every host over the underlay", async (t) => {
    const { ran, error } = await up(BASE);
    t.is(error, undefined);
    t.true(ran.includes("gateway-firewall") && ran.includes("db-ssh") && ran.includes(`${LAB}-bridge`), ran.join(" "));
    for (const n of SEED_NODES) t.true(sshAnswers(underlayOf(n.name)), `${n.name} answers SSH on the underlay while bootstrapping`);
    // Secrets on the host are owner-only files.
    const modes = inLabHost(`${LAB_ROOT}/db`, ["stat", "-c", "%n %a", "/etc/wireguard/wg0.conf", "/etc/zerotrust/firewall.nft", "/var/lib/zerotrust/wireguard"]);
    t.deepEqual(modes.trim().split("\n"), ["/etc/wireguard/wg0.conf 600", "/etc/zerotrust/firewall.nft 600", "/var/lib/zerotrust/wireguard 700"]);
});

test.serial("every host runs its own release's programs, and its files were rendered for that release", (t) => {
    for (const n of SEED_NODES) {
        const root = `${LAB_ROOT}/${n.name}`;
        const release = releaseOf(n.name);
        t.is(release, lab.releases?.[n.name] ?? machineRelease(readFileSync("/etc/os-release", "utf8")) ?? "(this machine's release is not supported)", `${n.name}: the stack renders for the release its host was made with`);
        t.is(inLabHost(root, ["/bin/sh", "-c", ". /etc/os-release; echo $ID-$VERSION_ID"]).trim(), release, `${n.name} runs ${release}`);
        const sshd = readFileSync(join(root, "etc/ssh/sshd_config.d/zerotrust.conf"), "utf8");
        t.true(sshd.includes(`KexAlgorithms ${RELEASES[release].sshdKex.join(",")}\n`), `${n.name}: sshd's key exchange is ${release}'s`);
    }
    const nginx = spawnSync("nsenter", ["-t", readFileSync(`${LAB_ROOT}/gateway/sshd.pid`, "utf8").trim(), "-m", "-r", "-w", "nginx", "-v"], { encoding: "utf8" });
    t.regex(nginx.stderr, new RegExp(`nginx/${RELEASES[releaseOf("gateway")].versions.nginx.replace(/\./g, "\\.")}`), "the gateway's own nginx serves it");
});

test.serial("the lab's daemons outlive the engine: the operator's WireGuard interface still runs after pulumi up has exited", (t) => {
    // `wg show` talks to wireguard-go over its socket: it answers only while the daemon runs.
    const wg = spawnSync("wg", ["show", OPERATOR_IFACE, "peers"], { encoding: "utf8" });
    t.is(wg.status, 0, wg.stderr);
    t.is(wg.stdout.trim().split("\n").length, SEED_NODES.length, "the operator peers with every node");
    const ping = spawnSync("ping", ["-c", "2", "-W", "3", "-I", OPERATOR_IFACE, meshOf("gateway")], { encoding: "utf8" });
    t.is(ping.status, 0, ping.stdout + ping.stderr);
});

test.serial("the engine's state holds no key, pre-shared key, bundle or password in clear, and the PKCS#12 outputs are filled", (t) => {
    const state = engine.stateText();
    t.true(state.length > 10_000, "the state file was read");
    t.notRegex(state, /PRIVATE KEY/, "no PEM or OpenSSH private key");
    t.notRegex(state, /PresharedKey|PrivateKey =/, "no WireGuard config with keys");
    const alice = out.gatewayClients.alice;
    t.regex(alice.pkcs12.base64, /^[A-Za-z0-9+/]{500,}={0,2}$/, "the bundle output is filled");
    t.regex(alice.pkcs12.password, /^[A-Za-z0-9]{24}$/);
    t.false(state.includes(alice.pkcs12.base64.slice(0, 64)), "the bundle is not in the state in clear");
    t.false(state.includes(alice.pkcs12.password), "nor its password");
    // The keys the hosts hold, read from their own files, the issuing CA's key, and the key material
    // the state keeps as secrets (the seeds among it, decrypted): none of it anywhere in the plain
    // export, ids and inputs included (the engine never encrypts those), nor in the state files.
    const secrets: [string, string][] = [];
    for (const n of SEED_NODES) {
        const conf = readFileSync(join(LAB_ROOT, n.name, "etc/wireguard/wg0.conf"), "utf8");
        const keys = [...conf.matchAll(/^(PrivateKey|PresharedKey) = (\S+)$/gm)];
        t.true(keys.some((k) => k[1] === "PrivateKey") && keys.some((k) => k[1] === "PresharedKey"), `${n.name}'s configuration was read`);
        keys.forEach(([, field, value], i) => secrets.push(...telltales(`${n.name}'s ${field} (${i})`, value)));
    }
    secrets.push(...telltales("the issuing CA key", out.issuerKeyPem));
    const shown = engine.cli(["stack", "export", "--show-secrets"]);
    t.is(shown.status, 0, shown.stderr);
    const held = keyShaped(secretPlaintexts(JSON.parse(shown.stdout)));
    t.true(held.filter((v) => /^[A-Za-z0-9]{64}$/.test(v)).length >= 2 * SEED_NODES.length, "the seeds are among the state's secrets");
    held.forEach((v, i) => secrets.push(...telltales(`key material ${i} of the state's secrets`, v)));
    const plain = engine.cli(["stack", "export"]);
    t.is(plain.status, 0, plain.stderr);
    t.deepEqual(occurrences(JSON.parse(plain.stdout).deployment, secrets), [], "the plain `pulumi stack export`");
    t.deepEqual(secrets.filter(([, v]) => state.includes(v)).map(([label]) => label), [], "the state files");
    // The bundle opens with its password and holds alice's certificate.
    const dir = privateDir();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const p12 = join(dir, "alice.p12");
    writeFileSync(p12, Buffer.from(alice.pkcs12.base64, "base64"), { mode: 0o600 });
    const opened = spawnSync("openssl", ["pkcs12", "-in", p12, "-nokeys", "-passin", "env:P12_PASSWORD"],
        { encoding: "utf8", env: { ...process.env, P12_PASSWORD: alice.pkcs12.password } });
    t.is(opened.status, 0, opened.stderr);
    t.regex(opened.stdout, /subject=.*CN ?= ?alice/);
});

test.serial("a bad firewall change rolls back by itself and the host stays reachable", async (t) => {
    const started = Date.now();
    const { error } = await up({ ...BASE, bootstrapSshSources: [spare(99)] });
    t.truthy(error, "the deployment must fail");
    t.regex(error!, /could not be confirmed over a new SSH connection/);
    t.regex(error!, /restored its previous firewall state .* rolled back and answers again/);
    t.log(`failed and rolled back in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const failedHost = /^(\S+)-firewall: /m.exec(error!)![1];
    t.true(sshAnswers(underlayOf(failedHost)), "a new SSH connection gets in after the rollback");
    t.regex(inLabHost(`${LAB_ROOT}/${failedHost}`, ["cat", "/var/lib/zerotrust/firewall/rollbacks.log"]), /rolled back/);
    // The state kept the last good inputs: going back to them runs nothing.
    t.deepEqual((await up(BASE)).ran, []);
});

test.serial("one config switch: SSH only from the operator over the mesh, the deployer moves to mesh addresses", async (t) => {
    const { ran, error } = await up(MESH_ONLY);
    t.is(error, undefined);
    t.true(ran.includes("db-firewall"), ran.join(" "));
    for (const n of SEED_NODES) t.is(out.hosts[n.name].managedVia, meshOf(n.name));
});

test.serial("the measured access matrix equals the policy, and no probed port answers on the underlay", async (t) => {
    const nodes: LabNode[] = SEED_NODES.map((n) => ({ name: n.name, namespace: ns(n.name), mesh: meshOf(n.name), underlay: underlayOf(n.name) }));
    const ports = SEED_PROBE_PORTS.map((p) => parsePort("p", p).first);
    const listeners = await startListeners(nodes, ports);
    t.teardown(() => listeners.forEach((l) => l.kill()));
    const measured = measureMatrix(nodes, SEED_OPERATOR, ports, LAB_INTERFACES);
    t.log(`measured access matrix over the mesh (underlay: every probe of 22, 5432, 8080 filtered; WireGuard's UDP port and the gateway's 443 are open by design):\n${measured.rows.join("\n")}`);

    const policy = compilePolicy(seedPolicyMembers(), SEED_RULES);
    const members = policy.members.filter((m) => m.kind !== "client"); // the matrix is measured over the mesh
    const expected = members.flatMap((from) => SEED_NODES.filter((to) => to.name !== from.name).flatMap((to) =>
        SEED_PROBE_PORTS.filter((p) => rulesAllowing(policy, from.name, to.name, parsePort("p", p)).length > 0).map((p) => `${from.name} -> ${to.name} ${p}`)));
    t.deepEqual(measured.meshOpen.sort(), expected.sort());
    t.deepEqual(measured.underlayAnswered, []);
    t.true(measured.meshOpen.every((m) => !m.startsWith("dev-box")), "the dev box reaches nothing");
    // WireGuard's UDP port is the one thing the underlay carries: every peer of the operator handshook over it.
    const handshakes = execFileSync("wg", ["show", OPERATOR_IFACE, "latest-handshakes"], { encoding: "utf8" }).trim().split("\n");
    t.is(handshakes.filter((l) => Number(l.split("\t")[1]) > 0).length, SEED_NODES.length);
});

proofLabTests({ engine: () => engine, outputs: () => out, labRoot: LAB_ROOT, namespaceOf: ns, labInterfaces: LAB_INTERFACES });

test.serial("a second deployment changes nothing and runs no remote command; a preview shows no changes", async (t) => {
    const { ran, changes, error } = await up(MESH_ONLY);
    t.is(error, undefined);
    t.deepEqual(ran, []);
    t.deepEqual(changes, []);
    t.deepEqual(await engine.preview(), []);
});

if (lab.releases) {
    // drift.test.ts covers this on this machine's own programs; here each release's tools do the checking.
    test.serial("verify finds every concern in sync on every release, names a drifted sshd setting and firewall rule, and repairs exactly them", async (t) => {
        const resources = async () => (await engine.stack.exportStack()).deployment.resources as StateResource[];
        const drifted = (r: VerifyReport) => r.concerns.filter((c) => c.state !== "in sync").map((c) => c.resource).sort();
        t.deepEqual(drifted(await verifyDeployment(await resources(), {})), []);
        const [sshHost, firewallHost] = ["app-1", "db"];
        const dropin = join(LAB_ROOT, sshHost, "etc/ssh/sshd_config.d/zerotrust.conf");
        writeFileSync(dropin, readFileSync(dropin, "utf8").replace("PasswordAuthentication no", "PasswordAuthentication yes"));
        inLabHost(`${LAB_ROOT}/${firewallHost}`, ["nft", "insert", "rule", "inet", "zerotrust", "input", "tcp", "dport", "9999", "accept"]);
        const found = await verifyDeployment(await resources(), {});
        t.log(formatVerifyReport(found));
        t.deepEqual(drifted(found), [`${firewallHost}-firewall`, `${sshHost}-ssh`].sort());
        const repaired = await verifyDeployment(await resources(), { repair: true });
        t.deepEqual(repaired.concerns.filter((c) => c.repair !== undefined).map((c) => c.resource).sort(), [`${firewallHost}-firewall`, `${sshHost}-ssh`].sort());
        t.deepEqual(drifted(await verifyDeployment(await resources(), {})), []);
        t.notRegex(inLabHost(`${LAB_ROOT}/${firewallHost}`, ["nft", "list", "table", "inet", "zerotrust"]), /9999/);
    });
}

/** A namespace on the lab's underlay that is no peer of the mesh: a stranger on the same network. */
function strangerFor(t: ExecutionContext, address: string): string[] {
    const stranger = strangerOnUnderlay(LAYOUT.bridge, `${address}/24`);
    t.teardown(stranger.remove);
    return stranger.wrap;
}

test.serial("the scanners an auditor brings: nmap from a stranger on the underlay, ssh-audit over the mesh, testssl on the gateway", async (t) => {
    const underlay = SEED_NODES.map((n) => underlayOf(n.name));
    const scan = nmapAnswering(underlay, "1-1024,5432,8080", strangerFor(t, spare(200)));
    t.deepEqual(scan.answering, [`${underlayOf("gateway")}:443/open`], `only the gateway's HTTPS answers a stranger; everything else is filtered\n${scan.output}`);

    // One host of each release in the lab: what ssh-audit may warn about depends on its sshd.
    const audited = [...new Map(SEED_NODES.map((n) => [releaseOf(n.name), n.name])).entries()];
    for (const [release, host] of audited) {
        assertRoutedVia(meshOf(host), LAB_INTERFACES);
        const audit = sshAudit(meshOf(host), 22);
        t.log(`ssh-audit of ${host} (${release}): ${audit.failures.length} failures, warnings: ${audit.warnings.join(", ")}`);
        t.deepEqual(audit.failures, [], audit.output);
        t.deepEqual(audit.warnings.sort(), [...SSH_AUDIT_ACCEPTED_WARNINGS[release]].sort(), audit.output);
    }

    const dir = privateDir();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    assertRoutedVia(underlayOf("gateway"), LAB_INTERFACES);
    const findings = testssl(`gateway.${LAB}.zerotrust.internal`, underlayOf("gateway"), writePrivate(dir, "ca.pem", out.caChainPem), join(dir, "testssl.json"));
    const byId = (id: string) => findings.find((f) => f.id === id)?.finding ?? "(missing)";
    t.log(`testssl: ${findings.length} findings; ${["TLS1_2", "TLS1_3", "cert_keyUsage", "cert_trust"].map((id) => `${id}: ${byId(id)}`).join("; ")}`);
    // The one finding accepted, with its reason: the server certificate names no CRL or OCSP URL. The
    // tls provider cannot write one, and this CA publishes nothing: its CRLs go with the deployment.
    const accepted = (f: TestsslFinding) => f.id === "cert_revocation" && /Neither CRL nor OCSP URI provided/.test(f.finding);
    t.deepEqual(findings.filter((f) => ["HIGH", "CRITICAL"].includes(f.severity) && !accepted(f)), [], "no other high or critical finding");
    for (const old of ["SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2"]) t.regex(byId(old), /not offered/, old);
    t.regex(byId("TLS1_3"), /^offered/);
    t.regex(byId("cert_keyUsage"), /Digital Signature/);
    t.notRegex(byId("cert_keyUsage"), /Key Encipherment/, "an ECDSA key does not encipher");
    t.regex(byId("cert_trust"), /Ok via SAN/, "trusted with the stack's CA");
});

/** Echo apps on app-1 and app-2, the CA chain and client credentials in a private directory. */
async function gatewayFixture(t: ExecutionContext) {
    const gatewayAt = underlayOf("gateway");
    assertRoutedVia(gatewayAt, LAB_INTERFACES); // every request below goes to this address from here
    const echo = await Promise.all(["app-1", "app-2"].map((h) => startTool({ namespace: ns(h) }, ["http-echo", "8080"])));
    t.teardown(() => echo.forEach((e) => e.kill()));
    const dir = privateDir();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const host = `gateway.${LAB}.zerotrust.internal`;
    return {
        dir,
        host,
        gatewayAt,
        resolveTo: `${host}:443:${gatewayAt}`,
        ca: writePrivate(dir, "ca.pem", out.caChainPem),
        creds: (c: string) => ({
            cert: writePrivate(dir, `${c}.crt`, out.gatewayClients[c].certPem),
            key: writePrivate(dir, `${c}.key`, out.gatewayClients[c].privateKeyPem),
        }),
    };
}

test.serial("gateway: only allowed identities pass, identity headers cannot be spoofed, bad certificates and TLS 1.2 are refused", async (t) => {
    const { dir, ca, creds, host, resolveTo } = await gatewayFixture(t);
    const [alice, carol] = [creds("alice"), creds("carol")];
    const url = `https://${host}/`;
    const as = (c: { cert: string; key: string }, ...extra: string[]) => curl(url, resolveTo, ca, ["--cert", c.cert, "--key", c.key, ...extra]);

    const ok = as(alice, "-H", "X-Client-DN: CN=mallory,O=zerotrust", "-H", "X-Client-Verify: SUCCESS-FORGED");
    t.is(ok.status, "200", ok.body);
    const headers = JSON.parse(ok.body);
    t.is(headers["x-client-dn"], "CN=alice,O=zerotrust", "the verified DN replaces the one the client sent");
    t.is(headers["x-client-verify"], "SUCCESS");
    t.regex(headers["x-client-fingerprint"], /^[0-9a-f]{40}$/);
    t.is(as(carol).status, "403", "a valid certificate that is not on the allowlist");
    t.is(curl(url, resolveTo, ca, []).status, "400", "no certificate");
    t.is(as(foreignCertificate(dir)).status, "400", "a certificate from another CA");
    t.is(as(expiredCertificate(dir, out.issuerCertPem, out.issuerKeyPem)).status, "400", "an expired certificate from the right CA");
    const tls12 = as(alice, "--tls-max", "1.2");
    t.is(tls12.status, "000", "a TLS 1.2-only client");
    t.regex(tls12.body, /alert|version|handshake/i);
    const certOf = (c: { cert: string; key: string }) => ["--cert", c.cert, "--key", c.key];
    sameOverHttp2(t, url, resolveTo, ca, [
        { label: "alice, forging identity headers", args: [...certOf(alice), "-H", "X-Client-DN: CN=mallory,O=zerotrust", "-H", "X-Client-Verify: SUCCESS-FORGED"],
            status: "200", dn: "CN=alice,O=zerotrust" },
        // What a client that coalesces connections sends: the same single verifying server answers, as alice.
        { label: "alice, naming another host on her connection", args: [...certOf(alice), "-H", `Host: other.${LAB}.zerotrust.internal`], status: "200", dn: "CN=alice,O=zerotrust" },
        { label: "carol (not on the allowlist)", args: certOf(carol), status: "403" },
        { label: "no client certificate", args: [], status: "400" },
        { label: "a certificate from another CA", args: certOf(foreignCertificate(dir)), status: "400" },
    ]);
});

test.serial("gateway: revoking a client is a config change; the reload under load fails no request", async (t) => {
    const { dir, ca, creds, host, resolveTo, gatewayAt } = await gatewayFixture(t);
    const [alice, bob] = [creds("alice"), creds("bob")];
    t.is(curl(`https://${host}/`, resolveTo, ca, ["--cert", bob.cert, "--key", bob.key]).status, "200", "bob passes before");
    // bob keeps a TLS session; before the revocation the gateway resumes it.
    const bobSession = join(dir, "bob.session");
    t.is(tlsRequest(gatewayAt, host, ca, bob, { sessOut: bobSession }).status, "200");
    t.deepEqual(tlsRequest(gatewayAt, host, ca, bob, { sessIn: bobSession }), { resumed: true, status: "200" }, "bob's session resumes before");

    // bob also keeps a connection open over each protocol, busy (a GET a second), through the revocation.
    const held = await Promise.all((["http/1.1", "h2"] as const).map((p) => holdConnection(gatewayAt, host, ca, bob, p)));
    t.teardown(() => held.forEach((h) => h.stop()));

    // Load from this machine: alice, one new TLS connection per request, through the reload.
    const load = await startTool(fromHere, ["https-load", `https://${gatewayAt}/`, alice.cert, alice.key, ca], [gatewayAt]);
    let report = "";
    load.stdout!.on("data", (d) => { report += d; });
    const upStarted = Date.now();
    const { ran, error } = await up({ ...MESH_ONLY, revokedClients: ["bob"] });
    const upEnded = Date.now();
    await new Promise((r) => setTimeout(r, 500));
    const finished = new Promise((r) => load.once("exit", r));
    load.kill("SIGTERM");
    await finished;
    const counts = JSON.parse(report.split("\n").filter((l) => l.startsWith("{")).pop()!);
    t.log(`requests during the revocation deploy: ${counts.ok} ok, ${counts.failed} failed (${JSON.stringify(counts.statuses)})`);
    t.is(error, undefined);
    t.deepEqual(ran, ["gateway-gateway"]);
    t.true(counts.ok > 20);
    t.is(counts.failed, 0);
    t.is(curl(`https://${host}/`, resolveTo, ca, ["--cert", bob.cert, "--key", bob.key]).status, "400", "bob is refused once revoked");
    t.deepEqual(tlsRequest(gatewayAt, host, ca, bob, { sessIn: bobSession }), { resumed: false, status: "400" },
        "bob's saved session does not resume after the revocation: a full handshake checks the CRL and nginx answers 400");
    t.is(curl(`https://${host}/`, resolveTo, ca, ["--cert", alice.cert, "--key", alice.key]).status, "200");
    // The reload closes bob's open connections, the HTTP/2 one as the HTTP/1.1 one: nothing he opened
    // before the revocation carries a request after it (a new connection then fails the CRL).
    for (const h of held) {
        t.log(`bob's ${h.protocol} connection: ${h.ok} answers 200, ${h.other} other, closed ${h.closedAt === undefined ? "never" : `${h.closedAt - upStarted} ms into the deploy`}`);
        t.true(h.ok >= 1 && h.other === 0, `${h.protocol}: bob's connection answered 200 until it closed`);
        t.true(h.closedAt !== undefined && h.closedAt > upStarted && h.closedAt <= upEnded + 500, `${h.protocol}: the gateway closed bob's connection at the reload`);
    }
    sameOverHttp2(t, `https://${host}/`, resolveTo, ca, [
        { label: "bob, revoked", args: ["--cert", bob.cert, "--key", bob.key], status: "400" },
        { label: "alice", args: ["--cert", alice.cert, "--key", alice.key], status: "200", dn: "CN=alice,O=zerotrust" },
    ]);
    const crl = inLabHost(`${LAB_ROOT}/gateway`, ["openssl", "crl", "-in", "/etc/zerotrust/gateway/crl.pem", "-noout", "-text"]);
    t.regex(crl, /Serial Number: /);
});

/** What the access-log checks read: the lab's hosts, the stack's state, and a request as alice. */
const accessLogScenario: AccessLogScenario = {
    labRoot: LAB_ROOT,
    hosts: SEED_NODES.map((n) => n.name),
    resources: async () => (await engine.stack.exportStack()).deployment.resources as StateResource[],
    hostAddresses: () => out.hosts,
    strangerAddress: spare(200),
    clientKeys: () => Object.values(out.gatewayClients as Record<string, { privateKeyPem: string }>).map((c) => c.privateKeyPem),
    allowedRequest: async () => {
        const dir = privateDir();
        try {
            assertRoutedVia(underlayOf("gateway"), LAB_INTERFACES);
            const host = `gateway.${LAB}.zerotrust.internal`;
            const alice = out.gatewayClients.alice;
            return curl(`https://${host}/`, `${host}:443:${underlayOf("gateway")}`, writePrivate(dir, "ca.pem", out.caChainPem),
                ["--cert", writePrivate(dir, "alice.crt", alice.certPem), "--key", writePrivate(dir, "alice.key", alice.privateKeyPem)]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    },
};

// Carol's 403, revoked bob, the matrix's dev-box -> db:5432 and the stranger's scan are behind us.
accessLogTests(accessLogScenario);

test.serial("adding a node updates only the hosts that peer with it; untouched tunnels keep their sessions and lose no ping", async (t) => {
    const before = Object.fromEntries(SEED_NODES.map((n) => [n.name, interfaceIndex(ns(n.name), "wg0")]));
    const ping = startPing(ns("app-1"), meshOf("db"));
    await new Promise((r) => setTimeout(r, 1000));
    const { ran, error } = await up({ ...MESH_ONLY, revokedClients: ["bob"], extraAppServers: 1 });
    await new Promise((r) => setTimeout(r, 500));
    const { sent, received } = await ping.stop();
    t.is(error, undefined);
    t.log(`app-1 -> db during the change: ${sent} pings sent, ${received} received; ran: ${ran.join(" ")}`);
    t.true(sent > 20);
    t.is(received, sent);
    t.deepEqual(ran.filter((r) => r.endsWith("-wireguard")).sort(), ["app-3-wireguard", "db-wireguard", "gateway-wireguard"]);
    t.true(ran.includes("operator-tunnel"));
    for (const untouched of ["app-1", "app-2", "dev-box"]) {
        t.false(ran.some((r) => r.startsWith(`${untouched}-`)), `${untouched} was not touched`);
    }
    for (const n of SEED_NODES) t.is(interfaceIndex(ns(n.name), "wg0"), before[n.name], `${n.name}'s wg0 was not recreated`);
    t.regex(probe({ namespace: ns("app-3") }, [`${meshOf("db")}:5432`])[`${meshOf("db")}:5432`], /refused|open/);
});

// Adding app-3 reloaded db's firewall (app-3 may reach db:5432).
dropRecordKeptTest(accessLogScenario);

if (lab.releases) {
    // day2-operations.test.ts covers rotation on this machine's programs; here the cut-over runs on two releases' wg and bash.
    test.serial("rotating two nodes' WireGuard keys in one update: each cuts over on its own release and peers with the new keys", async (t) => {
        const rotating = ["gateway", "db"];
        const before = Object.fromEntries(rotating.map((h) => [h, out.hosts[h].publicKey as string]));
        const { ran, error } = await up({ ...MESH_ONLY, revokedClients: ["bob"], extraAppServers: 1, keyGenerations: { gateway: 2, db: 2 } });
        t.is(error, undefined);
        t.log(`rotating ${rotating.map((h) => `${h} (${releaseOf(h)})`).join(" and ")}: ran ${ran.join(" ")}`);
        t.deepEqual(ran.filter((r) => r.endsWith("-key-cutover")).sort(), rotating.map((h) => `${h}-key-cutover`).sort());
        for (const h of rotating) {
            t.not(out.hosts[h].publicKey, before[h], `${h} has a new key`);
            t.is(inLabHost(`${LAB_ROOT}/${h}`, ["wg", "show", "wg0", "public-key"]).trim(), out.hosts[h].publicKey, `${h} runs it`);
        }
        t.notThrows(() => execFileSync("ip", ["netns", "exec", ns("app-1"), "ping", "-c", "1", "-W", "2", meshOf("db")]), "app-1 reaches db with its new key");
        t.deepEqual(await engine.preview(), [], "converged");
    });
}

test.serial("pulumi destroy removes every namespace, interface and process", async (t) => {
    const pids = [...SEED_NODES.map((n) => n.name), "app-3"].map((h) => Number(readFileSync(`${LAB_ROOT}/${h}/sshd.pid`, "utf8")));
    await engine.destroy();
    t.notRegex(execFileSync("ip", ["netns", "list"], { encoding: "utf8" }), new RegExp(`zt-${LAB}-`));
    t.notRegex(execFileSync("ip", ["-o", "link"], { encoding: "utf8" }), new RegExp(LAB_INTERFACES.join("|")));
    t.false(existsSync(LAB_ROOT));
    for (const pid of pids) t.false(await stillRunning(pid), `sshd ${pid} still runs`);
});
}
