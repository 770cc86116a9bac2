// The stack entry point: reads the stack's configuration (Pulumi.yaml's defaults, which are the dev
// stack, and stacks/Pulumi.<env>.yaml) and builds the program. `pulumi up -s dev` runs the seeds'
// scenario on lab hosts on this machine.
import * as pulumi from "@pulumi/pulumi";
import { zeroTrustStack } from "./program";
import { ExistingHostSettings } from "./placements/existing";
import { KvmPlacementSettings } from "./placements/kvm";

const cfg = new pulumi.Config("zerotrust");
// Keys declared with a default in Pulumi.yaml are always set; the others are optional.
const built = zeroTrustStack(pulumi.getStack(), {
    hostKind: cfg.require("hostKind"),
    meshCidr: cfg.require("meshCidr"),
    labSubnet: cfg.require("labSubnet"),
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
    certificateValidityHours: cfg.getNumber("certificateValidityHours"),
    certificateRenewalHours: cfg.getNumber("certificateRenewalHours"),
});

export const hosts = built.hosts;
export const operatorAddress = built.operatorAddress;
export const operatorInterface = built.operatorInterface;
export const labNamespaces = built.labNamespaces;
export const labInterfaces = built.labInterfaces;
export const policyMatrix = built.policyMatrix;
export const gatewayAllowlist = built.gatewayAllowlist;
export const gatewayClients = built.gatewayClients;
export const sshMode = built.sshMode;
