// The pure parts of drift detection: the line diff, the check output, reading what the stack
// applied from its exported state, and the exit status.
import test from "ava";
import { appliedConcerns, exitCodeOf, formatVerifyReport, parseCheckOutput, StateResource, VerifyReport } from "../../components/verify";
import { lineDiff } from "../../components/verify/line-diff";
import { DriverRequest } from "../../components/remote/driver";

test("the line diff names only what differs, in order, and sees a reordering", (t) => {
    t.deepEqual(lineDiff(["a", "b", "c"], ["a", "b", "c"]), []);
    t.deepEqual(lineDiff(["a", "b", "c"], ["x", "a", "b", "c"]), ["+ x"]);
    t.deepEqual(lineDiff(["a", "b", "c"], ["a", "c"]), ["- b"]);
    t.deepEqual(lineDiff(["k no"], ["k yes"]), ["- k no", "+ k yes"]);
    t.not(lineDiff(["drop x", "accept y"], ["accept y", "drop x"]).length, 0, "rule order matters in a chain");
    t.deepEqual(lineDiff([], ["a"]), ["+ a"]);
});

test("the check output splits into what the stack says and what the host has", (t) => {
    t.deepEqual(parseCheckOutput("=== expected\na\nb\n=== live\na\n"), { expected: ["a", "b"], live: ["a"] });
    t.throws(() => parseCheckOutput("bash: nft: command not found\n"), { message: /no expected\/live sections/ });
});

const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(value) });
const request = (concern: DriverRequest["concern"], host: string, confirmHost = host): DriverRequest => ({
    action: "apply", concern, vars: {}, files: { "x.conf": "x" }, rollbackSeconds: 10, confirmHost,
    connection: { host, port: 22, user: "root", privateKey: "KEY", hostKey: "ssh-ed25519 AAAA" },
});
const DRIVER = "node /opt/app/node_modules/@zerotrust/components/build/components/remote/driver.js";
const command = (name: string, parent: string, req: DriverRequest | string, create = `${DRIVER} apply`): StateResource => ({
    urn: `urn:pulumi:dev::zerotrust::zerotrust:index:ZeroTrustNode$command:local:Command::${name}`,
    type: "command:local:Command", parent, inputs: { create, stdin: typeof req === "string" ? req : secret(JSON.stringify(req)) },
});
const node = (name: string, managementHost: string): StateResource => ({
    urn: `urn:pulumi:dev::zerotrust::zerotrust:index:ZeroTrustNode::${name}`, type: "zerotrust:index:ZeroTrustNode",
    outputs: { meshAddress: managementHost, managementHost },
});

test("what was applied comes from the driver's requests in the state, named by node; first contact and other commands are left out", (t) => {
    const dbUrn = node("db", "10.77.0.5").urn;
    const applied = appliedConcerns([
        node("db", "10.77.0.5"),
        command("db-bootstrap", dbUrn, request("wireguard", "10.213.7.4", "10.77.0.5")),
        command("db-wireguard", dbUrn, request("wireguard", "10.77.0.5")),
        command("db-firewall", dbUrn, request("firewall", "10.77.0.5")),
        command("db-host", dbUrn, "not a request", "/bin/bash /x/hosts/lab/host.sh create"),
        command("gw-gateway", "urn:pulumi:dev::zerotrust::zerotrust:index:MtlsGateway::gw", request("gateway", "10.77.0.5")),
    ]);
    t.deepEqual(applied.map((a) => `${a.node} ${a.resource} ${a.concern}`), ["db db-wireguard wireguard", "db db-firewall firewall", "db gw-gateway gateway"]);
    t.is(applied[0].request.connection.privateKey, "KEY");
});

test("a state exported without --show-secrets is refused with the fix", (t) => {
    const encrypted = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" };
    t.throws(() => appliedConcerns([{ ...command("db-ssh", "", ""), inputs: { create: `${DRIVER} apply`, stdin: encrypted } }]),
        { message: /db-ssh\.stdin is encrypted .* --show-secrets/ });
});

test("exit status: 0 in sync, 1 drift, 2 could not check; the text report lists each concern and the diff", (t) => {
    const base = { node: "db", resource: "db-firewall", concern: "firewall", host: "10.77.0.5", diff: [] as string[] };
    const report = (...states: VerifyReport["concerns"]): VerifyReport => ({ checkedAt: "2026-11-30T12:00:00.000Z", concerns: states });
    t.is(exitCodeOf(report({ ...base, state: "in sync" })), 0);
    t.is(exitCodeOf(report({ ...base, state: "in sync" }, { ...base, state: "unreachable", reason: "timed out" })), 2);
    const drifted = report({ ...base, state: "drifted", diff: ["+ \t\ttcp dport 9999 accept"] }, { ...base, state: "unreachable", reason: "timed out" });
    t.is(exitCodeOf(drifted), 1);
    const text = formatVerifyReport(drifted);
    t.regex(text, /db +firewall +drifted\n +\+ +tcp dport 9999 accept\n/);
    t.regex(text, /unreachable: timed out/);
    t.regex(text, /2 concerns: 0 in sync, 1 drifted, 1 unreachable, 0 failed/);
});
