// The zerotrust program as a function of its settings, so that the stack entry point (index.ts)
// and the tests build exactly the same resources. `dev` runs the seeds' scenario on lab hosts on
// this machine; `staging` and `prod` configure existing hosts.
import * as pulumi from "@pulumi/pulumi";
import { LabNetwork, LabOperator, labLayout } from "../components/hosts/lab";
import { InternalCA } from "../components/internal-ca";
import { MeshNetwork } from "../components/mesh-network";
import { MtlsGateway } from "../components/mtls-gateway";
import { allowMatrix, gatewayAllowlist } from "../components/policy";
import { reportPolicy } from "../components/report/policy-view";
import { proofPolicy } from "../components/proof/stack-policy";
import { ZeroTrustNode } from "../components/zero-trust-node";
import { ExistingHostSettings, placeOnExisting } from "./placements/existing";
import { KvmPlacementSettings, placeOnKvm } from "./placements/kvm";
import { placeOnLab } from "./placements/lab";
import { ValidationError, checkName, checkUnique } from "../components/validate";
import { lastRecordedOutputs } from "../components/certificate-renewal";
import { removedWithoutRetiring } from "../components/removal-check";
import { Placement } from "./placements/placed";
import { SEED_CLIENTS, SEED_EXPECT, SEED_GATEWAY, SEED_NODES, SEED_OPERATOR, SEED_RULES, ScenarioNode } from "./seed-scenario";

export interface StackSettings {
    hostKind: string;
    meshCidr: string;
    /** An IPv6 range for the mesh beside meshCidr (a ULA /64): every member on both, one policy. Default: none. */
    meshCidr6?: string;
    labSubnet?: string;
    /**
     * Lab only: a dual-stack underlay, each lab host with an IPv6 address too (a ULA /64 derived from
     * the stack's name, or `labSubnet6`); the gateway then listens on IPv6 as well. Default: false.
     */
    labIPv6?: boolean;
    /** Lab only: the dual-stack lab's IPv6 range (a ULA /64, never fd00::/64). Default: derived from the stack's name. */
    labSubnet6?: string;
    /**
     * Nodes whose host has no IPv4 underlay: their WireGuard endpoint and the deployer's SSH are
     * IPv6 (in the lab, labIPv6 is needed). Default: none.
     */
    ipv6OnlyNodes?: string[];
    sshOverMeshOnly: boolean;
    rollbackSeconds: number;
    extraAppServers: number;
    bootstrapSshSources?: string[];
    /** existing hosts only */
    hosts?: Record<string, ExistingHostSettings>;
    sshPrivateKey?: pulumi.Output<string>;
    /** kvm hosts only: where the VMs go (see stacks/Pulumi.prod-kvm.yaml.example). */
    kvm?: KvmPlacementSettings;
    /** kvm hosts only: the deployer's public key, authorized on every VM. */
    sshPublicKey?: string;
    /** Gateway clients whose certificates are revoked. */
    revokedClients?: string[];
    /**
     * Nodes on their way out (step 1 of removing a node): their zerotrust configuration is torn
     * down while their peers still have them, so the teardown can still reach them over the mesh.
     * Step 2 removes the node itself (and drops it from this list). Default: none.
     */
    retiredNodes?: string[];
    /**
     * The mesh addresses the stack allocated last time (its `meshAddresses` output): every member
     * keeps its own, so adding or removing others never renumbers it. Default: none (first deployment).
     */
    previousAddresses?: Record<string, string>;
    /** The same for the IPv6 mesh range (its `meshAddresses6` output). Default: none. */
    previousAddresses6?: Record<string, string>;
    /**
     * The CAs the gateway trusts, by name (a CA rollover lists two for a while; see the README).
     * Default: one CA named after the stack.
     */
    certificateAuthorities?: string[];
    /** The CA that issues the gateway's server and client certificates. Default: the first of certificateAuthorities. */
    issuingCa?: string;
    /**
     * WireGuard key generation per node, and of the operator peer ("operator"): raise one to rotate
     * that key (`pulumi config set --path 'zerotrust:keyGenerations.app-1' 2`). Default: 1 for each.
     */
    keyGenerations?: Record<string, number>;
    /**
     * The release each node's host runs, by node name ("debian-11", "debian-12", "debian-13"). In
     * the lab it roots that host in the release's own file tree (a release lab); on existing hosts
     * it says what they run. Default: this machine's release in the lab, "debian-12" elsewhere.
     */
    releases?: Record<string, string>;
    /** Lifetime of the gateway's server and client certificates, in hours. Default: 2160 (90 days). */
    certificateValidityHours?: number;
    /** Reissue them on the first deployment this many hours before expiry. Default: 720 (30 days). */
    certificateRenewalHours?: number;
}

/** The CA names and the issuing one, checked (pure). */
export function checkCertificateAuthorities(stack: string, names: string[] | undefined, issuing: string | undefined): { names: string[]; issuing: string } {
    const list = names ?? [stack];
    if (list.length === 0) throw new ValidationError("certificateAuthorities", [], "needs at least one CA name");
    list.forEach((n, i) => checkName(`certificateAuthorities[${i}]`, n));
    checkUnique("certificateAuthorities", list, "CA");
    const chosen = issuing ?? list[0];
    if (!list.includes(chosen)) {
        throw new ValidationError("issuingCa", chosen, `is not one of certificateAuthorities (${list.join(", ")}): a CA must be trusted to issue`);
    }
    return { names: list, issuing: chosen };
}

/** The retired nodes, checked against the scenario (pure). */
export function checkRetiredNodes(retired: string[], nodes: ScenarioNode[], gatewayNode: string): Set<string> {
    retired.forEach((name, i) => {
        if (!nodes.some((n) => n.name === name)) {
            throw new ValidationError(`retiredNodes[${i}]`, name, "names no node of the stack: once a node is removed, drop it from retiredNodes too");
        }
        if (name === gatewayNode) throw new ValidationError(`retiredNodes[${i}]`, name, "runs the mTLS gateway, which needs its host configured");
    });
    return new Set(retired);
}

/** The key generations, checked against the scenario's members (pure); the values are checked by the mesh. */
export function checkKeyGenerations(generations: Record<string, number>, nodes: ScenarioNode[], operator: string): Record<string, number> {
    if (typeof generations !== "object" || generations === null || Array.isArray(generations)) {
        throw new ValidationError("keyGenerations", generations, "expected a generation per node name, e.g. {\"app-1\": 2}");
    }
    for (const name of Object.keys(generations)) {
        if (name !== operator && !nodes.some((n) => n.name === name)) {
            throw new ValidationError(`keyGenerations.${name}`, generations[name], `names neither a node of the stack nor its operator peer (${operator})`);
        }
    }
    return generations;
}

/** The per-node releases, checked against the scenario's nodes (pure); the values are checked by the hosts and nodes. */
export function checkReleases(releases: Record<string, string>, nodes: ScenarioNode[]): Record<string, string> {
    if (typeof releases !== "object" || releases === null || Array.isArray(releases)) {
        throw new ValidationError("releases", releases, "expected a release per node name, e.g. {\"db\": \"debian-11\"}");
    }
    for (const name of Object.keys(releases)) {
        if (!nodes.some((n) => n.name === name)) throw new ValidationError(`releases.${name}`, releases[name], "names no node of the stack");
    }
    return releases;
}

/** The IPv6-only nodes, checked against the scenario (pure). */
export function checkIpv6OnlyNodes(names: string[], nodes: ScenarioNode[], s: Pick<StackSettings, "hostKind" | "labIPv6" | "labSubnet6">): string[] {
    if (!Array.isArray(names)) throw new ValidationError("ipv6OnlyNodes", names, "expected a list of node names, e.g. [\"db\"]");
    names.forEach((name, i) => {
        if (!nodes.some((n) => n.name === name)) throw new ValidationError(`ipv6OnlyNodes[${i}]`, name, "names no node of the stack");
        if (s.hostKind === "lab" && !s.labIPv6 && s.labSubnet6 === undefined) {
            throw new ValidationError(`ipv6OnlyNodes[${i}]`, name, "the lab has no IPv6 underlay: set labIPv6 to true");
        }
    });
    return names;
}

function place(nodes: ScenarioNode[], s: StackSettings, lab: LabNetwork | undefined): Placement {
    const releases = checkReleases(s.releases ?? {}, nodes);
    if (lab) return placeOnLab(lab, nodes, s.bootstrapSshSources, releases, checkIpv6OnlyNodes(s.ipv6OnlyNodes ?? [], nodes, s));
    if (s.hostKind === "kvm") {
        if (!s.kvm) throw new Error("zerotrust:kvm is not set: hostKind kvm needs { image, bridge, subnet } (see stacks/Pulumi.prod-kvm.yaml.example)");
        return placeOnKvm(nodes, { ...s.kvm, bootstrapSshSources: s.bootstrapSshSources, sshPrivateKey: s.sshPrivateKey, sshPublicKey: s.sshPublicKey });
    }
    if (s.hostKind === "existing") return placeOnExisting(nodes, { ...s, releases });
    throw new Error(`zerotrust:hostKind: ${JSON.stringify(s.hostKind)} is not valid: use "lab", "kvm" or "existing"`);
}

/** The scenario's nodes: the seeds' and the extra app servers (pure). */
export function scenarioNodes(s: Pick<StackSettings, "extraAppServers">): ScenarioNode[] {
    // More app servers on request: the scenario grows without renumbering anyone.
    const extraApps: ScenarioNode[] = Array.from({ length: s.extraAppServers }, (_, i) => ({ name: `app-${i + 3}`, tags: ["app"] }));
    return [...SEED_NODES, ...extraApps];
}

/**
 * Checks that need the stack's last deployment, made before any resource is registered (so a
 * refusal changes nothing, even under --continue-on-error). On existing hosts, which are not
 * resources of the stack, nothing takes a node's configuration with it: a node configured at the
 * last deployment and gone now must have been retired first.
 */
export async function preflight(s: StackSettings): Promise<void> {
    if (s.hostKind !== "existing") return;
    const skipped = removedWithoutRetiring(Object.keys(await lastRecordedOutputs()), scenarioNodes(s).map((n) => n.name));
    if (skipped.length > 0) {
        throw new ValidationError("nodes", skipped, "were removed without being retired first: their teardown would have to reach them over " +
            "the mesh their peers drop in this same update. Keep them in the stack, list them in retiredNodes: " +
            `${JSON.stringify(skipped)}, run pulumi up, then remove them (README, "Day-2 operations")`);
    }
}

export function zeroTrustStack(stack: string, s: StackSettings) {
    const nodes = scenarioNodes(s);
    const retired = checkRetiredNodes(s.retiredNodes ?? [], nodes, SEED_GATEWAY.node);
    const keyGenerations = checkKeyGenerations(s.keyGenerations ?? {}, nodes, SEED_OPERATOR);
    const ipv6Only = checkIpv6OnlyNodes(s.ipv6OnlyNodes ?? [], nodes, s);
    const lab = s.hostKind === "lab" ? new LabNetwork(stack, {
        subnet: s.labSubnet, alsoUnrouted: [s.meshCidr, ...(s.meshCidr6 ? [s.meshCidr6] : [])], ...(s.labIPv6 ? { ipv6: true } : {}), ...(s.labSubnet6 ? { subnet6: s.labSubnet6 } : {}),
    }) : undefined;
    const { placed, bootstrapSshSources } = place(nodes, s, lab);

    const mesh = new MeshNetwork(stack, {
        cidr: s.meshCidr,
        ...(s.meshCidr6 ? { cidr6: s.meshCidr6, previousAddresses6: s.previousAddresses6 } : {}),
        nodes: nodes.map((n) => ({
            ...n, endpoint: placed[n.name].endpoint, keyGeneration: keyGenerations[n.name],
            // Only where set: an IPv4-only stack's mesh arguments stay as they were.
            ...(placed[n.name].ipv6Endpoint ? { ipv6Endpoint: placed[n.name].ipv6Endpoint } : {}),
            ...(ipv6Only.includes(n.name) ? { ipv6Only: true } : {}),
        })),
        operators: [{ name: SEED_OPERATOR, tags: ["admin"], keyGeneration: keyGenerations[SEED_OPERATOR] }],
        clients: SEED_CLIENTS,
        rules: SEED_RULES,
        expect: SEED_EXPECT,
        previousAddresses: s.previousAddresses,
    });

    // In the lab this machine is the operator peer; once SSH is mesh-only, it deploys over the mesh,
    // and its tunnel changes only after every node's key cut-over has been staged over it.
    let cutoversMade: (cutovers: pulumi.Resource[]) => void = () => undefined;
    const cutovers = new Promise<pulumi.Resource[]>((resolve) => { cutoversMade = resolve; });
    const operator = lab ? new LabOperator("operator", { network: lab, mesh, member: SEED_OPERATOR, after: cutovers }) : undefined;

    // A retired node stays placed and in the mesh, but has no ZeroTrustNode: this update removes its
    // configuration, over the mesh its peers still give it.
    let configured: (ZeroTrustNode | undefined)[] = [];
    try {
        configured = nodes.map((n) => retired.has(n.name) ? undefined : new ZeroTrustNode(n.name, {
            mesh,
            connection: placed[n.name].connection,
            sshOverMeshOnly: s.sshOverMeshOnly,
            bootstrapSshSources,
            rollbackSeconds: s.rollbackSeconds,
            publicTcpPorts: n.name === SEED_GATEWAY.node ? [SEED_GATEWAY.port] : [],
            // Not the component's dependsOn: its children (the key cut-over) would wait for the tunnel too.
            runsAfter: operator ? [operator.tunnel] : [],
            // The deployer's tunnel is the operator peer's (this machine in the lab): its key rotation cuts over too.
            deployerPeer: SEED_OPERATOR,
        }));
    } finally {
        // Also when a node is refused: the operator's registration must not wait forever.
        cutoversMade(configured.flatMap((n) => n?.keyCutover ? [n.keyCutover] : []));
    }

    const cas = checkCertificateAuthorities(stack, s.certificateAuthorities, s.issuingCa);
    const authorities = Object.fromEntries(cas.names.map((n) => [n, new InternalCA(n, { commonName: `zerotrust ${n} root CA` })]));
    const ca = authorities[cas.issuing];
    const gatewayUnderlay = placed[SEED_GATEWAY.node].underlay;
    const gatewayUnderlay6 = placed[SEED_GATEWAY.node].underlay6;
    const gatewayServerName = `${SEED_GATEWAY.node}.${stack}.zerotrust.internal`;
    const gateway = new MtlsGateway(SEED_GATEWAY.node, {
        node: configured[nodes.findIndex((n) => n.name === SEED_GATEWAY.node)]!,
        ca,
        trustedCas: cas.names.filter((n) => n !== cas.issuing).map((n) => authorities[n]),
        certificateValidityHours: s.certificateValidityHours,
        certificateRenewalHours: s.certificateRenewalHours,
        serverName: gatewayServerName,
        // A dual-stack gateway is on its certificate by both addresses, and listens on both.
        serverAddresses: [...(typeof gatewayUnderlay === "string" ? [gatewayUnderlay] : []), ...(gatewayUnderlay6 && gatewayUnderlay6 !== gatewayUnderlay ? [gatewayUnderlay6] : [])],
        clients: SEED_GATEWAY.clients,
        revokedClients: s.revokedClients,
        upstreams: SEED_GATEWAY.upstreams,
        listenPort: SEED_GATEWAY.port,
    });

    return {
        mesh,
        ca,
        gateway,
        /** The configured nodes (a retired one has none): what the proof reads at preview. */
        nodes: configured.filter((n): n is ZeroTrustNode => n !== undefined),
        hosts: Object.fromEntries(nodes.map((n, i) => [n.name, {
            underlay: placed[n.name].underlay,
            ...(placed[n.name].underlay6 ? { underlay6: placed[n.name].underlay6 } : {}),
            mesh: mesh.addresses[n.name],
            ...(mesh.addresses6[n.name] ? { mesh6: mesh.addresses6[n.name] } : {}),
            publicKey: mesh.members[n.name].publicKey,
            managedVia: configured[i]?.managementHost ?? "retired: zerotrust configuration removed",
            /** What every file the host gets is rendered for (README, "Host releases"). */
            release: configured[i]?.release.name ?? "retired",
        }])),
        operatorAddress: mesh.addresses[SEED_OPERATOR],
        operatorInterface: operator?.interfaceName,
        labNamespaces: lab ? nodes.map((n) => labLayout(lab.labName).namespaceOf(n.name)) : [],
        labInterfaces: lab?.interfaces ?? [],
        /** Each member's mesh address: the allocation, and what the next deployment keeps. */
        meshAddresses: mesh.addresses,
        /** Each member's IPv6 mesh address, when the mesh has an IPv6 range. */
        meshAddresses6: mesh.addresses6,
        policyMatrix: allowMatrix(mesh.plan.policy),
        /** The policy as written and compiled, for the audit report. */
        auditPolicy: reportPolicy(mesh.plan, SEED_RULES, SEED_EXPECT),
        /** The policy, addresses and ping setting the live proof compares the hosts with (npm run verify, npm run report). */
        proofPolicy: proofPolicy(mesh.plan, SEED_RULES, configured.filter((n): n is ZeroTrustNode => n !== undefined)),
        /** Where the gateway answers, for the scanners of the audit report. */
        gatewayEndpoint: { serverName: gatewayServerName, address: gatewayUnderlay, ...(gatewayUnderlay6 ? { address6: gatewayUnderlay6 } : {}), port: SEED_GATEWAY.port },
        gatewayAllowlist: gatewayAllowlist(mesh.plan.policy, SEED_GATEWAY.node, SEED_GATEWAY.port),
        /** Each client's certificate, key, CA chain and PKCS#12 bundle (the keys and bundles are secrets). */
        gatewayClients: gateway.clients,
        sshMode: s.sshOverMeshOnly ? "mesh-only (management peers over the mesh)" : "bootstrap (underlay sources and the mesh)",
    };
}
