// The seeds' scenario: a gateway in front of two app servers, a database only the app servers
// reach, a developer box that reaches nothing, an operator laptop that may SSH everywhere, and
// people with client certificates whom the gateway admits by the same policy.
// The dev stack deploys it on lab hosts; the tests check its compiled and measured matrices.
import type { PolicyExpectations, PolicyMember, PolicyRule } from "../components/policy";

export interface ScenarioNode {
    name: string;
    tags: string[];
}

export const SEED_NODES: ScenarioNode[] = [
    { name: "gateway", tags: ["edge"] },
    { name: "app-1", tags: ["app"] },
    { name: "app-2", tags: ["app"] },
    { name: "db", tags: ["data"] },
    { name: "dev-box", tags: ["dev"] },
];

export const SEED_OPERATOR = "operator";

/** People with client certificates, outside the mesh: alice and bob are staff, carol is not. */
export const SEED_CLIENTS = [
    { name: "alice", tags: ["staff"] },
    { name: "bob", tags: ["staff"] },
    { name: "carol", tags: ["contractor"] },
];

export const SEED_RULES: PolicyRule[] = [
    { from: "gateway", to: "tag:app", ports: ["tcp/8080"] },
    { from: "tag:app", to: "db", ports: ["tcp/5432"] },
    { from: "tag:staff", to: "gateway", ports: ["tcp/443"] },
];

export const SEED_EXPECT: PolicyExpectations = {
    reachable: [
        ["app-1", "db", "tcp/5432"],
        ["app-2", "db", "tcp/5432"],
        ["gateway", "app-1", "tcp/8080"],
        ["operator", "db", "tcp/22"],
        ["alice", "gateway", "tcp/443"],
    ],
    blocked: [
        ["dev-box", "db", "tcp/5432"],
        ["gateway", "db", "tcp/5432"],
        ["dev-box", "app-1", "tcp/8080"],
        ["dev-box", "db", "tcp/22"],
        ["app-1", "app-2", "tcp/22"],
        ["carol", "gateway", "tcp/443"],
        ["alice", "app-1", "tcp/8080"],
    ],
};

/** Every port the scenario's policy names, plus SSH: what a measured matrix probes. */
export const SEED_PROBE_PORTS = ["tcp/22", "tcp/5432", "tcp/8080"];

/** The gateway issues certificates to all three; the policy admits the staff, so carol gets 403. */
export const SEED_GATEWAY = {
    node: "gateway",
    port: 443,
    clients: SEED_CLIENTS.map((c) => c.name),
    upstreams: ["app-1:8080", "app-2:8080"],
};

/** The scenario's members as the policy sees them, for tests that compile it without a mesh. */
export function seedPolicyMembers(): PolicyMember[] {
    return [
        ...SEED_NODES.map((n) => ({ ...n, kind: "node" as const, management: false })),
        { name: SEED_OPERATOR, tags: ["admin"], kind: "operator", management: true },
        ...SEED_CLIENTS.map((c) => ({ ...c, kind: "client" as const, management: false })),
    ];
}
