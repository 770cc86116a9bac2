// The policy as the report shows it, from a mesh's plan: members with their addresses, the rules
// as written, and the compiled allows grouped by pair. Pure; a program exports it as a stack output.
// Members and allows are keyed by name ("from -> to" for a pair), not listed: a preview diffs a
// list by position, so one member added would seem to change every entry after it.
import { MeshPlan } from "../mesh-plan";
import { PolicyExpectations, PolicyRule, formatPort } from "../policy";
import { ReportAllow, ReportMember } from "./model";

export interface ReportPolicy {
    /** Each member by name: its kind, tags and mesh address (clients have none). */
    members: Record<string, Omit<ReportMember, "name">>;
    /** As written: a rule has no name, and its place is what errors cite (rules[2]). */
    rules: PolicyRule[];
    expect?: PolicyExpectations;
    /** The ports each pair may open, by "from -> to". */
    allowed: Record<string, string[]>;
}

const PAIR = " -> ";

export function reportPolicy(plan: MeshPlan, rules: PolicyRule[], expect?: PolicyExpectations): ReportPolicy {
    const address = new Map(plan.members.map((m) => [m.name, m.address]));
    const byPair = new Map<string, ReportAllow>();
    for (const a of [...plan.policy.allows, ...plan.policy.clientAllows]) {
        const key = `${a.from}\0${a.to}`;
        const entry = byPair.get(key) ?? { from: a.from, to: a.to, ports: [] };
        entry.ports = [...new Set([...entry.ports, formatPort(a.port)])].sort();
        byPair.set(key, entry);
    }
    const allowed = [...byPair.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
    return {
        members: Object.fromEntries(plan.policy.members.map((m) => [m.name,
            { kind: m.kind, tags: [...m.tags], ...(address.has(m.name) ? { address: address.get(m.name) } : {}) }])),
        rules: rules.map((r) => ({ ...r, ports: [...r.ports] })),
        ...(expect ? { expect } : {}),
        allowed: Object.fromEntries(allowed.map((a) => [`${a.from}${PAIR}${a.to}`, a.ports])),
    };
}

/**
 * The rows a report renders (AuditData's members, rules, expect and allowed) from a ReportPolicy as
 * a stack exported it. Stacks deployed before the outputs were keyed by name exported lists: they
 * are taken as they are.
 */
export function policyRows(p: ReportPolicy | LegacyReportPolicy): { members: ReportMember[]; rules: PolicyRule[]; expect?: PolicyExpectations; allowed: ReportAllow[] } {
    const members = Array.isArray(p.members) ? p.members : Object.entries(p.members).map(([name, m]) => ({ name, ...m }));
    const allowed = Array.isArray(p.allowed) ? p.allowed : Object.entries(p.allowed).map(([pair, ports]) => {
        const [from, to] = pair.split(PAIR);
        return { from, to, ports };
    });
    return { members, rules: p.rules, ...(p.expect ? { expect: p.expect } : {}), allowed };
}

/** What stacks exported as auditPolicy before it was keyed by name. */
export interface LegacyReportPolicy {
    members: ReportMember[];
    rules: PolicyRule[];
    expect?: PolicyExpectations;
    allowed: ReportAllow[];
}
