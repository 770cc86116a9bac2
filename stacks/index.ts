// The stack entry point: reads the stack's configuration (Pulumi.yaml's defaults, which are the dev
// stack, and stacks/Pulumi.<env>.yaml) and builds the program. `pulumi up -s dev` runs the seeds'
// scenario on lab hosts on this machine. An async program: the checks that need the stack's last
// deployment run before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { previousStackOutput } from "../components/previous-output";
import { proveBeforeApply } from "../components/proof/gate";
import { StackSettings, preflight, zeroTrustStack } from "./program";
import { ExistingHostSettings } from "./placements/existing";
import { KvmPlacementSettings } from "./placements/kvm";

const cfg = new pulumi.Config("zerotrust");
// Keys declared with a default in Pulumi.yaml are always set; the others are optional.
const settings: StackSettings = {
    hostKind: cfg.require("hostKind"),
    meshCidr: cfg.require("meshCidr"),
    labSubnet: cfg.require("labSubnet"),
    labIPv6: cfg.getBoolean("labIPv6"),
    labSubnet6: cfg.get("labSubnet6"),
    ipv6OnlyNodes: cfg.getObject<string[]>("ipv6OnlyNodes"),
    meshCidr6: cfg.get("meshCidr6"),
    sshOverMeshOnly: cfg.requireBoolean("sshOverMeshOnly"),
    rollbackSeconds: cfg.requireNumber("rollbackSeconds"),
    extraAppServers: cfg.requireNumber("extraAppServers"),
    bootstrapSshSources: cfg.getObject<string[]>("bootstrapSshSources"),
    hosts: cfg.getObject<Record<string, ExistingHostSettings>>("hosts"),
    sshPrivateKey: cfg.getSecret("sshPrivateKey"),
    sshPublicKey: cfg.get("sshPublicKey"),
    kvm: cfg.getObject<KvmPlacementSettings>("kvm"),
    revokedClients: cfg.getObject<string[]>("revokedClients"),
    retiredNodes: cfg.getObject<string[]>("retiredNodes"),
    certificateAuthorities: cfg.getObject<string[]>("certificateAuthorities"),
    issuingCa: cfg.get("issuingCa"),
    keyGenerations: cfg.getObject<Record<string, number>>("keyGenerations"),
    releases: cfg.getObject<Record<string, string>>("releases"),
    certificateValidityHours: cfg.getNumber("certificateValidityHours"),
    certificateRenewalHours: cfg.getNumber("certificateRenewalHours"),
};

export = async () => {
    await preflight(settings);
    // The last allocation of mesh addresses, so that no member is ever renumbered (one `read` of
    // this stack's own outputs in every preview).
    const previousAddresses = await previousStackOutput<Record<string, string>>("meshAddresses");
    const previousAddresses6 = settings.meshCidr6 ? await previousStackOutput<Record<string, string>>("meshAddresses6") : undefined;
    const built = zeroTrustStack(pulumi.getStack(), { ...settings, previousAddresses, previousAddresses6 });
    // In the same synchronous step as the build: a difference fails the preview before anything is applied.
    proveBeforeApply(built.mesh.plan, built.nodes);
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
};
