// A mesh of sixty members as a company might run it: gateways in front of a web tier, an API tier
// and workers, databases, caches and queues, monitoring that scrapes every node, developer boxes
// that reach nothing, operators with SSH everywhere, an on-call peer, and staff, partners and
// contractors with client certificates. Compiled by the real planner; a few rules name single
// members, so some pairs differ from their group's.
import { planMesh } from "../../components/mesh-plan";
import { PolicyRule } from "../../components/policy";
import { AuditData, policyRows, reportPolicy } from "../../components/report";
import { seedAuditData } from "./fixture";

const numbered = (prefix: string, n: number, tags: string[]) => Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${i + 1}`, tags }));

export const MESH60_NODES = [
    ...numbered("gw", 3, ["edge"]),
    ...numbered("web", 8, ["web"]),
    ...numbered("api", 10, ["api"]),
    ...numbered("worker", 6, ["worker"]),
    ...numbered("pg", 4, ["db"]),
    ...numbered("redis", 3, ["cache"]),
    ...numbered("mq", 3, ["queue"]),
    ...numbered("mon", 2, ["monitoring"]),
    ...numbered("dev", 2, ["dev"]),
];

export const MESH60_OPERATORS = [
    ...numbered("ops", 4, ["admin"]),
    { name: "oncall", tags: ["oncall"], management: false },
];

export const MESH60_CLIENTS = [
    ...numbered("staff", 8, ["staff"]),
    ...numbered("partner", 4, ["partner"]),
    ...numbered("contractor", 2, ["contractor"]),
];

export const MESH60_RULES: PolicyRule[] = [
    { from: "tag:staff", to: "tag:edge", ports: ["tcp/443"] },
    { from: "tag:partner", to: "gw-3", ports: ["tcp/8443"] },
    { from: "tag:edge", to: "tag:web", ports: ["tcp/8080"] },
    { from: "tag:web", to: "tag:api", ports: ["tcp/9000"] },
    { from: "tag:web", to: "tag:cache", ports: ["tcp/6379"] },
    { from: "tag:api", to: "tag:db", ports: ["tcp/5432"] },
    { from: "tag:api", to: "tag:cache", ports: ["tcp/6379"] },
    { from: "tag:api", to: "tag:queue", ports: ["tcp/5672"] },
    { from: "tag:api", to: "gw-1", ports: ["tcp/3128"] },
    { from: "tag:worker", to: "tag:queue", ports: ["tcp/5672"] },
    { from: "tag:worker", to: "tag:db", ports: ["tcp/5432"] },
    { from: "tag:db", to: "tag:db", ports: ["tcp/5432"] },
    { from: "tag:queue", to: "tag:queue", ports: ["tcp/4369", "tcp/25672"] },
    { from: "tag:monitoring", to: "*", ports: ["tcp/9100"] },
    { from: "tag:oncall", to: "tag:monitoring", ports: ["tcp/3000"] },
    { from: "api-1", to: "pg-1", ports: ["tcp/6432"] },
    { from: "ops-1", to: "tag:db", ports: ["tcp/5432"] },
];

export function mesh60Plan() {
    return planMesh({ cidr: "10.131.0.0/24", nodes: MESH60_NODES, operators: MESH60_OPERATORS, clients: MESH60_CLIENTS, rules: MESH60_RULES });
}

/** The seeds' report material with the sixty members' policy in place of the seeds'. */
export function mesh60AuditData(): AuditData {
    const policy = policyRows(reportPolicy(mesh60Plan(), MESH60_RULES));
    return { ...seedAuditData(), stack: "prod", ...policy, expect: undefined, measured: undefined };
}
