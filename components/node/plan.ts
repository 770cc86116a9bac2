// A node's plan, before anything is registered (pure): every setting checked, naming the field and
// the fix, and the files its own concerns lay down rendered for its release, so that the preview
// shows them exactly and bad input leaves no resource behind.
import { firewallSpecFor } from "../enforcement";
import { HostConcern, checkHostConcern } from "../host-concern";
import { checkConnection } from "../hosts/connection";
import { MeshMemberData, checkMemberData } from "../mesh-member";
import { renderFirewall } from "../render/nftables";
import { DEFAULT_RELEASE, ReleaseProfile, releaseProfile } from "../render/releases";
import { renderSshdConfig } from "../render/sshd";
import { Concern } from "../remote/script";
import { ValidationError, checkPort, checkPositiveInt, checkSource } from "../validate";
import { ZeroTrustNodeArgs } from "./args";

export const SSH_PORT = 22;

export interface NodePlan {
    member: MeshMemberData;
    /** The deployer's own operator peer (mesh-only nodes switch their entry for it in a key cut-over). */
    deployer?: MeshMemberData;
    meshOnly: boolean;
    rollbackSeconds: number;
    user: string;
    publicTcpPorts: number[];
    release: ReleaseProfile;
    meshPing: boolean;
    /** What other components prepared for this host, checked against it. */
    prepared: (HostConcern & { concern: Concern })[];
    /** The firewall file (what `nft -f` loads) and the sshd drop-in. */
    firewall: string;
    sshd: string;
}

/** The release a node renders for: its own setting, else its host's, else the default; the two must agree. */
export function releaseOf(own: string | undefined, host: string | undefined): ReleaseProfile {
    if (own !== undefined && host !== undefined && own !== host) {
        throw new ValidationError("release", own, `the host was made with ${host}; drop the setting or give "${host}"`);
    }
    return releaseProfile(own !== undefined ? "release" : "connection.release", own ?? host ?? DEFAULT_RELEASE);
}

export function planNode(args: ZeroTrustNodeArgs): NodePlan {
    const member = checkMemberData("member", args.member, "node");
    const meshOnly = args.sshOverMeshOnly ?? false;
    const bootstrap = (args.bootstrapSshSources ?? []).map((s, i) => checkSource(`bootstrapSshSources[${i}]`, s));
    if (!meshOnly && bootstrap.length === 0) {
        throw new ValidationError("bootstrapSshSources", [], "is empty while sshOverMeshOnly is false, so the deployer could not " +
            "reach the host once its firewall is up; give the deployer's underlay address, or set sshOverMeshOnly");
    }
    const rollbackSeconds = checkPositiveInt("rollbackSeconds", args.rollbackSeconds ?? 60, 3600);
    const forwardPolicy = args.forwardPolicy ?? "drop";
    if (forwardPolicy !== "drop" && forwardPolicy !== "accept") {
        throw new ValidationError("forwardPolicy", forwardPolicy, "use \"drop\" or \"accept\"");
    }
    checkConnection("connection", args.connection);
    const deployer = args.deployerPeer === undefined ? undefined : checkMemberData("deployerPeer", args.deployerPeer, "operator");
    if (deployer && member.addresses[deployer.name] !== deployer.address) {
        throw new ValidationError("deployerPeer", deployer.name, `is not an operator peer of ${member.name}'s mesh: pass a member of the same mesh`);
    }
    const user = args.connection.user ?? "root";
    const publicTcpPorts = (args.publicTcpPorts ?? []).map((p, i) => checkPort(`publicTcpPorts[${i}]`, p));
    const release = releaseOf(args.release, args.connection.release);
    const prepared = (args.concerns ?? []).map((c, i) => checkHostConcern(`concerns[${i}]`, c, { member: member.name, release: release.name, publicTcpPorts }));
    const meshPing = args.meshPing ?? true;
    const addresses6 = member.addresses6 ? new Map(Object.entries(member.addresses6)) : undefined;
    const firewall = renderFirewall(firewallSpecFor(member.policy, member.name, new Map(Object.entries(member.addresses)), {
        wgInterface: member.interfaceName,
        wgPort: member.listenPort ?? 51820,
        sshPort: SSH_PORT,
        sshBootstrapSources: meshOnly ? [] : bootstrap,
        meshPing,
        forwardPolicy,
        logDrops: args.logDrops ?? true,
        publicTcpPorts,
    }, addresses6));
    const sshd = renderSshdConfig({ allowUsers: [user], permitRootLogin: user === "root" ? "prohibit-password" : "no", release });
    return { member, deployer, meshOnly, rollbackSeconds, user, publicTcpPorts, release, meshPing, prepared, firewall, sshd };
}
