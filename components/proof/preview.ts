// The proof at preview: from the files the stack renders (each node's firewall, loaded by the real
// nft into a scratch namespace and listed back; each member's WireGuard file), before anything is
// applied. Where nft or namespaces cannot be had it says so and proves nothing.
import { MeshPlan } from "../mesh-plan";
import { planAddresses, renderedPeerEntries } from "./rendered";
import { readNftTable } from "./ruleset";
import { SYSTEM_NFT, listInScratchNamespace, scratchUnavailable } from "./scratch";
import { ProofResult, proveMesh } from "./prove";

export interface RenderedNode {
    /** The firewall file the node gets (what `nft -f` loads on it). */
    firewallFile: string;
    meshPing: boolean;
}

export type PreviewProof = { ran: true; result: ProofResult } | { ran: false; reason: string };

export function proveRendered(plan: MeshPlan, nodes: Record<string, RenderedNode>, nft = SYSTEM_NFT): PreviewProof {
    const unavailable = scratchUnavailable(nft);
    if (unavailable) return { ran: false, reason: unavailable };
    const listed = listInScratchNamespace(Object.fromEntries(Object.entries(nodes).map(([n, r]) => [n, r.firewallFile])), nft);
    const result = proveMesh({
        policy: plan.policy,
        addresses: planAddresses(plan),
        wgInterface: plan.interfaceName,
        firewalls: Object.fromEntries(Object.entries(listed).map(([n, json]) => [n, readNftTable(json)])),
        wireguard: renderedPeerEntries(plan),
        meshPing: Object.fromEntries(Object.entries(nodes).map(([n, r]) => [n, r.meshPing])),
    });
    return { ran: true, result };
}
