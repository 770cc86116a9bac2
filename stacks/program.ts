// The zerotrust program as a function of its settings, so that the stack entry point (index.ts)
// and the tests build exactly the same resources. `dev` runs the seeds' scenario on lab hosts on
// this machine; `staging` and `prod` configure existing hosts.
import * as pulumi from "@pulumi/pulumi";
import { LabNetwork, LabOperator, labLayout } from "../components/hosts/lab";
import { InternalCA } from "../components/internal-ca";
import { MeshNetwork } from "../components/mesh-network";
import { MtlsGateway } from "../components/mtls-gateway";
import { allowMatrix, gatewayAllowlist } from "../components/policy";
import { previousStackOutput } from "../components/previous-output";
import { reportPolicy } from "../components/report/policy-view";
import { proveBeforeApply } from "../components/proof/gate";
import { proofPolicy } from "../components/proof/stack-policy";
import { ZeroTrustNode } from "../components/zero-trust-node";
import { placeOnExisting } from "./placements/existing";
import { placeOnKvm } from "./placements/kvm";
import { placeOnLab } from "./placements/lab";
import { ValidationError } from "../components/validate";
import { lastRecordedOutputs } from "../components/certificate-renewal";
import { removedWithoutRetiring } from "../components/removal-check";
import { Placement } from "./placements/placed";
import { SEED_CLIENTS, SEED_EXPECT, SEED_GATEWAY, SEED_OPERATOR, SEED_RULES, ScenarioNode } from "./seed-scenario";
import { CheckedSettings, StackSettings, checkSettings, scenarioNodes } from "./settings";

export {
    StackSettings, checkCertificateAuthorities, checkIpv6OnlyNodes, checkKeyGenerations, checkReleases, checkRetiredNodes, checkSettings, readSettings,
    scenarioNodes,
} from "./settings";

function place(nodes: ScenarioNode[], s: StackSettings, c: CheckedSettings, lab: LabNetwork | undefined): Placement {
    if (lab) return placeOnLab(lab, nodes, s.bootstrapSshSources, c.releases, c.ipv6Only);
    if (s.hostKind === "kvm") {
        return placeOnKvm(nodes, { ...s.kvm!, bootstrapSshSources: s.bootstrapSshSources, sshPrivateKey: s.sshPrivateKey, sshPublicKey: s.sshPublicKey });
    }
    return placeOnExisting(nodes, { ...s, releases: c.releases });
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

/**
 * The stack as index.ts runs it: the settings checked first (within seconds, nothing registered
 * yet), then the checks that need the last deployment, then the last mesh allocation read, then
 * the program; returns the stack's outputs.
 */
export async function stackProgram(stack: string, settings: StackSettings): Promise<Record<string, unknown>> {
    checkSettings(stack, settings);
    await preflight(settings);
    // The last allocation of mesh addresses, so that no member is ever renumbered (one `read` of
    // this stack's own outputs in every preview).
    const previousAddresses = await previousStackOutput<Record<string, string>>("meshAddresses");
    const previousAddresses6 = settings.meshCidr6 ? await previousStackOutput<Record<string, string>>("meshAddresses6") : undefined;
    const built = zeroTrustStack(stack, { ...settings, previousAddresses, previousAddresses6 });
    // In the same synchronous step as the build: a difference fails the preview before anything is applied.
    proveBeforeApply(built.mesh.plan, built.nodes);
    return stackOutputs(built, settings);
}

/** What the stack exports: every list of named things keyed by name, so a preview shows only what changed. */
export function stackOutputs(built: ReturnType<typeof zeroTrustStack>, settings: Pick<StackSettings, "meshCidr6">): Record<string, unknown> {
    return {
        hosts: built.hosts,
        meshAddresses: built.meshAddresses,
        ...(settings.meshCidr6 ? { meshAddresses6: built.meshAddresses6 } : {}),
        operatorAddress: built.operatorAddress,
        operatorInterface: built.operatorInterface,
        labNamespaces: built.labNamespaces,
        labInterfaces: built.labInterfaces,
        policyMatrix: built.policyMatrix,
        auditPolicy: built.auditPolicy,
        proofPolicy: built.proofPolicy,
        gatewayEndpoint: built.gatewayEndpoint,
        gatewayAllowlist: built.gatewayAllowlist,
        gatewayClients: built.gatewayClients,
        sshMode: built.sshMode,
    };
}

export function zeroTrustStack(stack: string, s: StackSettings) {
    const checked = checkSettings(stack, s);
    const { nodes, retired, keyGenerations, ipv6Only } = checked;
    const lab = s.hostKind === "lab" ? new LabNetwork(stack, {
        subnet: s.labSubnet, alsoUnrouted: [s.meshCidr, ...(s.meshCidr6 ? [s.meshCidr6] : [])], ...(s.labIPv6 ? { ipv6: true } : {}), ...(s.labSubnet6 ? { subnet6: s.labSubnet6 } : {}),
    }) : undefined;
    const { placed, bootstrapSshSources } = place(nodes, s, checked, lab);

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
    const operator = lab ? new LabOperator("operator", { network: lab, member: mesh.member(SEED_OPERATOR), after: cutovers }) : undefined;

    // The gateway prepares its certificates and files; its node lays them down (its `concerns`).
    const cas = checked.cas;
    const authorities = Object.fromEntries(cas.names.map((n) => [n, new InternalCA(n, { commonName: `zerotrust ${n} root CA` })]));
    const ca = authorities[cas.issuing];
    const gatewayUnderlay = placed[SEED_GATEWAY.node].underlay;
    const gatewayUnderlay6 = placed[SEED_GATEWAY.node].underlay6;
    const gatewayServerName = `${SEED_GATEWAY.node}.${stack}.zerotrust.internal`;
    const gateway = new MtlsGateway(SEED_GATEWAY.node, {
        member: mesh.member(SEED_GATEWAY.node),
        release: placed[SEED_GATEWAY.node].connection.release,
        ca: ca.data(),
        trustedCas: cas.names.filter((n) => n !== cas.issuing).map((n) => authorities[n].data()),
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

    // A retired node stays placed and in the mesh, but has no ZeroTrustNode: this update removes its
    // configuration, over the mesh its peers still give it.
    let configured: (ZeroTrustNode | undefined)[] = [];
    try {
        configured = nodes.map((n) => retired.has(n.name) ? undefined : new ZeroTrustNode(n.name, {
            member: mesh.member(n.name),
            connection: placed[n.name].connection,
            sshOverMeshOnly: s.sshOverMeshOnly,
            bootstrapSshSources,
            rollbackSeconds: s.rollbackSeconds,
            publicTcpPorts: n.name === SEED_GATEWAY.node ? [SEED_GATEWAY.port] : [],
            concerns: n.name === SEED_GATEWAY.node ? [gateway.concern] : [],
            // Not the component's dependsOn: its children (the key cut-over) would wait for the tunnel too.
            runsAfter: operator ? [operator.tunnel] : [],
            // The deployer's tunnel is the operator peer's (this machine in the lab): its key rotation cuts over too.
            deployerPeer: mesh.member(SEED_OPERATOR),
        }));
    } finally {
        // Also when a node is refused: the operator's registration must not wait forever.
        cutoversMade(configured.flatMap((n) => n?.keyCutover ? [n.keyCutover] : []));
    }

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
        /** Each lab host's network namespace, by node (empty off the lab). */
        labNamespaces: lab ? Object.fromEntries(nodes.map((n) => [n.name, labLayout(lab.labName).namespaceOf(n.name)])) : {},
        /** This machine's lab interfaces, by role: all lab traffic from here leaves through them (empty off the lab). */
        labInterfaces: lab ? { bridge: lab.bridge, operator: lab.operatorInterface } : {},
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
        /** The clients the policy lets through the gateway, each "admitted" or "revoked" (refused in the handshake). */
        gatewayAllowlist: Object.fromEntries(gatewayAllowlist(mesh.plan.policy, SEED_GATEWAY.node, SEED_GATEWAY.port)
            .map((c) => [c, (s.revokedClients ?? []).includes(c) ? "revoked" : "admitted"])),
        /** Each client's certificate, key, CA chain and PKCS#12 bundle (the keys and bundles are secrets). */
        gatewayClients: gateway.clients,
        sshMode: s.sshOverMeshOnly ? "mesh-only (management peers over the mesh)" : "bootstrap (underlay sources and the mesh)",
    };
}
