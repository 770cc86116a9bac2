// The benchmark's program: a MeshNetwork and one ZeroTrustNode per node on existing hosts with
// documentation-range addresses (nothing is deployed: the figures are for preview), as a user grows
// it. Two policies: a star (every app server reaches one database) and a full mesh (every app
// server reaches every other).
import * as pulumi from "@pulumi/pulumi";
import { firewallSpecFor } from "../../components/enforcement";
import { MeshNetwork, MeshNetworkArgs } from "../../components/mesh-network";
import { MeshPlan } from "../../components/mesh-plan";
import { renderFirewall } from "../../components/render/nftables";
import { renderWireGuardConfig } from "../../components/render/wireguard";
import { ZeroTrustNode } from "../../components/zero-trust-node";
import { sshKeyPair } from "../ssh-key-pair";

export type Shape = "star" | "full";

/** RFC 5737 documentation ranges; past 508 hosts they are reused, with a WireGuard port of their own. */
const DOC_RANGES = ["198.51.100.", "203.0.113."];
function docHost(i: number): { host: string; port: number } {
    const slot = i % 508;
    return { host: `${DOC_RANGES[slot % 2]}${1 + Math.floor(slot / 2)}`, port: 51820 + Math.floor(i / 508) };
}

export function meshArgs(shape: Shape, n: number, previousAddresses?: Record<string, string>): MeshNetworkArgs {
    const apps = Array.from({ length: shape === "star" ? n - 1 : n }, (_, i) => `app-${i}`);
    const nodes = [...apps.map((name) => ({ name, tags: ["app"] })), ...(shape === "star" ? [{ name: "db", tags: ["data"] }] : [])];
    return {
        cidr: "10.80.0.0/16",
        nodes: nodes.map((node, i) => ({ ...node, listenPort: docHost(i).port, endpoint: `${docHost(i).host}:${docHost(i).port}` })),
        rules: shape === "star"
            ? [{ from: "tag:app", to: "db", ports: ["tcp/5432"] }]
            : [{ from: "tag:app", to: "tag:app", ports: ["tcp/8080"] }],
        previousAddresses,
    };
}

/** A throwaway deploy key and host key (ed25519): their shape is checked during preview. */
export function benchKeys(): { privateKey: string; hostKey: string } {
    const { privateKey, publicKey } = sshKeyPair();
    return { privateKey, hostKey: publicKey };
}

export function scaleProgram(shape: Shape, n: number, keys: { privateKey: string; hostKey: string }, previousAddresses?: Record<string, string>) {
    const args = meshArgs(shape, n, previousAddresses);
    const mesh = new MeshNetwork("scale", args);
    const privateKey = pulumi.secret(keys.privateKey);
    const nodes = args.nodes.map((node, i) => new ZeroTrustNode(node.name, {
        member: mesh.member(node.name),
        connection: { host: docHost(i).host, privateKey, hostKey: keys.hostKey },
        bootstrapSshSources: ["198.51.100.254"],
    }));
    return { mesh, nodes };
}

/** The firewall a ZeroTrustNode with default settings renders for a member (plain: the same functions). */
export function firewallFor(plan: MeshPlan, member: string): string {
    const addresses = new Map(plan.members.map((m) => [m.name, m.address]));
    return renderFirewall(firewallSpecFor(plan.policy, member, addresses, {
        wgInterface: plan.interfaceName, wgPort: 51820, sshPort: 22, sshBootstrapSources: ["198.51.100.254"],
        meshPing: true, forwardPolicy: "drop", logDrops: true,
    }));
}

/** The member with the most peers: the largest payloads of a mesh are its. */
export function busiestMember(plan: MeshPlan): string {
    return plan.members.reduce((a, b) => (plan.policy.peers[b.name].length > plan.policy.peers[a.name].length ? b : a)).name;
}

/**
 * The wg.conf a member gets, rendered by the same function with placeholder keys (every key is 32
 * bytes in base64, so the size is the deployed one); endpoints as meshArgs gives them.
 */
export function wireGuardConfigFor(plan: MeshPlan, args: MeshNetworkArgs, member: string): string {
    const key = Buffer.alloc(32, 7).toString("base64");
    const endpoints = new Map(args.nodes.map((n) => [n.name, n.endpoint as string]));
    const self = plan.members.find((m) => m.name === member)!;
    return renderWireGuardConfig({
        privateKey: key, addressCidr: `${self.address}/${plan.prefixLength}`, listenPort: self.listenPort, mtu: plan.mtu, behindNat: self.behindNat,
        peers: plan.policy.peers[member].map((p) => {
            const peer = plan.members.find((m) => m.name === p)!;
            return { name: p, publicKey: key, presharedKey: key, address: peer.address, endpoint: endpoints.get(p), behindNat: peer.behindNat };
        }),
    });
}
