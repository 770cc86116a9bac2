// Drift on real lab hosts: the stack is deployed by the real engine (mesh-only SSH, as the dev
// stack), then hosts are changed by hand as an intruder or a hurried admin would, and the verify
// functions (what `npm run verify` runs) must find each change, name it, and repair exactly it.
// Last, the audit report's material is collected from the same lab (what `npm run report` writes).
import test from "ava";
import { execFileSync } from "child_process";
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { labLayout } from "../../components/hosts/lab";
import { assertRoutedVia } from "../../components/remote/route-guard";
import { StateResource, VerifyReport, formatVerifyReport, verifyDeployment } from "../../components/verify";
import { inLabHost, probe } from "../../scripts/lab/lab-probe";
import { StackSettings, zeroTrustStack } from "../../stacks/program";
import { SEED_NODES } from "../../stacks/seed-scenario";
import { EngineStack } from "../helpers/engine";
import { auditHtml, measuredRows } from "../../components/report";
import { collectAuditData } from "../../scripts/audit/collect";
import { removeLabLeftovers } from "../helpers/lab";
import { NFT } from "../helpers/netns";

const LAB = "drf";
const LAYOUT = labLayout(LAB);
const SETTINGS: StackSettings = {
    hostKind: "lab",
    meshCidr: "10.73.0.0/24",
    labSubnet: "10.213.60.0/24",
    sshOverMeshOnly: true,
    rollbackSeconds: 10,
    extraAppServers: 0,
};
const CONCERNS_PER_LAB = SEED_NODES.length * 3 + 1; // wireguard, firewall, ssh on each; the gateway
const EXTRA_PEER_ADDRESS = "10.73.0.250";

let engine: EngineStack;
let hosts: Record<string, { underlay: string; mesh: string }> = {};
const cleanup = () => removeLabLeftovers(LAB, SEED_NODES.map((n) => n.name));
const hostRoot = (h: string) => LAYOUT.hostRootOf(h);
const onHost = (h: string, cmd: string[]) => inLabHost(hostRoot(h), cmd);

async function resources(): Promise<StateResource[]> {
    const exported = await engine.stack.exportStack();
    return (exported.deployment as { resources: StateResource[] }).resources;
}

const verify = async (repair = false) => verifyDeployment(await resources(), { repair });
const stateOf = (r: VerifyReport, resource: string) => r.concerns.find((c) => c.resource === resource)!;
const notInSync = (r: VerifyReport) => r.concerns.filter((c) => c.state !== "in sync").map((c) => c.resource).sort();

test.before(async () => {
    process.chdir(`${__dirname}/../../..`);
    cleanup();
    engine = await EngineStack.create("zt-drift", "drift", async () => {
        const built = zeroTrustStack(LAB, SETTINGS);
        // What the audit report reads, as the dev stack exports it.
        return {
            hosts: built.hosts, labNamespaces: built.labNamespaces, labInterfaces: built.labInterfaces,
            auditPolicy: built.auditPolicy, gatewayEndpoint: built.gatewayEndpoint, gatewayClients: built.gatewayClients,
        };
    });
    const r = await engine.up();
    if (r.error) throw new Error(`the lab did not deploy: ${r.error}`);
    hosts = r.outputs.hosts.value;
});

test.after.always(async () => {
    await engine?.dispose();
    cleanup();
});

test.serial("an untouched lab is in sync, every concern of every host checked", async (t) => {
    const report = await verify();
    t.log(formatVerifyReport(report));
    t.is(report.concerns.length, CONCERNS_PER_LAB);
    t.deepEqual(notInSync(report), []);
    t.deepEqual([...new Set(report.concerns.map((c) => c.node))].sort(), SEED_NODES.map((n) => n.name).sort());
});

test.serial("a hand-added rule, an extra peer, an edited sshd setting and a stopped gateway are each found and named", async (t) => {
    // An accept rule at the top of db's input chain.
    onHost("db", [NFT, "insert", "rule", "inet", "zerotrust", "input", "tcp", "dport", "9999", "accept"]);
    // A peer nobody declared on app-1.
    const stranger = execFileSync("wg", ["pubkey"], { input: execFileSync("wg", ["genkey"]), encoding: "utf8" }).trim();
    onHost("app-1", ["wg", "set", "wg0", "peer", stranger, "allowed-ips", `${EXTRA_PEER_ADDRESS}/32`]);
    // Password logins switched on in app-2's drop-in.
    const dropin = join(hostRoot("app-2"), "etc/ssh/sshd_config.d/zerotrust.conf");
    writeFileSync(dropin, readFileSync(dropin, "utf8").replace("PasswordAuthentication no", "PasswordAuthentication yes"));
    // The gateway's nginx stopped.
    onHost("gateway", ["/bin/sh", "-c", "kill -QUIT $(cat /run/zerotrust-gateway.pid)"]);

    const report = await verify();
    t.log(formatVerifyReport(report));
    t.deepEqual(notInSync(report), ["app-1-wireguard", "app-2-ssh", "db-firewall", "gateway-gateway"]);
    for (const c of report.concerns.filter((c) => c.state !== "in sync")) t.is(c.state, "drifted", `${c.resource}: ${c.reason}`);
    t.true(stateOf(report, "db-firewall").diff.some((l) => /^\+ .*tcp dport 9999 accept/.test(l)), stateOf(report, "db-firewall").diff.join("\n"));
    t.deepEqual(stateOf(report, "app-1-wireguard").diff, [`+ peer ${stranger} allowed-ip ${EXTRA_PEER_ADDRESS}/32`]);
    const ssh = stateOf(report, "app-2-ssh").diff;
    t.true(ssh.includes("- passwordauthentication no") && ssh.includes("+ passwordauthentication yes"), ssh.join("\n"));
    t.true(ssh.some((l) => l.startsWith("- file /etc/ssh/sshd_config.d/zerotrust.conf")), "the edited file is named");
    t.deepEqual(stateOf(report, "gateway-gateway").diff, ["- nginx running", "+ nginx not running"]);
    // The report names hosts and settings, never a key: no private or pre-shared key, no PEM block.
    const text = JSON.stringify(report);
    t.notRegex(text, /PRIVATE KEY|PrivateKey|PresharedKey|private-key-raw|preshared-key-raw/);
});

test.serial("repair re-applies exactly the drifted concerns, and each host is as the stack says again", async (t) => {
    const report = await verify(true);
    t.log(formatVerifyReport(report));
    const repaired = report.concerns.filter((c) => c.repair !== undefined).map((c) => c.resource).sort();
    t.deepEqual(repaired, ["app-1-wireguard", "app-2-ssh", "db-firewall", "gateway-gateway"]);
    for (const c of report.concerns) t.is(c.state, "in sync", `${c.resource}: ${c.repair ?? ""}`);
    // Seen with the real tools, not only by the check.
    t.notRegex(onHost("db", [NFT, "list", "table", "inet", "zerotrust"]), /9999/);
    t.notRegex(onHost("app-1", ["wg", "show", "wg0", "allowed-ips"]), new RegExp(EXTRA_PEER_ADDRESS.replace(/\./g, "\\.")));
    t.regex(readFileSync(join(hostRoot("app-2"), "etc/ssh/sshd_config.d/zerotrust.conf"), "utf8"), /^PasswordAuthentication no$/m);
    assertRoutedVia(hosts.gateway.underlay, LAYOUT.interfaces);
    t.is(probe({ labInterfaces: LAYOUT.interfaces }, [`${hosts.gateway.underlay}:443`])[`${hosts.gateway.underlay}:443`], "open");
    t.deepEqual(notInSync(await verify()), [], "a second check finds nothing");
    // And the engine agrees: the next up runs nothing.
    t.deepEqual((await engine.up()).ran, []);
});

test.serial("a host that cannot be reached is reported as such, with ssh's reason, and the others are still checked", async (t) => {
    const veth = LAYOUT.vethOf("db");
    execFileSync("ip", ["link", "set", veth, "down"]);
    t.teardown(() => execFileSync("ip", ["link", "set", veth, "up"]));
    const report = await verify();
    t.log(formatVerifyReport(report));
    for (const c of report.concerns) {
        if (c.node === "db") t.regex(`${c.state}: ${c.reason}`, /^unreachable: .*(timed out|No route|unreachable)/i, c.resource);
        else t.is(c.state, "in sync", c.resource);
    }
});

test.serial("the audit report's material from the lab: policy and measurement agree, scanners pass, every certificate listed", async (t) => {
    const data = await collectAuditData(engine.stack, { scan: true });
    t.deepEqual(data.drift.concerns.filter((c) => c.state !== "in sync").map((c) => c.resource), []);
    const measured = measuredRows(data.allowed, data.measured!);
    t.deepEqual(measured.rows.filter((r) => r.allowed !== r.open), [], "every allowed pair opens and nothing else does");
    t.true(measured.rows.some((r) => r.from === "app-1" && r.to === "db" && r.port === "tcp/5432" && r.open));
    t.deepEqual(data.measured!.underlayAnswered, []);
    for (const s of data.scanners) t.true(s.passed, `${s.scanner} ${s.target}: ${s.summary}`);
    t.deepEqual(data.scanners.map((s) => s.scanner).sort(), [...SEED_NODES.map(() => "ssh-audit"), "nmap (from a stranger on the underlay)", "testssl.sh"].sort());
    // The root, the gateway's server certificate and one per client, none revoked; each with its expiry.
    t.true(data.certificates.length >= 5, data.certificates.map((c) => c.name).join(" "));
    t.true(data.certificates.some((c) => c.isCa) && data.certificates.every((c) => !c.revoked && Date.parse(c.notAfter) > Date.now()));
    t.true(data.certificates.some((c) => /CN=alice/.test(c.subject)));
    // Each host's peers named by member, read on the host: db peers with the app servers and the operator.
    const db = data.hosts.find((h) => h.node === "db")!;
    t.deepEqual(db.peers.map((p) => p.member).sort(), ["app-1", "app-2", "operator"]);
    t.true(db.firewall.some((l) => l.includes("chain input")));
    t.regex(auditHtml(data), /<svg[^>]+id="reach-diagram"/);
});
