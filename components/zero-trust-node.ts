// ZeroTrustNode: one host of the mesh. Lays down its WireGuard interface, its firewall and its SSH
// settings, one concern at a time, each through the apply protocol (remote/driver.ts): payload on
// stdin, validated by the real tool, swapped atomically, applied gently, verified, and confirmed
// over a new SSH connection or rolled back by the host itself.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { existsSync } from "fs";
import { join } from "path";
import { commandPath } from "./assets";
import { firewallSpecFor } from "./enforcement";
import { HostConcern, checkHostConcern } from "./host-concern";
import { HostConnection, checkConnection, checkPinnedHostKey } from "./hosts/connection";
import { MeshMemberData, checkMemberData } from "./mesh-member";
import { CompiledPolicy } from "./policy";
import { renderFirewall } from "./render/nftables";
import { DEFAULT_RELEASE, ReleaseProfile, releaseProfile } from "./render/releases";
import { renderSshdConfig } from "./render/sshd";
import { DriverRequest } from "./remote/driver";
import { CONCERN_PARTS, CUTOVER_FILES, NODE_TYPE, PAYLOAD_FILES, SWITCH_AT, concernResourceName as part } from "./remote/protocol";
import { Concern } from "./remote/script";
import { SshTarget } from "./remote/ssh";
import { ValidationError, checkHost, checkPort, checkPositiveInt, checkSource } from "./validate";

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

const SSH_PORT = 22;
/** Seconds between staging a new WireGuard key and the host switching to it: the staging session ends first. */
const KEY_SWITCH_SECONDS = 3;

/** When a key cut-over's output says the host switches (epoch seconds), or undefined (pure). */
export function keySwitchTime(cutoverStdout: string): number | undefined {
    const m = SWITCH_AT.exec(cutoverStdout);
    return m ? Number(m[1]) : undefined;
}

/**
 * What a concern runs instead of applying when one before it on the host failed in this update
 * (names are checked member and resource names: no quoting issue). It fails too, naming the cause,
 * and keeps its recorded state, so the next `pulumi up` applies it.
 */
export function blockedCommand(resourceName: string, failedBefore: string): string {
    if (!/^[A-Za-z0-9 ._-]+$/.test(resourceName + failedBefore)) throw new Error(`unsafe resource name ${resourceName} / ${failedBefore}`);
    return `echo 'zerotrust: ${resourceName} not applied: ${failedBefore}, which comes before it on this host, failed in this update; ` +
        "run pulumi up again once it applies' >&2; exit 1";
}

/** The release a node renders for: its own setting, else its host's, else the default; the two must agree. */
export function releaseOf(own: string | undefined, host: string | undefined): ReleaseProfile {
    if (own !== undefined && host !== undefined && own !== host) {
        throw new ValidationError("release", own, `the host was made with ${host}; drop the setting or give "${host}"`);
    }
    return releaseProfile(own !== undefined ? "release" : "connection.release", own ?? host ?? DEFAULT_RELEASE);
}

function driverCommand(action: DriverRequest["action"]): string {
    const driver = join(__dirname, "remote", "driver.js");
    if (!existsSync(driver)) throw new Error(`zerotrust: ${driver} is missing; build the package (tsc) before deploying`);
    // Relative to the project directory, so two checkouts store the same command (see commandPath).
    return `node ${commandPath(driver)} ${action}`;
}

export class ZeroTrustNode extends pulumi.ComponentResource {
    readonly member: string;
    readonly meshAddress: string;
    /** Its address in the mesh's IPv6 range, when the mesh has one. */
    readonly meshAddress6?: string;
    /** Every mesh member's address, for concerns that point at other members (gateway upstreams). */
    readonly meshAddresses: Record<string, string>;
    readonly publicTcpPorts: number[];
    /** The release the host runs: what its programs accept (a gateway on it renders for it too). */
    readonly release: ReleaseProfile;
    /** The mesh's compiled policy: what a gateway on this node reads its allowlist from. */
    readonly policy: CompiledPolicy;
    /** The firewall file the host gets (what its `nft -f` loads): what the proof reads at preview. */
    readonly firewallFile: string;
    /** It answers pings from mesh peers. */
    readonly meshPing: boolean;
    /** The host the deployer connects to now: the underlay address, or the mesh address once SSH is mesh-only. */
    readonly managementHost: pulumi.Output<string>;
    /** The last resource of this host's chain: depend on it to run after the node is configured. */
    get configured(): pulumi.Resource {
        return this.last[0];
    }
    private last: pulumi.Resource[];
    private lastNames: (string | undefined)[] = [];
    private connection!: pulumi.Output<Omit<SshTarget, "host"> & { host: string }>;
    private rollbackSeconds!: number;
    /** The host's own creation, when it is a resource (a LabHost, a KvmHost). */
    private hostResource?: pulumi.Resource;
    /**
     * Mesh-only nodes: stages a change of the node's WireGuard key over its old tunnel, and the node
     * switches a few seconds later by itself. The deployer's own tunnel must take the node's new
     * public key after this and before the node's concerns run (LabOperator's `after`, with the
     * tunnel passed as `runsAfter`: as this component's dependsOn it would hold back the cut-over
     * too, a cycle); the next apply reaches the node through the new key and so confirms it.
     */
    readonly keyCutover?: command.local.Command;

    constructor(name: string, args: ZeroTrustNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        const planned = checkMemberData("member", args.member, "node");
        const member = planned.name;
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
        if (deployer && planned.addresses[deployer.name] !== deployer.address) {
            throw new ValidationError("deployerPeer", deployer.name, `is not an operator peer of ${member}'s mesh: pass a member of the same mesh`);
        }
        const user = args.connection.user ?? "root";
        const publicTcpPorts = (args.publicTcpPorts ?? []).map((p, i) => checkPort(`publicTcpPorts[${i}]`, p));
        const release = releaseOf(args.release, args.connection.release);
        const prepared = (args.concerns ?? []).map((c, i) => checkHostConcern(`concerns[${i}]`, c, { member, release: release.name, publicTcpPorts }));
        super(NODE_TYPE, name, {}, opts);
        this.member = member;
        this.meshAddress = planned.address;
        this.meshAddress6 = planned.address6;
        this.meshAddresses = planned.addresses;
        this.publicTcpPorts = publicTcpPorts;
        this.release = release;
        this.policy = planned.policy;

        const addresses6 = planned.addresses6 ? new Map(Object.entries(planned.addresses6)) : undefined;
        this.meshPing = args.meshPing ?? true;
        const firewall = renderFirewall(firewallSpecFor(planned.policy, member, new Map(Object.entries(planned.addresses)), {
            wgInterface: planned.interfaceName,
            wgPort: planned.listenPort ?? 51820,
            sshPort: SSH_PORT,
            sshBootstrapSources: meshOnly ? [] : bootstrap,
            meshPing: this.meshPing,
            forwardPolicy,
            logDrops: args.logDrops ?? true,
            publicTcpPorts,
        }, addresses6));
        this.firewallFile = firewall;
        const sshd = renderSshdConfig({ allowUsers: [user], permitRootLogin: user === "root" ? "prohibit-password" : "no", release });

        // Checked once known (it reaches ssh's command line and known_hosts file); an IPv6 address comes back canonical.
        const underlayHost = pulumi.output(args.connection.host).apply((h) => checkHost("connection.host", h));
        this.managementHost = meshOnly ? pulumi.output(planned.address) : underlayHost;
        const connection = pulumi.all([this.managementHost, args.connection.privateKey, args.connection.hostKey]).apply(([host, privateKey, hostKey]) => ({
            // Outputs are checked here, once known: they reach ssh's command line and known_hosts file.
            host: checkHost("connection.host", host), port: args.connection.port ?? SSH_PORT, user,
            privateKey, hostKey: checkPinnedHostKey("connection.hostKey", hostKey),
            onlyVia: args.connection.onlyVia,
        }));

        this.connection = connection;
        this.rollbackSeconds = rollbackSeconds;
        this.hostResource = args.connection.ready;
        // One concern at a time per host: each waits for the one before it.
        this.last = [
            ...(args.connection.ready ? [args.connection.ready] : []),
            // Children do not inherit the component's dependsOn: pass plain resources on to the first command.
            ...[opts?.dependsOn].flat().filter((r): r is pulumi.Resource => pulumi.Resource.isInstance(r)),
            ...(args.runsAfter ?? []),
        ];
        // Secret whatever the caller passed: it holds the private key and the pre-shared keys.
        const wireguardFiles = pulumi.secret(pulumi.output(planned.wireguardConfig)).apply((c) => ({ [PAYLOAD_FILES.wireguard.config]: c }));
        const wireguardVars = { ZT_IFACE: planned.interfaceName };
        let keySwitchAt: pulumi.Output<number | undefined> | undefined;
        if (meshOnly) {
            this.keyCutover = this.keyCutoverCommand(part(name, CONCERN_PARTS.keyCutover), planned, deployer, wireguardVars);
            keySwitchAt = this.keyCutover.stdout.apply(keySwitchTime);
            // First contact: before the mesh exists the only way in is the underlay. This runs once
            // (later WireGuard changes go over the mesh) and is confirmed over the mesh, which
            // proves the tunnel works before the underlay closes.
            this.applyConcern(part(name, CONCERN_PARTS.bootstrap), "wireguard", wireguardFiles, wireguardVars,
                // Nor its command text: an update would re-run it over the underlay, which mesh-only
                // SSH has closed (a new release of the package moving driver.js must not fail here).
                { via: underlayHost, options: { ignoreChanges: ["stdin", "create", "delete"] } });
        }
        this.applyConcern(part(name, CONCERN_PARTS.wireguard), "wireguard", wireguardFiles, wireguardVars, { keySwitchAt });
        this.applyConcern(part(name, CONCERN_PARTS.firewall), "firewall", { [PAYLOAD_FILES.firewall.ruleset]: firewall }, {});
        this.applyConcern(part(name, CONCERN_PARTS.ssh), "ssh", { [PAYLOAD_FILES.ssh.dropIn]: sshd }, {});
        for (const c of prepared) {
            // Once the preparing component's child: the alias keeps an existing stack's resource.
            this.applyConcern(c.name, c.concern, c.files, {}, { crl: c.crl, options: c.ownerUrn ? { aliases: [{ parent: c.ownerUrn }] } : undefined });
        }
        this.registerOutputs({ meshAddress: this.meshAddress, managementHost: this.managementHost });
    }

    /**
     * Lays down one more concern on this host through the apply protocol, after everything already
     * chained on it. Connects to the management host (or `via`) and confirms on the management host.
     */
    applyConcern(resourceName: string, concern: Concern, files: pulumi.Input<Record<string, string>>, vars: Record<string, string>,
        extra: {
            via?: pulumi.Input<string>; crl?: pulumi.Input<DriverRequest["crl"]>; keySwitchAt?: pulumi.Input<number | undefined>;
            parent?: pulumi.Resource; options?: pulumi.CustomResourceOptions;
        } = {},
    ): command.local.Command {
        const request = pulumi.all([files, this.connection, extra.via ?? this.managementHost, extra.crl, extra.keySwitchAt]).apply(([f, conn, host, crl, keySwitchAt]): string =>
            JSON.stringify({
                action: "apply", concern, vars: { ...vars, ZT_RELEASE: this.release.name }, files: f, connection: { ...conn, host }, confirmHost: conn.host,
                rollbackSeconds: this.rollbackSeconds, crl, keySwitchAt,
            } satisfies DriverRequest));
        // Ordered after the host's previous concern through this input, not dependsOn: a dependsOn on a
        // failed resource makes the SDK drop this registration, and `pulumi up --continue-on-error`
        // would then delete (tear down) this concern. Here it registers, and fails naming the cause.
        const names = [...this.lastNames];
        const previous = this.last.map((r, i) => pulumi.recover(r.urn.apply((): string | undefined => undefined),
            () => names[i] ?? "a resource this host depends on"));
        const create = pulumi.all(previous).apply((failed) => {
            const first = failed.find((f) => f !== undefined);
            return first === undefined ? driverCommand("apply") : blockedCommand(resourceName, first);
        });
        const cmd = new command.local.Command(resourceName, {
            create,
            delete: driverCommand("teardown"),
            stdin: pulumi.secret(request),
            // Nothing secret is printed, but keep the driver's output out of logs all the same.
            logging: "none",
            addPreviousOutputInEnv: false,
        }, {
            parent: extra.parent ?? this, additionalSecretOutputs: ["stdin"],
            // A host removed in the same update takes its configuration with it: no teardown over
            // SSH (its peers may already have dropped it, so the mesh path is gone).
            deletedWith: this.hostResource,
            ...extra.options,
        });
        this.last = [cmd];
        this.lastNames = [resourceName];
        return cmd;
    }

    /**
     * The key cut-over: nothing on creation (a new node starts with its key); on an update, which
     * only a new key (or a new way to reach the host) makes, it stages the key over the tunnel that
     * still works. It is outside the host's chain, so it runs before the deployer's tunnel changes.
     */
    private keyCutoverCommand(resourceName: string, planned: MeshMemberData, deployer: MeshMemberData | undefined,
        vars: Record<string, string>): command.local.Command {
        // Only keys: the cut-over changes (and runs) when one of them does, not with every peer change.
        const privateKey = pulumi.secret(pulumi.output(planned.privateKey));
        // The pair's pre-shared key too: the deployer's tunnel handshakes with it after the switch.
        const deployerPsk = deployer && planned.policy.peers[planned.name].includes(deployer.name)
            ? pulumi.output(planned.operatorPresharedKeys).apply((k) => {
                if (!k[deployer.name]) throw new Error(`member data of ${planned.name} holds no pre-shared key with ${deployer.name}: pass mesh.member("${planned.name}") whole`);
                return k[deployer.name];
            }) : undefined;
        const deployerPeer = deployer
            ? pulumi.all([deployer.publicKey, deployerPsk]).apply(([key, psk]) => `${deployer.address} ${key}${psk ? ` ${psk}` : ""}`) : undefined;
        const request = pulumi.all([privateKey, deployerPeer, this.connection]).apply(([key, peer, conn]): string => JSON.stringify({
            action: "cutover", concern: "wireguard", vars: { ...vars, ZT_SWITCH_SECONDS: KEY_SWITCH_SECONDS },
            files: { [CUTOVER_FILES.key]: key, ...(peer ? { [CUTOVER_FILES.deployerPeer]: peer } : {}) },
            connection: conn, rollbackSeconds: this.rollbackSeconds,
        } satisfies DriverRequest));
        return new command.local.Command(resourceName, {
            create: "echo 'wireguard: nothing to switch, the node starts with this key'",
            update: driverCommand("cutover"),
            stdin: pulumi.secret(request),
            logging: "none",
            addPreviousOutputInEnv: false,
        }, { parent: this, additionalSecretOutputs: ["stdin"], deletedWith: this.hostResource });
    }
}
