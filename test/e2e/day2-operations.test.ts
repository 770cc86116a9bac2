// Day-2 operations on real lab hosts through the real Pulumi engine, one deployment shared by the
// tests in order (as lab-mesh.test.ts does): a host that is unreachable in the middle of an update,
// removing a node (with its host, in one update; and retiring one whose host stays, in two),
// renewing the gateway's certificates under load, rolling its CA over in three updates, and
// rotating a node's WireGuard key while SSH is mesh-only.
// Every figure the issue asks for is printed: pings lost on untouched pairs, failed requests.
import test, { ExecutionContext } from "ava";
import { ChildProcess, execFileSync, spawnSync } from "child_process";
import { existsSync, rmSync } from "fs";
import { labLayout } from "../../components/hosts/lab";
import { assertRoutedVia } from "../../components/remote/route-guard";
import { inLabHost, interfaceIndex, probe, startPing, startTool } from "../../scripts/lab/lab-probe";
import { StackSettings, zeroTrustStack } from "../../stacks/program";
import { SEED_NODES } from "../../stacks/seed-scenario";
import { EngineStack, UpResult } from "../helpers/engine";
import { removeLabLeftovers } from "../helpers/lab";
import { NFT } from "../helpers/netns";
import { collectRejections } from "../helpers/rejections";
import { curl, privateDir, writePrivate } from "./gateway-clients";

const LAB = "d2";
const LAYOUT = labLayout(LAB);
const LAB_INTERFACES = LAYOUT.interfaces;
// Every lab host is made once: app-5 joins and goes, app-4 and app-3 retire. (A host made again at
// an address a removed one had was once unreachable for a while; not investigated here.)
const ALL_HOSTS = [...SEED_NODES.map((n) => n.name), "app-3", "app-4", "app-5"];
const cleanupLeftovers = () => removeLabLeftovers(LAB, ALL_HOSTS);
const BASE: StackSettings = {
    hostKind: "lab",
    meshCidr: "10.74.0.0/24",
    labSubnet: "10.213.50.0/24",
    sshOverMeshOnly: true,
    rollbackSeconds: 8,
    extraAppServers: 2,
    // Short-lived gateway certificates: renewal can be brought inside its window by a setting.
    certificateValidityHours: 2,
    certificateRenewalHours: 1,
};

let engine: EngineStack;
let out: Record<string, any> = {};
const ns = LAYOUT.namespaceOf;
const meshOf = (host: string): string => out.hosts[host].mesh;
const underlayOf = (host: string): string => out.hosts[host].underlay;
const host = `gateway.${LAB}.zerotrust.internal`;

function program(settings: StackSettings) {
    return async () => {
        const built = zeroTrustStack(LAB, settings);
        return { hosts: built.hosts, caChainPem: built.ca.chainPem, gatewayClients: built.gatewayClients };
    };
}

async function up(settings: StackSettings, opts: Parameters<EngineStack["up"]>[0] = {}): Promise<UpResult> {
    engine.withProgram(program(settings));
    const result = await engine.up(opts);
    if (!result.error) out = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
    return result;
}

test.before(async () => {
    process.chdir(`${__dirname}/../../..`);
    cleanupLeftovers();
    engine = await EngineStack.create("zt-d2", "d2", program(BASE));
});

test.after.always(async () => {
    await engine?.dispose();
    cleanupLeftovers();
});

/** Pings over the mesh between pairs an operation must not touch; stop() prints and returns the losses. */
function pingUntouched(t: ExecutionContext, pairs: [string, string][]) {
    const pings = pairs.map(([from, to]) => ({ label: `${from} -> ${to}`, ping: startPing(ns(from), meshOf(to)) }));
    return async () => {
        const results = await Promise.all(pings.map(async (p) => ({ label: p.label, ...(await p.ping.stop()) })));
        t.log(`pings on untouched pairs: ${results.map((r) => `${r.label} ${r.received}/${r.sent} (lost ${r.sent - r.received})`).join("; ")}`);
        return results;
    };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wgPeers = (h: string) => inLabHost(`${LAYOUT.root}/${h}`, ["wg", "show", "wg0", "peers"]).trim().split("\n").filter(Boolean);
const ruleset = (h: string) => inLabHost(`${LAYOUT.root}/${h}`, [NFT, "list", "table", "inet", "zerotrust"]);

test.serial("deploy: seven lab hosts, SSH mesh-only from the first deployment", async (t) => {
    const { error } = await up(BASE);
    t.is(error, undefined);
    for (const h of ["app-1", "db", "app-3", "app-4"]) t.is(out.hosts[h].managedVia, meshOf(h));
});

test.serial("a host unreachable mid-up: its resources fail naming it and the cause, the rest is applied, the next up converges", async (t) => {
    const grow = { ...BASE, extraAppServers: 3 }; // app-5 joins: db, the gateway and the operator peer with it
    let linkDown = false;
    const takeDbDown = () => {
        if (linkDown) return;
        linkDown = true;
        execFileSync("ip", ["-n", ns("db"), "link", "set", "eth0", "down"]);
    };
    t.teardown(() => { spawnSync("ip", ["-n", ns("db"), "link", "set", "eth0", "up"]); });
    const registrationFailures = collectRejections(t, /failed to register/);
    const finished: string[] = [];
    const started = Date.now();
    const failed = await up(grow, {
        continueOnError: true,
        // The first change the engine starts: from here on db's only link is down.
        onEvent: (e) => {
            if (e.resourcePreEvent && e.resourcePreEvent.metadata.op !== "same") takeDbDown();
            const done = e.resOutputsEvent ?? e.resOpFailedEvent;
            if (done && done.metadata.op !== "same") finished.push(`${e.resOpFailedEvent ? "FAILED " : ""}${done.metadata.urn.split("::").pop()}`);
        },
    });
    t.log(`operations in the order they ended: ${finished.join(", ")}`);
    t.log(`update with db's link down: ${((Date.now() - started) / 1000).toFixed(1)} s; ran (applied or failed): ${failed.ran.join(" ")}`);
    t.log(`error as the operator reads it:\n${failed.error}`);
    t.true(linkDown);
    t.regex(failed.error ?? "", /db-wireguard: [^]*applying wireguard on 10\.74\.0\.\d+ failed: the host is unreachable: the SSH connection timed out/);
    const dbAddress = /applying wireguard on (10\.74\.0\.\d+)/.exec(failed.error!)![1];
    t.is(dbAddress, out.hosts.db.mesh, "the message names db's address");
    t.regex(failed.error!, /db-firewall: [^]*db-firewall not applied: db-wireguard, which comes before it on this host, failed/);
    t.regex(failed.error!, /db-ssh: [^]*db-ssh not applied: db-firewall/);
    t.notRegex(failed.error!, /removing /, "nothing is torn down");
    for (const other of ALL_HOSTS.filter((h) => h !== "db")) t.notRegex(failed.error!, new RegExp(`^${other}-\\w+: `, "m"), `no resource of ${other} failed`);
    // app-5 joins whole; its other peers (the gateway, the operator) learn its key. The gateway's firewall does not change:
    // nothing of app-5 may reach it.
    for (const r of ["app-5-ssh", "gateway-wireguard", "operator-tunnel"]) t.true(failed.ran.includes(r), `${r} was applied`);
    t.true(registrationFailures().every((m) => /resource db-\w+ \[command:local:Command\] failed to register/.test(m)));

    execFileSync("ip", ["-n", ns("db"), "link", "set", "eth0", "up"]);
    const again = await up(grow);
    t.is(again.error, undefined);
    t.log(`next up: ${again.ran.join(" ")}`);
    t.deepEqual(again.ran.filter((r) => !r.startsWith("db-")), [], "the next up touches only db");
    t.true(again.ran.includes("db-wireguard") && again.ran.includes("db-firewall"), "and applies what failed");
    t.is(probe({ namespace: ns("app-5") }, [`${meshOf("db")}:5432`])[`${meshOf("db")}:5432`], "refused", "app-5 reaches db over the mesh (nothing listens)");
    t.deepEqual(await engine.preview(), [], "converged: a preview shows no changes");
});

test.serial("removing a node with its host is one update: its peers drop it, firewall sets shrink, no other tunnel is disturbed", async (t) => {
    const app5 = { mesh: meshOf("app-5"), key: out.hosts["app-5"].publicKey };
    t.true(wgPeers("db").includes(app5.key));
    t.regex(ruleset("db"), new RegExp(app5.mesh.replace(/\./g, "\\.")));
    const untouchedIfaces = Object.fromEntries(["app-1", "app-2", "dev-box", "app-3", "app-4"].map((h) => [h, interfaceIndex(ns(h), "wg0")]));
    const stop = pingUntouched(t, [["app-1", "db"], ["app-2", "db"], ["gateway", "app-1"]]);
    await settle(1000);
    const { ran, changes, error } = await up(BASE); // extraAppServers 3 -> 2: app-5 goes
    await settle(500);
    const pings = await stop();
    t.log(`ran: ${ran.join(" ")}`);
    t.is(error, undefined, "the host's own concerns go with its host, no teardown over a mesh path its peers already dropped");
    for (const p of pings) {
        t.true(p.sent > 20, p.label);
        t.is(p.received, p.sent, `${p.label}: no ping lost`);
    }
    t.true(changes.includes("delete command:local:Command app-5-namespace"));
    t.true(ran.includes("db-wireguard") && ran.includes("db-firewall") && ran.includes("gateway-wireguard"), ran.join(" "));
    for (const h of ["app-1", "app-2", "dev-box"]) t.false(ran.some((r) => r.startsWith(`${h}-`)), `${h} was not touched`);
    for (const [h, index] of Object.entries(untouchedIfaces)) t.is(interfaceIndex(ns(h), "wg0"), index, `${h}'s wg0 was not recreated`);
    t.false(wgPeers("db").includes(app5.key), "db dropped app-5's key");
    t.notRegex(ruleset("db"), new RegExp(`${app5.mesh.replace(/\./g, "\\.")}\\b`), "db's firewall sets no longer hold app-5's address");
    t.false(existsSync(`/run/netns/${ns("app-5")}`));
});

test.serial("retiring a node whose host is already gone: the teardown says so, and one documented command finishes it", async (t) => {
    execFileSync("ip", ["-n", ns("app-4"), "link", "set", "eth0", "down"]); // gone, as far as anyone can tell
    const retiring = { ...BASE, retiredNodes: ["app-4"] };
    const stuck = await up(retiring);
    t.log(`teardown with the host gone:\n${stuck.error}`);
    t.regex(stuck.error ?? "", /app-4-ssh: [^]*removing ssh on 10\.74\.0\.\d+ failed: the host is unreachable/);
    t.regex(stuck.error!, /pulumi state delete --target-dependents/);
    const urn = (await engine.stack.exportStack()).deployment.resources.map((r: { urn: string }) => r.urn).find((u: string) => u.endsWith("::app-4-bootstrap"));
    t.truthy(urn);
    const forget = engine.cli(["state", "delete", "--target-dependents", "--yes", urn!]);
    t.is(forget.status, 0, forget.stderr);
    const finished = await up(retiring);
    t.is(finished.error, undefined);
    // The key cut-over's record goes in this update; it has no delete command, so nothing runs for it.
    t.deepEqual(finished.ran, ["app-4-key-cutover"], "nothing of app-4's configuration is left to remove");
    const removed = await up({ ...BASE, extraAppServers: 1 });
    t.is(removed.error, undefined);
    t.false(existsSync(`/run/netns/${ns("app-4")}`));
});

test.serial("retiring a node whose host stays, then removing it: two updates, teardown over the mesh while its peers still have it", async (t) => {
    const app3 = { mesh: meshOf("app-3"), key: out.hosts["app-3"].publicKey };
    const stop1 = pingUntouched(t, [["app-1", "db"], ["gateway", "app-2"]]);
    await settle(1000);
    const retire = await up({ ...BASE, extraAppServers: 1, retiredNodes: ["app-3"] });
    await settle(500);
    for (const p of await stop1()) t.true(p.sent > 20 && p.received === p.sent, `${p.label} during the retirement`);
    t.is(retire.error, undefined);
    t.deepEqual(retire.ran.sort(), ["app-3-bootstrap", "app-3-firewall", "app-3-key-cutover", "app-3-ssh", "app-3-wireguard"],
        "only app-3's own concerns, removed (the key cut-over's record with them: it runs nothing on removal)");
    t.is(out.hosts["app-3"].managedVia, "retired: zerotrust configuration removed");
    await settle(1500); // wg-quick down runs detached, a second after the teardown's session ends
    const left = spawnSync("ip", ["netns", "exec", ns("app-3"), NFT, "list", "table", "inet", "zerotrust"], { encoding: "utf8" });
    t.not(left.status, 0, "app-3's firewall table is gone");
    t.not(spawnSync("ip", ["-n", ns("app-3"), "link", "show", "wg0"]).status, 0, "app-3's wg0 is gone");
    t.true(wgPeers("db").includes(app3.key), "its peers still have it until step 2");

    const stop2 = pingUntouched(t, [["app-1", "db"], ["gateway", "app-2"]]);
    await settle(1000);
    const removal = await up({ ...BASE, extraAppServers: 0 });
    await settle(500);
    for (const p of await stop2()) t.true(p.sent > 20 && p.received === p.sent, `${p.label} during the removal`);
    t.is(removal.error, undefined);
    t.log(`retire ran: ${retire.ran.join(" ")}; remove ran: ${removal.ran.join(" ")}`);
    t.false(wgPeers("db").includes(app3.key));
    t.notRegex(ruleset("db"), new RegExp(`${app3.mesh.replace(/\./g, "\\.")}\\b`));
    t.false(existsSync(`/run/netns/${ns("app-3")}`));
});

/** Echo apps behind the gateway, and the files a client needs, in a private directory. */
async function gatewayFixture(t: ExecutionContext) {
    const gatewayAt = underlayOf("gateway");
    assertRoutedVia(gatewayAt, LAB_INTERFACES);
    const echo = await Promise.all(["app-1", "app-2"].map((h) => startTool({ namespace: ns(h) }, ["http-echo", "8080"])));
    t.teardown(() => echo.forEach((e) => e.kill()));
    const dir = privateDir();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    let n = 0;
    /** The client's current credentials and CA bundle, as files (each call writes new ones). */
    const files = (client: string) => {
        n++;
        const c = out.gatewayClients[client];
        return {
            cert: writePrivate(dir, `${client}-${n}.crt`, c.certPem),
            key: writePrivate(dir, `${client}-${n}.key`, c.privateKeyPem),
            ca: writePrivate(dir, `${client}-${n}-ca.pem`, c.caPem),
        };
    };
    const status = (creds: { cert: string; key: string; ca: string }) =>
        curl(`https://${host}/`, `${host}:443:${gatewayAt}`, creds.ca, ["--cert", creds.cert, "--key", creds.key]).status;
    return { gatewayAt, files, status };
}

/** Requests from this machine, one new TLS connection each, through one update; returns its counts. */
async function underLoad(t: ExecutionContext, gatewayAt: string, creds: { cert: string; key: string; ca: string }, label: string, change: () => Promise<UpResult>) {
    const load: ChildProcess = await startTool({ labInterfaces: LAB_INTERFACES }, ["https-load", `https://${gatewayAt}/`, creds.cert, creds.key, creds.ca], [gatewayAt]);
    let report = "";
    load.stdout!.on("data", (d) => { report += d; });
    const result = await change();
    await settle(500);
    const finished = new Promise((r) => load.once("exit", r));
    load.kill("SIGTERM");
    await finished;
    const counts = JSON.parse(report.split("\n").filter((l) => l.startsWith("{")).pop()!);
    t.log(`${label}: ${counts.ok} requests ok, ${counts.failed} failed (${JSON.stringify(counts.statuses)}); ran: ${result.ran.join(" ")}`);
    return { result, counts };
}

const serialOf = (pem: string) => execFileSync("openssl", ["x509", "-noout", "-serial", "-enddate"], { input: pem, encoding: "utf8" }).trim();

test.serial("certificate renewal: the preview warns naming each certificate and its expiry; the update reissues them under load, 0 failed", async (t) => {
    const { gatewayAt, files, status } = await gatewayFixture(t);
    const before = { alice: out.gatewayClients.alice.certPem, aliceFiles: files("alice") };
    t.is(status(before.aliceFiles), "200");
    const inWindow: StackSettings = { ...BASE, extraAppServers: 0, certificateRenewalHours: 2 }; // the whole lifetime is the window
    engine.withProgram(program(inWindow));
    const { planned, warnings } = await engine.previewWithWarnings();
    const notices = warnings.filter((w) => /inside its renewal window/.test(w));
    t.log(`preview warnings:\n${notices.join("\n")}`);
    const expiry = execFileSync("openssl", ["x509", "-noout", "-enddate"], { input: before.alice, encoding: "utf8" }).trim().replace("notAfter=", "");
    const aliceNotice = notices.find((w) => w.includes("certificate 'gateway-client-alice' (CN=alice)"));
    t.truthy(aliceNotice, "alice's certificate is named");
    const seconds = (d: string) => Math.floor(new Date(d).getTime() / 1000);
    t.is(seconds(/expires at (\S+)/.exec(aliceNotice!)![1]), seconds(expiry), "with the expiry it carries");
    t.true(notices.some((w) => w.includes(`certificate 'gateway-server' (CN=${host})`)), "the server certificate too");
    t.true(planned.includes("replace gateway-client-alice-cert") && planned.includes("replace gateway-server-cert"), planned.join(" "));

    const { result, counts } = await underLoad(t, gatewayAt, before.aliceFiles, "requests during the renewal", () => up(inWindow));
    t.is(result.error, undefined);
    t.deepEqual(result.ran.filter((r) => !r.endsWith("-p12")), ["gateway-gateway"], "only the gateway's files change on a host");
    t.true(result.ran.includes("gateway-alice-p12"), "and each client's PKCS#12 bundle is made anew");
    t.true(counts.ok > 20);
    t.is(counts.failed, 0);
    t.not(serialOf(out.gatewayClients.alice.certPem), serialOf(before.alice), "alice has a new certificate in the outputs");
    t.is(status(files("alice")), "200", "the new one passes");
    t.is(status(before.aliceFiles), "200", "the old one is still valid until it expires");
    // Back to a window that is not open yet: the new certificates stay.
    const settled = await up({ ...BASE, extraAppServers: 0 });
    t.is(settled.error, undefined);
    t.deepEqual(settled.ran, []);
});

test.serial("CA rollover in three updates: no valid client refused before the last; after it, the old CA's certificates are refused", async (t) => {
    const { gatewayAt, files, status } = await gatewayFixture(t);
    const settings: StackSettings = { ...BASE, extraAppServers: 0 };
    const old = files("alice"); // issued by CA "d2"
    const NEXT = `${LAB}-next`;

    // 1. The new CA beside the old: both trusted; certificates still from the old one.
    const step1 = await underLoad(t, gatewayAt, old, "step 1 (introduce the new CA)",
        () => up({ ...settings, certificateAuthorities: [LAB, NEXT] }));
    t.is(step1.result.error, undefined);
    t.deepEqual(step1.result.ran, ["gateway-gateway"]);
    t.is(step1.counts.failed, 0);
    t.is(status(old), "200");
    const bundle = files("alice"); // alice's certificate is unchanged; her caPem now holds both roots
    t.is(execFileSync("grep", ["-c", "BEGIN CERTIFICATE", bundle.ca], { encoding: "utf8" }).trim(), "2");

    // 2. Server and client certificates reissued from the new CA; both still trusted.
    const step2 = await underLoad(t, gatewayAt, { ...old, ca: bundle.ca }, "step 2 (reissue from the new CA)",
        () => up({ ...settings, certificateAuthorities: [LAB, NEXT], issuingCa: NEXT }));
    t.is(step2.result.error, undefined);
    t.is(step2.counts.failed, 0);
    t.deepEqual(step2.result.ran.filter((r) => !r.endsWith("-p12")), ["gateway-gateway"]);
    const reissued = files("alice");
    t.regex(execFileSync("openssl", ["x509", "-noout", "-issuer"], { input: out.gatewayClients.alice.certPem, encoding: "utf8" }), new RegExp(`zerotrust ${NEXT} root CA`));
    t.is(status(reissued), "200", "a certificate from the new CA passes");
    t.is(status({ ...old, ca: bundle.ca }), "200", "one from the old CA still passes");

    // 3. The old CA retired: only the new one is trusted.
    const step3 = await underLoad(t, gatewayAt, reissued, "step 3 (retire the old CA)",
        () => up({ ...settings, certificateAuthorities: [NEXT] }));
    t.is(step3.result.error, undefined);
    t.is(step3.counts.failed, 0);
    t.deepEqual(step3.result.ran, ["gateway-gateway"]);
    t.true(step3.result.changes.includes(`delete tls:index/privateKey:PrivateKey ${LAB}-root-key`), "the old CA's key is deleted");
    t.is(status(files("alice")), "200");
    t.is(status({ ...old, ca: reissued.ca }), "400", "a certificate from the old CA is refused");
});

/** The longest run of consecutive lost pings, in seconds (a ping every 50 ms): how long a tunnel was down. */
function longestOutage(lost: number[]): number {
    let longest = 0;
    let run = 0;
    lost.forEach((seq, i) => { run = i > 0 && lost[i - 1] === seq - 1 ? run + 1 : 1; longest = Math.max(longest, run); });
    return longest * 0.05;
}

test.serial("rotating a node's WireGuard key is one config change: its peers learn the new key, untouched pairs lose nothing, its own tunnels come back", async (t) => {
    const settings: StackSettings = { ...BASE, extraAppServers: 0, certificateAuthorities: [`${LAB}-next`] };
    const rotated: StackSettings = { ...settings, keyGenerations: { "app-1": 2 } };
    const oldKey: string = out.hosts["app-1"].publicKey;
    engine.withProgram(program(rotated));
    const planned = await engine.preview();
    t.log(`preview: ${planned.join(", ")}`);
    t.true(planned.includes(`replace ${LAB}-app-1-wg-key`), "a new key for app-1");
    t.deepEqual(planned.filter((p) => /^(replace|create-replacement) .*-wg-key$/.test(p)).sort(),
        [`create-replacement ${LAB}-app-1-wg-key`, `replace ${LAB}-app-1-wg-key`], "and for no one else");
    t.true(planned.includes("update app-1-key-cutover") && planned.includes("update operator-tunnel"), planned.join(" "));

    const stopUntouched = pingUntouched(t, [["app-2", "db"], ["gateway", "app-2"]]);
    const ownPairs: [string, string][] = [["app-1", "db"], ["gateway", "app-1"]];
    const own = ownPairs.map(([from, to]) => ({ label: `${from} -> ${to}`, ping: startPing(ns(from), meshOf(to)) }));
    await settle(500);
    const started = Date.now();
    const result = await up(rotated);
    const took = (Date.now() - started) / 1000;
    await settle(2000);
    const untouched = await stopUntouched();
    const ownCounts = await Promise.all(own.map(async (o) => ({ label: o.label, ...(await o.ping.stop()) })));
    t.is(result.error, undefined);
    t.log(`the rotating up took ${took.toFixed(1)} s; ran: ${result.ran.join(" ")}`);
    t.log(`app-1's own tunnels: ${ownCounts.map((c) => `${c.label} ${c.received}/${c.sent}, down ${longestOutage(c.lost).toFixed(2)} s at most`).join("; ")}`);
    for (const u of untouched) t.deepEqual(u.lost, [], `${u.label} loses nothing`);
    // Back within the up: the switch waits for the staging session, the peers follow in the same up.
    for (const c of ownCounts) t.true(longestOutage(c.lost) < took, `${c.label} is back before the up ends`);

    const newKey: string = out.hosts["app-1"].publicKey;
    t.not(newKey, oldKey);
    t.is(inLabHost(`${LAYOUT.root}/app-1`, ["wg", "show", "wg0", "public-key"]).trim(), newKey, "app-1 runs the new key");
    for (const peer of ["db", "gateway"]) {
        t.true(wgPeers(peer).includes(newKey) && !wgPeers(peer).includes(oldKey), `${peer} has app-1's new key and not the old one`);
    }
    t.deepEqual(result.ran.filter((r) => r.endsWith("-wireguard")).sort(), ["app-1-wireguard", "db-wireguard", "gateway-wireguard"],
        "only app-1 and its peers change; no mesh-wide restart");
    // Confirmed, not merely switched: past the cut-over's rollback window the key stays.
    await settle((3 + BASE.rollbackSeconds + 2) * 1000);
    t.is(inLabHost(`${LAYOUT.root}/app-1`, ["wg", "show", "wg0", "public-key"]).trim(), newKey, "no rollback after the window");
    t.is(inLabHost(`${LAYOUT.root}/app-1`, ["bash", "-c", "cat /var/lib/zerotrust/wireguard-cutover/rollbacks.log 2>/dev/null; ls /var/lib/zerotrust/wireguard-cutover"]).trim()
        .split("\n").filter((l) => l === "armed" || l.includes("rolled back") || l.includes("kept")).length, 0, "confirmed by the apply");
    t.notThrows(() => execFileSync("ip", ["netns", "exec", ns("app-1"), "ping", "-c", "1", "-W", "2", meshOf("db")]), "app-1 reaches db");
    t.deepEqual(await engine.preview(), [], "converged");
});

test.serial("rotating several nodes is the same change for each, in one update: no interface restarts, the untouched pair loses nothing", async (t) => {
    const settings: StackSettings = { ...BASE, extraAppServers: 0, certificateAuthorities: [`${LAB}-next`] };
    const hosts = ["gateway", "app-1", "app-2", "db", "dev-box"];
    const before = Object.fromEntries(hosts.map((h) => [h, { key: out.hosts[h].publicKey as string, wg0: interfaceIndex(ns(h), "wg0") }]));
    const stop = pingUntouched(t, [["gateway", "app-1"]]); // neither end rotates
    await settle(500);
    const result = await up({ ...settings, keyGenerations: { "app-1": 2, "app-2": 2, db: 2 } });
    await settle(2000);
    const [untouched] = await stop();
    t.is(result.error, undefined);
    t.log(`rotating app-2 and db in one update: ran ${result.ran.join(" ")}`);
    t.deepEqual(untouched.lost, []);
    t.deepEqual(result.ran.filter((r) => r.endsWith("-key-cutover")).sort(), ["app-2-key-cutover", "db-key-cutover"]);
    for (const h of hosts) {
        const rotating = h === "app-2" || h === "db";
        t.is(out.hosts[h].publicKey !== before[h].key, rotating, `${h}: ${rotating ? "a new key" : "its key kept"}`);
        t.is(inLabHost(`${LAYOUT.root}/${h}`, ["wg", "show", "wg0", "public-key"]).trim(), out.hosts[h].publicKey, `${h} runs its key`);
        t.is(interfaceIndex(ns(h), "wg0"), before[h].wg0, `${h}'s interface was not recreated`);
    }
    t.notThrows(() => execFileSync("ip", ["netns", "exec", ns("app-2"), "ping", "-c", "1", "-W", "2", meshOf("db")]), "app-2 reaches db, both with new keys");
    t.deepEqual(await engine.preview(), [], "converged");
});

test.serial("rotating the deployer's own key while SSH is mesh-only: every node cuts over to it, no tunnel between nodes is disturbed", async (t) => {
    const settings: StackSettings = { ...BASE, extraAppServers: 0, certificateAuthorities: [`${LAB}-next`] };
    const nodes = ["gateway", "app-1", "app-2", "db", "dev-box"];
    const operatorKey = () => execFileSync("wg", ["show", LAYOUT.operatorInterface, "public-key"], { encoding: "utf8" }).trim();
    const before = operatorKey();
    const stop = pingUntouched(t, [["app-1", "db"], ["app-2", "db"], ["gateway", "app-1"], ["gateway", "app-2"]]);
    await settle(500);
    const result = await up({ ...settings, keyGenerations: { "app-1": 2, "app-2": 2, db: 2, operator: 2 } });
    await settle(2000);
    const untouched = await stop();
    t.is(result.error, undefined);
    t.log(`rotating the operator's key: ran ${result.ran.join(" ")}`);
    for (const u of untouched) t.deepEqual(u.lost, [], `${u.label} loses nothing`);
    const after = operatorKey();
    t.not(after, before, "this machine's tunnel has its new key");
    for (const n of nodes) {
        t.true(result.ran.includes(`${n}-key-cutover`) && result.ran.includes(`${n}-wireguard`), `${n} cut over and was reached through the new key`);
        t.true(wgPeers(n).includes(after) && !wgPeers(n).includes(before), `${n} has the operator's new key only`);
    }
    t.deepEqual(await engine.preview(), [], "converged");
});

test.serial("pulumi destroy removes every namespace, interface and process", async (t) => {
    await engine.destroy();
    t.notRegex(execFileSync("ip", ["netns", "list"], { encoding: "utf8" }), new RegExp(`zt-${LAB}-`));
    t.notRegex(execFileSync("ip", ["-o", "link"], { encoding: "utf8" }), new RegExp(LAB_INTERFACES.join("|")));
    t.false(existsSync(LAYOUT.root));
});
