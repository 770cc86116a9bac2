// What a stack exports for the live proof (`npm run verify`, `npm run report`): the policy's
// members and rules (compiled again there, exactly as the program did), each member's mesh
// addresses, the WireGuard interface, and which nodes answer pings. Pure; plain data.
import { MeshPlan } from "../mesh-plan";
import { CompiledPolicy, PolicyMember, PolicyRule, compilePolicy } from "../policy";

export interface ProofPolicy {
    members: PolicyMember[];
    rules: PolicyRule[];
    addresses: Record<string, { v4: string; v6?: string }>;
    wgInterface: string;
    /** Each configured node, and whether it answers mesh pings. */
    meshPing: Record<string, boolean>;
}

export function proofPolicy(plan: MeshPlan, rules: PolicyRule[], nodes: { member: string; meshPing: boolean }[]): ProofPolicy {
    return {
        members: plan.policy.members.map((m) => ({ name: m.name, tags: [...m.tags], kind: m.kind, management: m.management })),
        rules: rules.map((r) => ({ ...r, ports: [...r.ports] })),
        addresses: Object.fromEntries(plan.members.map((m) => [m.name, { v4: m.address, ...(m.address6 ? { v6: m.address6 } : {}) }])),
        wgInterface: plan.interfaceName,
        meshPing: Object.fromEntries(nodes.map((n) => [n.member, n.meshPing])),
    };
}

export function compiledFrom(p: ProofPolicy): CompiledPolicy {
    return compilePolicy(p.members, p.rules);
}
