// Public API of the zerotrust component library.
export * from "./internal-ca";
export * from "./mesh-network";
export * from "./zero-trust-node";
export * from "./policy";
export { planMesh } from "./mesh-plan";
export { ValidationError } from "./validate";
export { allocateAddresses } from "./addressing";
export { previousStackOutput } from "./previous-output";
export { derivePresharedKey } from "./preshared-keys";
export { publicKeyOf, clampPrivateKey } from "./wireguard-keys";
export { HostConnection, existingHost } from "./hosts/connection";
export { LabHost, LabNetwork, LabOperator } from "./hosts/lab";
export * from "./mtls-gateway";
export { KvmHost, KvmHostArgs, KvmHypervisor } from "./hosts/kvm";
export * from "./verify";
export * from "./report";
