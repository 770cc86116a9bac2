import test from "ava";
import {
    PolicyMember, allowMatrix, checkExpectations, compilePolicy, gatewayAllowlist, inboundAllows, parsePort,
} from "../../components/policy";
import { SEED_EXPECT, SEED_NODES, SEED_RULES, seedPolicyMembers } from "../../stacks/seed-scenario";

const seedMembers = seedPolicyMembers();

test("seed scenario: the compiled matrix equals the policy exactly, with no extra allows", (t) => {
    const policy = compilePolicy(seedMembers, SEED_RULES);
    const ssh = Object.fromEntries(SEED_NODES.map((n) => [`operator -> ${n.name}`, ["tcp/22"]]));
    t.deepEqual(allowMatrix(policy), {
        ...ssh,
        "app-1 -> db": ["tcp/5432"],
        "app-2 -> db": ["tcp/5432"],
        "gateway -> app-1": ["tcp/8080"],
        "gateway -> app-2": ["tcp/8080"],
    });
    t.notThrows(() => checkExpectations(policy, SEED_RULES, SEED_EXPECT));
});

test("seed scenario: each node peers only with the nodes a rule connects it to, plus the operator", (t) => {
    const { peers } = compilePolicy(seedMembers, SEED_RULES);
    t.deepEqual(peers["dev-box"], ["operator"]);
    t.deepEqual(peers.db, ["app-1", "app-2", "operator"]);
    t.deepEqual(peers["app-1"], ["db", "gateway", "operator"]);
    t.deepEqual(peers.gateway, ["app-1", "app-2", "operator"]);
    t.deepEqual(peers.operator, ["app-1", "app-2", "db", "dev-box", "gateway"]);
    t.false("alice" in peers, "clients are not on the mesh");
});

test("clients: their allows become the gateway's allowlist, never peers or firewall rules", (t) => {
    const policy = compilePolicy(seedMembers, SEED_RULES);
    t.deepEqual(gatewayAllowlist(policy, "gateway", 443), ["alice", "bob"]);
    t.deepEqual(gatewayAllowlist(policy, "gateway", 8443), []);
    t.deepEqual(gatewayAllowlist(policy, "app-1", 443), []);
    t.deepEqual(policy.clientAllows.map((a) => `${a.from}>${a.to}:${a.port.first}#${a.rule}`), ["alice>gateway:443#2", "bob>gateway:443#2"]);
    t.false(policy.allows.some((a) => a.from === "alice" || a.from === "bob"));
    t.deepEqual(inboundAllows(policy, "gateway").map((e) => e.port.first), [22], "the gateway's firewall admits no client by mesh address");
    // "*" names clients too; a client is never a target.
    const open = compilePolicy(seedMembers, [{ from: "*", to: "gateway", ports: ["tcp/443"] }]);
    t.deepEqual(gatewayAllowlist(open, "gateway", 443), ["alice", "bob", "carol"]);
    t.throws(() => compilePolicy(seedMembers, [{ from: "db", to: "alice", ports: ["tcp/1"] }]), { message: /rules\[0\]\.to: "alice" .*a gateway client; only nodes accept/ });
    const err = t.throws(() => checkExpectations(policy, SEED_RULES, { reachable: [["carol", "gateway", "tcp/443"]] }));
    t.regex(err!.message, /carol -> gateway tcp\/443 is expected reachable, but no rule allows it; rules reaching gateway: rules\[2\] \(tag:staff -> gateway tcp\/443\)/);
});

test("inbound allows group sources by port", (t) => {
    const policy = compilePolicy(seedMembers, SEED_RULES);
    t.deepEqual(inboundAllows(policy, "db").map((e) => [e.port.proto, e.port.first, e.sources]), [
        ["tcp", 22, ["operator"]],
        ["tcp", 5432, ["app-1", "app-2"]],
    ]);
});

test("a failing expectation names the assertion and the rules involved", (t) => {
    const policy = compilePolicy(seedMembers, [...SEED_RULES, { from: "*", to: "db", ports: ["tcp/5000-6000"] }]);
    const err = t.throws(() => checkExpectations(policy, SEED_RULES.concat([{ from: "*", to: "db", ports: ["tcp/5000-6000"] }]), SEED_EXPECT));
    t.regex(err!.message, /expect\.blocked\[0\] dev-box -> db tcp\/5432 is expected blocked, but it is allowed by rules\[3\] \(\* -> db tcp\/5000-6000\)/);
    const missing = compilePolicy(seedMembers, [SEED_RULES[1]]);
    const err2 = t.throws(() => checkExpectations(missing, [SEED_RULES[1]], { reachable: [["gateway", "app-1", "tcp/8080"]] }));
    t.regex(err2!.message, /expect\.reachable\[0\] gateway -> app-1 tcp\/8080 is expected reachable, but no rule allows it/);
});

test("selectors that match nothing, or target an operator, are errors that say so", (t) => {
    t.throws(() => compilePolicy(seedMembers, [{ from: "tag:ap", to: "db", ports: ["tcp/1"] }]), { message: /rules\[0\]\.from: "tag:ap" .*matches no node, operator peer or client/ });
    t.throws(() => compilePolicy(seedMembers, [{ from: "db", to: "operator", ports: ["tcp/1"] }]), { message: /rules\[0\]\.to: "operator" .*only nodes accept/ });
    t.throws(() => compilePolicy(seedMembers, [{ from: "db", to: "app-1", ports: [] }]), { message: /rules\[0\]\.ports/ });
});

test("ports: single, range, udp; bad forms are refused", (t) => {
    t.deepEqual(parsePort("p", "udp/53"), { proto: "udp", first: 53, last: 53 });
    t.deepEqual(parsePort("p", "tcp/8000-8100"), { proto: "tcp", first: 8000, last: 8100 });
    for (const bad of ["tcp/0", "tcp/65536", "icmp/1", "tcp/20-10", "tcp/22;reboot", "tcp/ 22", "TCP/22", 22]) {
        t.throws(() => parsePort("p", bad), { message: /^p: / });
    }
});

test("an operator with management gets SSH everywhere; without it, nothing implicit", (t) => {
    const members: PolicyMember[] = [
        { name: "a", tags: [], kind: "node", management: false },
        { name: "viewer", tags: [], kind: "operator", management: false },
    ];
    const policy = compilePolicy(members, []);
    t.deepEqual(policy.allows, []);
    t.deepEqual(policy.peers.a, []);
});
