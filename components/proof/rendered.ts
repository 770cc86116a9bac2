// What the proof reads at preview: each member's WireGuard file as the real renderer writes it.
// Keys are not known at preview (they are made on the first apply), so each member gets a fixed
// stand-in key here and the file's [Peer] sections are mapped back by it; AllowedIPs, the only part
// the proof reads, are the renderer's own. Pure.
import { createHash } from "crypto";
import { wireGuardInterfaceFor } from "../enforcement";
import { MeshPlan } from "../mesh-plan";
import { renderWireGuardConfig } from "../render/wireguard";
import { publicKeyOf } from "../wireguard-keys";
import { PeerEntry, peersOfConfig } from "./wireguard";

function standInPrivateKey(member: string): string {
    const bytes = createHash("sha256").update(`zerotrust proof stand-in key ${member}`).digest();
    bytes[0] &= 248; bytes[31] = (bytes[31] & 127) | 64; // clamped, as a WireGuard key is
    return bytes.toString("base64");
}

/** Each member's peer entries, read back from the WireGuard file the renderer makes for it. */
export function renderedPeerEntries(plan: MeshPlan): Record<string, PeerEntry[]> {
    const privateKeys = new Map(plan.members.map((m) => [m.name, standInPrivateKey(m.name)]));
    const publicKeys = new Map(plan.members.map((m) => [m.name, publicKeyOf(privateKeys.get(m.name)!)]));
    const names = Object.fromEntries([...publicKeys].map(([n, k]) => [k, n]));
    const facts = (name: string) => {
        const m = plan.members.find((x) => x.name === name)!;
        return { name, address: m.address, ...(m.address6 ? { address6: m.address6 } : {}), publicKey: publicKeys.get(name)!, listenPort: m.listenPort, behindNat: m.behindNat };
    };
    const out: Record<string, PeerEntry[]> = {};
    for (const m of plan.members) {
        const peers = plan.policy.peers[m.name].map((p) => ({ ...facts(p), presharedKey: privateKeys.get(p)! }));
        const text = renderWireGuardConfig(wireGuardInterfaceFor(facts(m.name), privateKeys.get(m.name)!, plan.prefixLength, plan.mtu, peers, plan.prefixLength6));
        out[m.name] = peersOfConfig(text, names);
    }
    return out;
}

/** Each member's mesh addresses, as the proof takes them. */
export function planAddresses(plan: MeshPlan): Record<string, { v4: string; v6?: string }> {
    return Object.fromEntries(plan.members.map((m) => [m.name, { v4: m.address, ...(m.address6 ? { v6: m.address6 } : {}) }]));
}
