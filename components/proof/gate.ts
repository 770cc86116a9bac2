// The proof as a stack program runs it: right after the nodes are built, synchronously (nothing the
// program registered has been applied yet), it proves the rendered files and throws listing every
// difference, so a preview with a hole fails and `pulumi up`, which previews first, applies nothing.
// Where nft or namespaces cannot be had it warns that no proof was made.
import * as pulumi from "@pulumi/pulumi";
import { MeshPlan } from "../mesh-plan";
import { formatProof, proofHeadline } from "./format";
import { RenderedNode, proveRendered } from "./preview";
import { proofHolds } from "./prove";

export class ProofFailed extends Error {
    constructor(lines: string[]) {
        super(`zerotrust proof: what the rendered files let through differs from the policy; nothing was applied:\n${lines.join("\n")}`);
        this.name = "ProofFailed";
    }
}

/** Proves what the nodes render; throws ProofFailed on any difference. Returns the headline (or why none was made). */
export function proveBeforeApply(plan: MeshPlan, nodes: { member: string; firewallFile: string; meshPing: boolean }[]): string {
    const rendered: Record<string, RenderedNode> = Object.fromEntries(nodes.map((n) => [n.member, { firewallFile: n.firewallFile, meshPing: n.meshPing }]));
    const proof = proveRendered(plan, rendered);
    if (!proof.ran) {
        const text = `zerotrust proof not made at preview: ${proof.reason}`;
        pulumi.log.warn(text);
        return text;
    }
    if (!proofHolds(proof.result)) throw new ProofFailed(formatProof(proof.result));
    const text = `zerotrust proof at preview (rendered files, real nft in a scratch namespace): ${proofHeadline(proof.result)}`;
    pulumi.log.info(text);
    return text;
}
