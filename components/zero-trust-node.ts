// ZeroTrustNode: one host of the mesh. Lays down its WireGuard interface, its firewall and its SSH
// settings, then what other components prepared for it (a gateway), one concern at a time, each
// through the apply protocol (remote/driver.ts): payload on stdin, validated by the real tool,
// swapped atomically, applied gently, verified, and confirmed over a new SSH connection or rolled
// back by the host itself. The plan (node/plan.ts) is checked and rendered before anything registers.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { checkPinnedHostKey } from "./hosts/connection";
import { CompiledPolicy } from "./policy";
import { ReleaseProfile } from "./render/releases";
import { CONCERN_PARTS, NODE_TYPE, PAYLOAD_FILES, concernResourceName as part } from "./remote/protocol";
import { checkHost } from "./validate";
import { ZeroTrustNodeArgs } from "./node/args";
import { ChainHost, ConcernChain } from "./node/concern-chain";
import { keyCutoverCommand, keySwitchTime } from "./node/key-cutover";
import { SSH_PORT, planNode } from "./node/plan";

export { ZeroTrustNodeArgs } from "./node/args";

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
    /** The mesh's compiled policy. */
    readonly policy: CompiledPolicy;
    /** The firewall file the host gets (what its `nft -f` loads): what the proof reads at preview. */
    readonly firewallFile: string;
    /** It answers pings from mesh peers. */
    readonly meshPing: boolean;
    /** The host the deployer connects to now: the underlay address, or the mesh address once SSH is mesh-only. */
    readonly managementHost: pulumi.Output<string>;
    /**
     * Mesh-only nodes: stages a change of the node's WireGuard key over its old tunnel, and the node
     * switches a few seconds later by itself. The deployer's own tunnel must take the node's new
     * public key after this and before the node's concerns run (LabOperator's `after`, with the
     * tunnel passed as `runsAfter`: as this component's dependsOn it would hold back the cut-over
     * too, a cycle); the next apply reaches the node through the new key and so confirms it.
     */
    readonly keyCutover?: command.local.Command;
    private readonly chain: ConcernChain;

    /** The last resource of this host's chain: depend on it to run after the node is configured. */
    get configured(): pulumi.Resource {
        return this.chain.tip;
    }

    constructor(name: string, args: ZeroTrustNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        const plan = planNode(args);
        const member = plan.member;
        super(NODE_TYPE, name, {}, opts);
        this.member = member.name;
        this.meshAddress = member.address;
        this.meshAddress6 = member.address6;
        this.meshAddresses = member.addresses;
        this.publicTcpPorts = plan.publicTcpPorts;
        this.release = plan.release;
        this.policy = member.policy;
        this.meshPing = plan.meshPing;
        this.firewallFile = plan.firewall;

        // Checked once known (it reaches ssh's command line and known_hosts file); an IPv6 address comes back canonical.
        const underlayHost = pulumi.output(args.connection.host).apply((h) => checkHost("connection.host", h));
        this.managementHost = plan.meshOnly ? pulumi.output(member.address) : underlayHost;
        const connection = pulumi.all([this.managementHost, args.connection.privateKey, args.connection.hostKey]).apply(([host, privateKey, hostKey]) => ({
            host: checkHost("connection.host", host), port: args.connection.port ?? SSH_PORT, user: plan.user,
            privateKey, hostKey: checkPinnedHostKey("connection.hostKey", hostKey),
            onlyVia: args.connection.onlyVia,
        }));
        const host: ChainHost = {
            connection, managementHost: this.managementHost, release: plan.release.name, rollbackSeconds: plan.rollbackSeconds,
            hostResource: args.connection.ready,
        };
        // One concern at a time per host: each waits for the one before it.
        this.chain = new ConcernChain(this, host, [
            ...(args.connection.ready ? [args.connection.ready] : []),
            // Children do not inherit the component's dependsOn: pass plain resources on to the first command.
            ...[opts?.dependsOn].flat().filter((r): r is pulumi.Resource => pulumi.Resource.isInstance(r)),
            ...(args.runsAfter ?? []),
        ]);

        // Secret whatever the caller passed: it holds the private key and the pre-shared keys.
        const wireguardFiles = pulumi.secret(pulumi.output(member.wireguardConfig)).apply((c) => ({ [PAYLOAD_FILES.wireguard.config]: c }));
        const wireguardVars = { ZT_IFACE: member.interfaceName };
        let keySwitchAt: pulumi.Output<number | undefined> | undefined;
        if (plan.meshOnly) {
            this.keyCutover = keyCutoverCommand(this, part(name, CONCERN_PARTS.keyCutover), member, plan.deployer, wireguardVars, host);
            keySwitchAt = this.keyCutover.stdout.apply(keySwitchTime);
            // First contact: before the mesh exists the only way in is the underlay. This runs once
            // (later WireGuard changes go over the mesh) and is confirmed over the mesh, which
            // proves the tunnel works before the underlay closes.
            this.chain.apply(part(name, CONCERN_PARTS.bootstrap), "wireguard", wireguardFiles, wireguardVars,
                // Nor its command text: an update would re-run it over the underlay, which mesh-only
                // SSH has closed (a new release of the package moving driver.js must not fail here).
                { via: underlayHost, options: { ignoreChanges: ["stdin", "create", "delete"] } });
        }
        this.chain.apply(part(name, CONCERN_PARTS.wireguard), "wireguard", wireguardFiles, wireguardVars, { keySwitchAt });
        this.chain.apply(part(name, CONCERN_PARTS.firewall), "firewall", { [PAYLOAD_FILES.firewall.ruleset]: plan.firewall }, {});
        this.chain.apply(part(name, CONCERN_PARTS.ssh), "ssh", { [PAYLOAD_FILES.ssh.dropIn]: plan.sshd }, {});
        for (const c of plan.prepared) {
            // Once the preparing component's child: the alias keeps an existing stack's resource.
            this.chain.apply(c.name, c.concern, c.files, {}, { crl: c.crl, options: c.ownerUrn ? { aliases: [{ parent: c.ownerUrn }] } : undefined });
        }
        this.registerOutputs({ meshAddress: this.meshAddress, managementHost: this.managementHost });
    }
}
