// ZeroTrustNode: one host of the mesh. Lays down its WireGuard interface, its firewall and its SSH
// settings, one concern at a time, each through the apply protocol (remote/driver.ts): payload on
// stdin, validated by the real tool, swapped atomically, applied gently, verified, and confirmed
// over a new SSH connection or rolled back by the host itself.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { existsSync } from "fs";
import { join } from "path";
import { firewallSpecFor } from "./enforcement";
import { HostConnection } from "./hosts/connection";
import { MeshNetwork } from "./mesh-network";
import { renderFirewall } from "./render/nftables";
import { renderSshdConfig } from "./render/sshd";
import { DriverRequest } from "./remote/driver";
import { Concern } from "./remote/script";
import { ValidationError, checkIPv4, checkPositiveInt, checkUserName, parseCidr } from "./validate";

export interface ZeroTrustNodeArgs {
    /** The mesh this node belongs to. */
    mesh: MeshNetwork;
    /** The node's member name in the mesh. Default: the resource name. */
    member?: string;
    /** How to reach the host while bootstrapping (underlay). */
    connection: HostConnection;
    /**
     * The switch that closes SSH on the underlay: false while bootstrapping (SSH from
     * bootstrapSshSources and the mesh), true afterwards (SSH only from management peers over the
     * mesh, and the deployer connects over the mesh too). Default: false.
     */
    sshOverMeshOnly?: boolean;
    /** Underlay sources (IPv4 addresses or CIDRs) that may SSH while bootstrapping. Default: none. */
    bootstrapSshSources?: string[];
    /** Seconds a change has to be confirmed over a new connection before the host rolls back. Default: 60. */
    rollbackSeconds?: number;
    /** "drop" (default) or "accept" for hypervisors that route for their guests. */
    forwardPolicy?: string;
    /** Log dropped packets, rate-limited. Default: true. */
    logDrops?: boolean;
    /** Answer pings from mesh peers. Default: true. */
    meshPing?: boolean;
}

const SSH_PORT = 22;

function driverCommand(action: "apply" | "teardown"): string {
    const driver = join(__dirname, "remote", "driver.js");
    if (!existsSync(driver)) throw new Error(`zerotrust: ${driver} is missing; build the package (tsc) before deploying`);
    return `node ${driver} ${action}`;
}

export class ZeroTrustNode extends pulumi.ComponentResource {
    readonly member: string;
    readonly meshAddress: string;
    /** The host the deployer connects to now: the underlay address, or the mesh address once SSH is mesh-only. */
    readonly managementHost: pulumi.Output<string>;
    /** The last resource of this host's chain: depend on it to run after the node is configured. */
    readonly configured: pulumi.Resource;

    constructor(name: string, args: ZeroTrustNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        const member = args.member ?? name;
        const planned = args.mesh.members[member];
        if (!planned || planned.kind !== "node") {
            throw new ValidationError("member", member, "must name a node of the mesh (operator peers are not hosts)");
        }
        const meshOnly = args.sshOverMeshOnly ?? false;
        const bootstrap = (args.bootstrapSshSources ?? []).map((s, i) =>
            s.includes("/") ? parseCidr(`bootstrapSshSources[${i}]`, s).text : checkIPv4(`bootstrapSshSources[${i}]`, s));
        if (!meshOnly && bootstrap.length === 0) {
            throw new ValidationError("bootstrapSshSources", [], "is empty while sshOverMeshOnly is false, so the deployer could not " +
                "reach the host once its firewall is up; give the deployer's underlay address, or set sshOverMeshOnly");
        }
        const rollbackSeconds = checkPositiveInt("rollbackSeconds", args.rollbackSeconds ?? 60, 3600);
        const forwardPolicy = args.forwardPolicy ?? "drop";
        if (forwardPolicy !== "drop" && forwardPolicy !== "accept") {
            throw new ValidationError("forwardPolicy", forwardPolicy, "use \"drop\" or \"accept\"");
        }
        const user = checkUserName("connection.user", args.connection.user ?? "root");
        super("zerotrust:index:ZeroTrustNode", name, {}, opts);
        this.member = member;
        this.meshAddress = planned.address;
        const mesh = args.mesh;
        const plan = mesh.plan;

        const firewall = renderFirewall(firewallSpecFor(plan.policy, member, new Map(Object.entries(mesh.addresses)), {
            wgInterface: plan.interfaceName,
            wgPort: planned.listenPort ?? 51820,
            sshPort: SSH_PORT,
            sshBootstrapSources: meshOnly ? [] : bootstrap,
            meshPing: args.meshPing ?? true,
            forwardPolicy,
            logDrops: args.logDrops ?? true,
        }));
        const sshd = renderSshdConfig({ allowUsers: [user], permitRootLogin: user === "root" ? "prohibit-password" : "no" });

        this.managementHost = meshOnly ? pulumi.output(planned.address) : pulumi.output(args.connection.host);
        const connection = pulumi.all([this.managementHost, args.connection.privateKey, args.connection.hostKey]).apply(([host, privateKey, hostKey]) => ({
            host, port: args.connection.port ?? SSH_PORT, user, privateKey, hostKey,
        }));

        // One concern at a time per host: each waits for the one before it.
        let previous: pulumi.Resource[] = [
            ...(args.connection.ready ? [args.connection.ready] : []),
            // Children do not inherit the component's dependsOn: pass plain resources on to the first command.
            ...[opts?.dependsOn].flat().filter((r): r is pulumi.Resource => pulumi.Resource.isInstance(r)),
        ];
        const step = (resourceName: string, concern: Concern, files: pulumi.Input<Record<string, string>>, vars: Record<string, string>,
            via: pulumi.Input<string>, extra: pulumi.CustomResourceOptions = {}) => {
            // Connect via `via`; confirm on the management path, where the deployer must get in afterwards.
            const request = pulumi.all([files, connection, via]).apply(([f, conn, host]): string => JSON.stringify({
                action: "apply", concern, vars, files: f, connection: { ...conn, host }, confirmHost: conn.host, rollbackSeconds,
            } satisfies DriverRequest));
            const cmd = new command.local.Command(resourceName, {
                create: driverCommand("apply"),
                delete: driverCommand("teardown"),
                stdin: pulumi.secret(request),
                // Nothing secret is printed, but keep the driver's output out of logs all the same.
                logging: "none",
                addPreviousOutputInEnv: false,
            }, { parent: this, dependsOn: previous, additionalSecretOutputs: ["stdin"], ...extra });
            previous = [cmd];
        };
        const wireguardFiles = mesh.configOf(member).apply((c) => ({ "wg.conf": c }));
        const wireguardVars = { ZT_IFACE: plan.interfaceName };
        if (meshOnly) {
            // First contact: before the mesh exists the only way in is the underlay. This runs once
            // (later WireGuard changes go over the mesh) and is confirmed over the mesh, which
            // proves the tunnel works before the underlay closes.
            step(`${name}-bootstrap`, "wireguard", wireguardFiles, wireguardVars, args.connection.host, { ignoreChanges: ["stdin"] });
        }
        step(`${name}-wireguard`, "wireguard", wireguardFiles, wireguardVars, this.managementHost);
        step(`${name}-firewall`, "firewall", { "firewall.nft": firewall }, {}, this.managementHost);
        step(`${name}-ssh`, "ssh", { "sshd.conf": sshd }, {}, this.managementHost);
        this.configured = previous[0];
        this.registerOutputs({ meshAddress: this.meshAddress, managementHost: this.managementHost });
    }
}
