// The stack entry point: reads the stack's configuration (stacks/Pulumi.<env>.yaml) and builds
// the program. `pulumi up -s dev` runs the seeds' scenario on lab hosts on this machine.
import * as pulumi from "@pulumi/pulumi";
import { KvmPlacementSettings } from "./kvm-placement";
import { ExistingHostSettings, zeroTrustStack } from "./program";

const cfg = new pulumi.Config("zerotrust");
const built = zeroTrustStack(pulumi.getStack(), {
    hostKind: cfg.get("hostKind") ?? "lab",
    meshCidr: cfg.require("meshCidr"),
    labSubnet: cfg.get("labSubnet"),
    sshOverMeshOnly: cfg.getBoolean("sshOverMeshOnly") ?? false,
    rollbackSeconds: cfg.getNumber("rollbackSeconds") ?? 60,
    extraAppServers: cfg.getNumber("extraAppServers") ?? 0,
    bootstrapSshSources: cfg.getObject<string[]>("bootstrapSshSources"),
    hosts: cfg.getObject<Record<string, ExistingHostSettings>>("hosts"),
    sshPrivateKey: cfg.getSecret("sshPrivateKey"),
    sshPublicKey: cfg.get("sshPublicKey"),
    kvm: cfg.getObject<KvmPlacementSettings>("kvm"),
    revokedClients: cfg.getObject<string[]>("revokedClients"),
});

export const hosts = built.hosts;
export const operatorAddress = built.operatorAddress;
export const operatorInterface = built.operatorInterface;
export const labNamespaces = built.labNamespaces;
export const policyMatrix = built.policyMatrix;
export const sshMode = built.sshMode;
