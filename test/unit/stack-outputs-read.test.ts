// What reads a stack's outputs (the dev summary, the audit report) takes them keyed by name, and
// also as the lists that stacks deployed before exported, until their next `pulumi up`.
import test from "ava";
import { planMesh } from "../../components/mesh-plan";
import { policyRows, reportPolicy } from "../../components/report";
import { labInterfaceList, namespaceOf } from "../../scripts/lab/lab-outputs";
import { gatewayClientList } from "../../scripts/lab/print-report";
import { SEED_CLIENTS, SEED_EXPECT, SEED_NODES, SEED_OPERATOR, SEED_RULES } from "../../stacks/seed-scenario";

test("auditPolicy is keyed by member and by pair, and turns back into the report's rows", (t) => {
    const plan = planMesh({ cidr: "10.77.0.0/24", nodes: SEED_NODES, operators: [{ name: SEED_OPERATOR, tags: ["admin"] }], clients: SEED_CLIENTS, rules: SEED_RULES, expect: SEED_EXPECT });
    const policy = reportPolicy(plan, SEED_RULES, SEED_EXPECT);
    t.deepEqual(policy.members.bob, { kind: "client", tags: ["staff"] });
    t.deepEqual(policy.members.db, { kind: "node", tags: ["data"], address: plan.members.find((m) => m.name === "db")!.address });
    t.deepEqual(policy.allowed["app-1 -> db"], ["tcp/5432"]);
    t.deepEqual(policy.allowed["bob -> gateway"], ["tcp/443"]);
    const rows = policyRows(policy);
    t.deepEqual(rows.members.map((m) => m.name), ["gateway", "app-1", "app-2", "db", "dev-box", "operator", "alice", "bob", "carol"]);
    t.deepEqual(rows.allowed.find((a) => a.from === "app-1" && a.to === "db"), { from: "app-1", to: "db", ports: ["tcp/5432"] });
    t.deepEqual(policyRows(rows), rows, "the lists of a stack deployed before are taken as they are");
});

test("lab namespaces, interfaces and the gateway's clients, keyed or as lists", (t) => {
    t.is(namespaceOf({ db: "zt-dev-db", "app-1": "zt-dev-app-1" }, "db"), "zt-dev-db");
    t.is(namespaceOf(["zt-dev-app-1", "zt-dev-db"], "db"), "zt-dev-db");
    t.throws(() => namespaceOf({}, "db"), { message: /no namespace for db/ });
    t.deepEqual(labInterfaceList({ operator: "zt-dev-op", bridge: "ztbr-dev" }), ["ztbr-dev", "zt-dev-op"], "the bridge first");
    t.deepEqual(labInterfaceList(["ztbr-dev", "zt-dev-op"]), ["ztbr-dev", "zt-dev-op"]);
    t.is(gatewayClientList({ alice: "admitted", bob: "revoked" }), "alice, bob (revoked)");
    t.is(gatewayClientList(["alice", "bob"]), "alice, bob");
});
