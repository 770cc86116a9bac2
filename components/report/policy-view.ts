// The policy as the report shows it, from a mesh's plan: members with their addresses, the rules
// as written, and the compiled allows grouped by pair. Pure; a program exports it as a stack output.
import { MeshPlan } from "../mesh-plan";
import { PolicyExpectations, PolicyRule, formatPort } from "../policy";
import { ReportAllow, ReportMember } from "./model";

export interface ReportPolicy {
    members: ReportMember[];
    rules: PolicyRule[];
    expect?: PolicyExpectations;
    allowed: ReportAllow[];
}

export function reportPolicy(plan: MeshPlan, rules: PolicyRule[], expect?: PolicyExpectations): ReportPolicy {
    const address = new Map(plan.members.map((m) => [m.name, m.address]));
    const byPair = new Map<string, ReportAllow>();
    for (const a of [...plan.policy.allows, ...plan.policy.clientAllows]) {
        const key = `${a.from}\0${a.to}`;
        const entry = byPair.get(key) ?? { from: a.from, to: a.to, ports: [] };
        entry.ports = [...new Set([...entry.ports, formatPort(a.port)])].sort();
        byPair.set(key, entry);
    }
    return {
        members: plan.policy.members.map((m) => ({ name: m.name, kind: m.kind, tags: [...m.tags], ...(address.has(m.name) ? { address: address.get(m.name) } : {}) })),
        rules: rules.map((r) => ({ ...r, ports: [...r.ports] })),
        ...(expect ? { expect } : {}),
        allowed: [...byPair.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
    };
}
