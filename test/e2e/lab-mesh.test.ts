// End to end on real lab hosts: the stack program's own resources (built under mocks that keep
// state like the engine), their commands run as the command provider runs them, against network
// namespaces with their own sshd, wireguard-go and nftables. Then the network is measured.
import test, { ExecutionContext } from "ava";
import { execFileSync } from "child_process";
import { existsSync, readFileSync, rmSync } from "fs";
import { join } from "path";
import { CommandSpec, commandsOf, deploy, destroy } from "../../scripts/lab/command-runner";
import { installMocks } from "../../scripts/lab/mocks";
import * as pulumi from "@pulumi/pulumi";
import { inLabHost, interfaceIndex, probe, startPing, startTool } from "../../scripts/lab/lab-probe";
import { curl, expiredCertificate, foreignCertificate, privateDir, tlsRequest, writePrivate } from "./gateway-clients";
import { LabNode, measureMatrix, startListeners } from "../../scripts/lab/report";

const recorded = installMocks();
import { compilePolicy, parsePort, rulesAllowing } from "../../components/policy";
import { StackSettings, zeroTrustStack } from "../../stacks/program";
import { SEED_NODES, SEED_OPERATOR, SEED_PROBE_PORTS, SEED_RULES, seedPolicyMembers } from "../../stacks/seed-scenario";

const LAB = "e2e";
const LAB_ROOT = `/var/lib/zerotrust-lab/${LAB}`;
const BASE: StackSettings = {
    hostKind: "lab",
    meshCidr: "10.76.0.0/24",
    labSubnet: "10.213.8.0/24",
    sshOverMeshOnly: false,
    rollbackSeconds: 8,
    extraAppServers: 0,
};

const MESH_ONLY: StackSettings = { ...BASE, sshOverMeshOnly: true };
const state = new Map<string, CommandSpec>();
let built: ReturnType<typeof zeroTrustStack>;

async function settle(): Promise<void> {
    let last = -1;
    while (recorded.length !== last) {
        last = recorded.length;
        await new Promise((r) => setTimeout(r, 400));
    }
}

/** Builds the program with these settings and deploys what changed; returns the names that ran. */
async function up(settings: StackSettings): Promise<{ ran: string[]; error?: string }> {
    recorded.length = 0;
    built = zeroTrustStack(LAB, settings);
    await settle();
    const result = deploy(state, commandsOf(recorded));
    return { ran: result.ran.map((r) => r.name), error: result.failed && `${result.failed.name}: ${result.failed.stderr.trim()}` };
}

const ns = (host: string) => `zt-${LAB}-${host}`;

/** True while the process exists and is not a zombie; waits up to 5 s for it to go. */
async function stillRunning(pid: number): Promise<boolean> {
    for (let i = 0; i < 50; i++) {
        let stat = "";
        try { stat = readFileSync(`/proc/${pid}/stat`, "utf8"); } catch { return false; }
        if (/^\d+ \(.*\) Z/.test(stat)) return false;
        await new Promise((r) => setTimeout(r, 100));
    }
    return true;
}
const sshAnswers = (address: string) => probe(undefined, [`${address}:22`])[`${address}:22`] === "open";

function cleanupLeftovers(): void {
    for (const h of [...SEED_NODES.map((n) => n.name), "app-3"]) {
        try { execFileSync("bash", ["-c", `ZT_NS=${ns(h)} ZT_ROOT=${LAB_ROOT}/${h} ZT_VETH=unused bash components/hosts/lab/host.sh delete`]); } catch { /* gone */ }
    }
    try { execFileSync("ip", ["link", "del", `zt-${LAB}-op`], { stdio: "ignore" }); } catch { /* gone */ }
    try { execFileSync("ip", ["link", "del", `ztbr-${LAB}`], { stdio: "ignore" }); } catch { /* gone */ }
}

test.before(() => {
    process.chdir(`${__dirname}/../../..`);
    cleanupLeftovers(); // a run killed half-way must not break the next one
});

test.after.always(() => {
    destroy(state);
    cleanupLeftovers();
});

test.serial("bootstrap: the lab comes up and every host is configured over the underlay", async (t) => {
    const { ran, error } = await up(BASE);
    t.is(error, undefined);
    t.true(ran.includes("gateway-firewall") && ran.includes("db-ssh") && ran.includes("e2e-bridge"), ran.join(" "));
    for (const n of SEED_NODES) t.true(sshAnswers(built.hosts[n.name].underlay as string), `${n.name} answers SSH on the underlay while bootstrapping`);
    // Secrets on the host are owner-only files.
    const modes = inLabHost(`${LAB_ROOT}/db`, ["stat", "-c", "%n %a", "/etc/wireguard/wg0.conf", "/etc/zerotrust/firewall.nft", "/var/lib/zerotrust/wireguard"]);
    t.deepEqual(modes.trim().split("\n"), ["/etc/wireguard/wg0.conf 600", "/etc/zerotrust/firewall.nft 600", "/var/lib/zerotrust/wireguard 700"]);
});

test.serial("a bad firewall change rolls back by itself and the host stays reachable", async (t) => {
    const started = Date.now();
    const { error } = await up({ ...BASE, bootstrapSshSources: ["10.213.8.99"] });
    t.truthy(error, "the deployment must fail");
    t.regex(error!, /could not be confirmed over a new SSH connection/);
    t.regex(error!, /restored its previous firewall state .* rolled back and answers again/);
    t.log(`failed and rolled back in ${((Date.now() - started) / 1000).toFixed(1)} s: ${error!.split("\n").pop()}`);
    const failedHost = /^(\S+)-firewall:/.exec(error!)![1];
    t.true(sshAnswers(built.hosts[failedHost].underlay as string), "a new SSH connection gets in after the rollback");
    t.regex(inLabHost(`${LAB_ROOT}/${failedHost}`, ["cat", "/var/lib/zerotrust/firewall/rollbacks.log"]), /rolled back/);
    // The state kept the last good inputs: going back to them runs nothing.
    t.deepEqual((await up(BASE)).ran, []);
});

test.serial("one config switch: SSH only from the operator over the mesh, the deployer moves to mesh addresses", async (t) => {
    const { ran, error } = await up({ ...BASE, sshOverMeshOnly: true });
    t.is(error, undefined);
    t.true(ran.includes("db-firewall"));
    for (const n of SEED_NODES) t.is(await new Promise((r) => built.hosts[n.name].managedVia.apply(r)), built.mesh.addresses[n.name]);
});

test.serial("the measured access matrix equals the policy, and no probed port answers on the underlay", async (t) => {
    const nodes: LabNode[] = SEED_NODES.map((n) => ({
        name: n.name, namespace: ns(n.name), mesh: built.mesh.addresses[n.name], underlay: built.hosts[n.name].underlay as string,
    }));
    const ports = SEED_PROBE_PORTS.map((p) => parsePort("p", p).first);
    const listeners = await startListeners(nodes, ports);
    t.teardown(() => listeners.forEach((l) => l.kill()));
    const measured = measureMatrix(nodes, SEED_OPERATOR, ports);
    t.log(`measured access matrix over the mesh (underlay: every probe of 22, 5432, 8080 filtered; WireGuard's UDP port and the gateway's 443 are open by design):\n${measured.rows.join("\n")}`);

    const policy = compilePolicy(seedPolicyMembers(), SEED_RULES);
    const members = policy.members.filter((m) => m.kind !== "client"); // the matrix is measured over the mesh
    const expected = members.flatMap((from) => SEED_NODES.filter((to) => to.name !== from.name).flatMap((to) =>
        SEED_PROBE_PORTS.filter((p) => rulesAllowing(policy, from.name, to.name, parsePort("p", p)).length > 0).map((p) => `${from.name} -> ${to.name} ${p}`)));
    t.deepEqual(measured.meshOpen.sort(), expected.sort());
    t.deepEqual(measured.underlayAnswered, []);
    t.true(measured.meshOpen.every((m) => !m.startsWith("dev-box")), "the dev box reaches nothing");
    // WireGuard's UDP port is the one thing the underlay carries: every peer of the operator handshook over it.
    const handshakes = execFileSync("wg", ["show", `zt-${LAB}-op`, "latest-handshakes"], { encoding: "utf8" }).trim().split("\n");
    t.is(handshakes.filter((l) => Number(l.split("\t")[1]) > 0).length, SEED_NODES.length);
});

test.serial("a second deployment changes nothing and runs no remote command", async (t) => {
    const { ran, error } = await up(MESH_ONLY);
    t.is(error, undefined);
    t.deepEqual(ran, []);
});

const resolved = <T>(o: pulumi.Output<T>) => new Promise<T>((r) => o.apply((v) => { r(v); return v; }));

/** Echo apps on app-1 and app-2, the CA chain and client credentials in a private directory. */
async function gatewayFixture(t: ExecutionContext) {
    const echo = await Promise.all(["app-1", "app-2"].map((h) => startTool(ns(h), ["http-echo", "8080"])));
    t.teardown(() => echo.forEach((e) => e.kill()));
    const dir = privateDir();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const host = `gateway.${LAB}.zerotrust.internal`;
    return {
        dir,
        host,
        resolveTo: `${host}:443:${built.hosts.gateway.underlay}`,
        ca: writePrivate(dir, "ca.pem", await resolved(built.ca.chainPem)),
        creds: async (c: string) => ({
            cert: writePrivate(dir, `${c}.crt`, await resolved(built.gateway.clients[c].certPem)),
            key: writePrivate(dir, `${c}.key`, await resolved(built.gateway.clients[c].privateKeyPem)),
        }),
    };
}

test.serial("gateway: only allowed identities pass, identity headers cannot be spoofed, bad certificates and TLS 1.2 are refused", async (t) => {
    const { dir, ca, creds, host, resolveTo } = await gatewayFixture(t);
    const [alice, carol] = [await creds("alice"), await creds("carol")];
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
    const expired = expiredCertificate(dir, await resolved(built.ca.issuerCertPem), await resolved(built.ca.issuerKeyPem));
    t.is(as(expired).status, "400", "an expired certificate from the right CA");
    const tls12 = as(alice, "--tls-max", "1.2");
    t.is(tls12.status, "000", "a TLS 1.2-only client");
    t.regex(tls12.body, /alert|version|handshake/i);
});

test.serial("gateway: revoking a client is a config change; the reload under load fails no request", async (t) => {
    const { dir, ca, creds, host, resolveTo } = await gatewayFixture(t);
    const [alice, bob] = [await creds("alice"), await creds("bob")];
    t.is(curl(`https://${host}/`, resolveTo, ca, ["--cert", bob.cert, "--key", bob.key]).status, "200", "bob passes before");
    // bob keeps a TLS session; before the revocation the gateway resumes it.
    const gatewayAt = built.hosts.gateway.underlay as string;
    const bobSession = join(dir, "bob.session");
    t.is(tlsRequest(gatewayAt, host, ca, bob, { sessOut: bobSession }).status, "200");
    t.deepEqual(tlsRequest(gatewayAt, host, ca, bob, { sessIn: bobSession }), { resumed: true, status: "200" }, "bob's session resumes before");

    // Load from this machine: alice, one new TLS connection per request, through the reload.
    const load = await startTool(undefined, ["https-load", `https://${built.hosts.gateway.underlay}/`, alice.cert, alice.key, ca]);
    let report = "";
    load.stdout!.on("data", (d) => { report += d; });
    const { ran, error } = await up({ ...MESH_ONLY, revokedClients: ["bob"] });
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
    const crl = inLabHost(`${LAB_ROOT}/gateway`, ["openssl", "crl", "-in", "/etc/zerotrust/gateway/crl.pem", "-noout", "-text"]);
    t.regex(crl, /Serial Number: /);
});

test.serial("adding a node updates only the hosts that peer with it; untouched tunnels keep their sessions and lose no ping", async (t) => {
    const before = Object.fromEntries(SEED_NODES.map((n) => [n.name, interfaceIndex(ns(n.name), "wg0")]));
    const ping = startPing(ns("app-1"), built.mesh.addresses.db);
    await new Promise((r) => setTimeout(r, 1000));
    const { ran, error } = await up({ ...MESH_ONLY, revokedClients: ["bob"], extraAppServers: 1 });
    await new Promise((r) => setTimeout(r, 500));
    const { sent, received } = await ping.stop();
    t.is(error, undefined);
    t.log(`app-1 -> db during the change: ${sent} pings sent, ${received} received; ran: ${ran.join(" ")}`);
    t.true(sent > 20);
    t.is(received, sent);
    const wireguardRan = ran.filter((r) => r.endsWith("-wireguard")).sort();
    t.deepEqual(wireguardRan, ["app-3-wireguard", "db-wireguard", "gateway-wireguard"]);
    t.true(ran.includes("operator-tunnel"));
    for (const untouched of ["app-1", "app-2", "dev-box"]) {
        t.false(ran.some((r) => r.startsWith(`${untouched}-`)), `${untouched} was not touched`);
    }
    for (const n of SEED_NODES) t.is(interfaceIndex(ns(n.name), "wg0"), before[n.name], `${n.name}'s wg0 was not recreated`);
    t.regex(probe(ns("app-3"), [`${built.mesh.addresses.db}:5432`])[`${built.mesh.addresses.db}:5432`], /refused|open/);
});

test.serial("destroy removes every namespace, interface and process", async (t) => {
    const pids = [...SEED_NODES.map((n) => n.name), "app-3"].map((h) => Number(execFileSync("cat", [`${LAB_ROOT}/${h}/sshd.pid`], { encoding: "utf8" })));
    t.deepEqual(destroy(state).map((f) => `${f.name}: ${f.stderr}`), []);
    const namespaces = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    t.notRegex(namespaces, new RegExp(`zt-${LAB}-`));
    const links = execFileSync("ip", ["-o", "link"], { encoding: "utf8" });
    t.notRegex(links, new RegExp(`ztbr-${LAB}|zt-${LAB}-op`));
    t.false(existsSync(LAB_ROOT));
    for (const pid of pids) t.false(await stillRunning(pid), `sshd ${pid} still runs`);
});
