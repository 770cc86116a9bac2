// What a ZeroTrustNode takes: plain data (its mesh member, prepared concerns, settings) and the
// connection to its host. Every field is checked by planNode before anything is registered.
import * as pulumi from "@pulumi/pulumi";
import { HostConcern } from "../host-concern";
import { HostConnection } from "../hosts/connection";
import { MeshMemberData } from "../mesh-member";

export interface ZeroTrustNodeArgs {
    /**
     * The node's member of the mesh, as data: what `mesh.member("db")` returns, or the same data
     * from the stack that owns the mesh (the node need not live in the mesh's program).
     */
    member: MeshMemberData;
    /** How to reach the host while bootstrapping (underlay). */
    connection: HostConnection;
    /**
     * The host's release, as ID-VERSION_ID of its /etc/os-release: "debian-11", "debian-12" or
     * "debian-13". Every file the host gets is rendered for it, so the preview shows them exactly,
     * and the host refuses an apply if it runs another release. Default: "debian-12".
     */
    release?: string;
    /**
     * The switch that closes SSH on the underlay: false while bootstrapping (SSH from
     * bootstrapSshSources and the mesh), true afterwards (SSH only from management peers over the
     * mesh, and the deployer connects over the mesh too). Default: false.
     */
    sshOverMeshOnly?: boolean;
    /** Underlay sources (IPv4 or IPv6 addresses or CIDRs) that may SSH while bootstrapping. Default: none. */
    bootstrapSshSources?: string[];
    /** Seconds a change has to be confirmed over a new connection before the host rolls back. Default: 60. */
    rollbackSeconds?: number;
    /** "drop" (default) or "accept" for hypervisors that route for their guests. */
    forwardPolicy?: string;
    /** Log dropped packets, rate-limited. Default: true. */
    logDrops?: boolean;
    /** Answer pings from mesh peers. Default: true. */
    meshPing?: boolean;
    /** TCP ports open to everyone on the underlay, over IPv4 and IPv6 (an MtlsGateway's listen port). Default: none. */
    publicTcpPorts?: number[];
    /**
     * Concerns other components prepared for this host (an MtlsGateway's `concern`), laid down in
     * this order after the node's own, through the same apply protocol. Default: none.
     */
    concerns?: HostConcern[];
    /**
     * What the host's concerns wait for: the deployer's own WireGuard tunnel, when the program makes
     * it (a LabOperator's). Unlike the component's dependsOn, this leaves the key cut-over free to run
     * before them, as it must (the tunnel depends on it in turn). Default: none.
     */
    runsAfter?: pulumi.Resource[];
    /**
     * The operator peer the deployer's own tunnel is (mesh-only nodes), as data (`mesh.member(name)`):
     * when its key rotates, the node's peer entry for it switches in the same cut-over as a key of the
     * node's own. Without it, rotating that peer's key while SSH is mesh-only would cut the deployer
     * off. Default: none.
     */
    deployerPeer?: MeshMemberData;
}
