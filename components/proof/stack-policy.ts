// What a stack exports for the live proof (`npm run verify`, `npm run report`): the policy's
// members and rules (compiled again there, exactly as the program did), each member's mesh
// addresses, the WireGuard interface, and which nodes answer pings. Pure; plain data.
import { MeshPlan } from "../mesh-plan";
import { CompiledPolicy, PolicyMember, PolicyRule, compilePolicy } from "../policy";

/** A member's policy facts; keyed by name in the output, so that a preview shows only members that change. */
export type ProofMember = Omit<PolicyMember, "name">;

export interface ProofPolicy {
    /** By name; a stack deployed before members were keyed exported a list, read as well. */
    members: Record<string, ProofMember> | PolicyMember[];
    rules: PolicyRule[];
    addresses: Record<string, { v4: string; v6?: string }>;
    wgInterface: string;
    /** Each configured node, and whether it answers mesh pings. */
    meshPing: Record<string, boolean>;
}

export function proofPolicy(plan: MeshPlan, rules: PolicyRule[], nodes: { member: string; meshPing: boolean }[]): ProofPolicy {
    return {
        members: Object.fromEntries(plan.policy.members.map((m) => [m.name, { tags: [...m.tags], kind: m.kind, management: m.management }])),
        rules: rules.map((r) => ({ ...r, ports: [...r.ports] })),
        addresses: Object.fromEntries(plan.members.map((m) => [m.name, { v4: m.address, ...(m.address6 ? { v6: m.address6 } : {}) }])),
        wgInterface: plan.interfaceName,
        meshPing: Object.fromEntries(nodes.map((n) => [n.member, n.meshPing])),
    };
}

export function compiledFrom(p: ProofPolicy): CompiledPolicy {
    const members = Array.isArray(p.members) ? p.members : Object.entries(p.members).map(([name, m]) => ({ name, ...m }));
    return compilePolicy(members, p.rules);
}
