// The seeds' scenario: a gateway in front of two app servers, a database only the app servers
// reach, a developer box that reaches nothing, and an operator laptop that may SSH everywhere.
// The dev stack deploys it on lab hosts; the tests check its compiled and measured matrices.
import type { PolicyExpectations, PolicyRule } from "../components/policy";

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

export const SEED_RULES: PolicyRule[] = [
    { from: "gateway", to: "tag:app", ports: ["tcp/8080"] },
    { from: "tag:app", to: "db", ports: ["tcp/5432"] },
];

export const SEED_EXPECT: PolicyExpectations = {
    reachable: [
        ["app-1", "db", "tcp/5432"],
        ["app-2", "db", "tcp/5432"],
        ["gateway", "app-1", "tcp/8080"],
        ["operator", "db", "tcp/22"],
    ],
    blocked: [
        ["dev-box", "db", "tcp/5432"],
        ["gateway", "db", "tcp/5432"],
        ["dev-box", "app-1", "tcp/8080"],
        ["dev-box", "db", "tcp/22"],
        ["app-1", "app-2", "tcp/22"],
    ],
};

/** Every port the scenario's policy names, plus SSH: what a measured matrix probes. */
export const SEED_PROBE_PORTS = ["tcp/22", "tcp/5432", "tcp/8080"];

/** The gateway's clients: alice and bob may pass, carol holds a valid certificate but is not allowed. */
export const SEED_GATEWAY = {
    node: "gateway",
    port: 443,
    clients: ["alice", "bob", "carol"],
    allowedClients: ["alice", "bob"],
    upstreams: ["app-1:8080", "app-2:8080"],
};
