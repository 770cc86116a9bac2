// The day-2 settings and messages as pure functions: which nodes may be retired, which CAs a
// rollover names, and what an operator reads when a host cannot be reached.
import test from "ava";
import { spawnSync } from "child_process";
import { blockedCommand } from "../../components/node/concern-chain";
import { keySwitchTime } from "../../components/node/key-cutover";
import { configuredNodes, removedWithoutRetiring } from "../../components/removal-check";
import { connectionFailure, failureMessage } from "../../components/remote/ssh-failure";
import { checkCertificateAuthorities, checkKeyGenerations, checkRetiredNodes } from "../../stacks/program";
import { SEED_NODES } from "../../stacks/seed-scenario";

const nodes = [...SEED_NODES, { name: "app-3", tags: ["app"] }];

test("retiredNodes: a node of the stack may be retired; an unknown one or the gateway's host is refused with the fix", (t) => {
    t.deepEqual([...checkRetiredNodes(["app-3"], nodes, "gateway")], ["app-3"]);
    t.throws(() => checkRetiredNodes(["app-9"], nodes, "gateway"), { message: /retiredNodes\[0\].*app-9.*drop it from retiredNodes/ });
    t.throws(() => checkRetiredNodes(["gateway"], nodes, "gateway"), { message: /retiredNodes\[0\].*gateway.*mTLS gateway/ });
});

test("certificateAuthorities: one CA named after the stack by default; the issuing CA must be trusted; no CA twice", (t) => {
    t.deepEqual(checkCertificateAuthorities("dev", undefined, undefined), { names: ["dev"], issuing: "dev" });
    t.deepEqual(checkCertificateAuthorities("dev", ["dev", "dev-2027"], "dev-2027"), { names: ["dev", "dev-2027"], issuing: "dev-2027" });
    t.throws(() => checkCertificateAuthorities("dev", ["dev-2027"], "dev"), { message: /issuingCa.*dev.*not one of certificateAuthorities/ });
    t.throws(() => checkCertificateAuthorities("dev", ["dev", "dev"], undefined), { message: /certificateAuthorities/ });
    t.throws(() => checkCertificateAuthorities("dev", [], undefined), { message: /at least one/ });
    t.throws(() => checkCertificateAuthorities("dev", ["Bad Name"], undefined), { message: /certificateAuthorities\[0\]/ });
});

test("a connection that fails names the host and the cause; a remote program that fails is reported as it is", (t) => {
    const timedOut = { code: 255, err: "ssh: connect to host 10.74.0.9 port 22: Connection timed out" };
    t.regex(connectionFailure(timedOut)!, /unreachable.*timed out/);
    const applying = failureMessage("applying", "wireguard", "10.74.0.9", timedOut);
    t.regex(applying, /^applying wireguard on 10\.74\.0\.9 failed: the host is unreachable/);
    t.regex(applying, /Connection timed out/, "OpenSSH's own words are kept");
    t.regex(applying, /run `pulumi up` again once the host is back/);
    t.regex(failureMessage("removing", "ssh", "10.74.0.9", timedOut), /pulumi state delete --target-dependents/);
    t.regex(connectionFailure({ code: 255, err: "ssh: connect to host 10.74.0.9 port 22: Connection refused" })!, /refuses SSH/);
    t.regex(connectionFailure({ code: 255, err: "Host key verification failed." })!, /not the pinned one/);
    t.regex(connectionFailure({ code: 255, err: "refusing to send to 10.74.0.9: this machine routes it via eth0" })!, /refused to send/);
    const remote = { code: 1, err: "zerotrust firewall: FAILED: validation refused the new firewall config; nothing was changed" };
    t.is(connectionFailure(remote), undefined);
    t.is(failureMessage("applying", "firewall", "10.74.0.9", remote), `applying firewall on 10.74.0.9 failed: ${remote.err}`);
});

test("a concern whose predecessor failed runs a command that fails naming both, and refuses names it could not quote", (t) => {
    const cmd = blockedCommand("db-firewall", "db-wireguard");
    const r = spawnSync("/bin/sh", ["-c", cmd], { encoding: "utf8" });
    t.is(r.status, 1);
    t.regex(r.stderr, /^zerotrust: db-firewall not applied: db-wireguard, which comes before it on this host, failed in this update/);
    t.throws(() => blockedCommand("db-firewall", "x'; rm -rf /; '"), { message: /unsafe/ });
});

test("a node configured last time and gone now without being retired is named; a retired (still listed) one is not", (t) => {
    const urn = (node: string) => `urn:pulumi:staging::zerotrust::zerotrust:index:ZeroTrustNode$command:local:Command::${node}-wireguard`;
    const recorded = [urn("db"), urn("app-3"), urn("app-10"),
        "urn:pulumi:staging::zerotrust::zerotrust:index:ZeroTrustNode$command:local:Command::db-firewall",
        "urn:pulumi:staging::zerotrust::zerotrust:index:MeshNetwork$random:index/randomBytes:RandomBytes::staging-app-3-wg-key"];
    t.deepEqual(configuredNodes(recorded), ["app-10", "app-3", "db"]);
    t.deepEqual(removedWithoutRetiring(recorded, ["db", "app-3", "app-10"]), [], "all still there (retired ones stay listed)");
    t.deepEqual(removedWithoutRetiring(recorded, ["db"]), ["app-10", "app-3"]);
    t.deepEqual(removedWithoutRetiring([], ["db"]), [], "a new stack");
});

test("keyGenerations names nodes of the stack; a key cut-over's output says when the host switches", (t) => {
    t.deepEqual(checkKeyGenerations({ "app-1": 2, operator: 3 }, nodes, "operator"), { "app-1": 2, operator: 3 });
    t.throws(() => checkKeyGenerations({ "app-9": 2 }, nodes, "operator"), { message: /keyGenerations\.app-9.*names neither a node of the stack nor its operator peer \(operator\)/ });
    t.throws(() => checkKeyGenerations(["app-1"] as unknown as Record<string, number>, nodes, "operator"), { message: /keyGenerations.*a generation per node name/ });
    t.is(keySwitchTime("wireguard: switch at 1796000000"), 1796000000);
    t.is(keySwitchTime("wireguard: unchanged"), undefined);
    t.is(keySwitchTime("wireguard: nothing to switch, the node starts with this key"), undefined);
});
