// Public API of the zerotrust component library: what a user's Pulumi program needs, named one by
// one so that nothing internal becomes versioned API. The lab hosts, `verify` and the report are
// subpaths (`@zerotrust/components/lab`, `/verify`, `/report`): the root loads neither the
// Automation API nor the HTML report.

// The components and the args they take.
export { InternalCA, InternalCAArgs, IssuedCertificate, CertificateArgs } from "./internal-ca";
export { MeshNetwork, MeshNetworkArgs, MeshNodeArgs, OperatorPeerArgs, GatewayClientArgs, MeshMember } from "./mesh-network";
export { ZeroTrustNode, ZeroTrustNodeArgs } from "./zero-trust-node";
export { MtlsGateway, MtlsGatewayArgs, ClientCredentials } from "./mtls-gateway";

// What the components pass each other, as plain data: a mesh member (from MeshNetwork.member, or
// another stack's outputs), a CA (InternalCA.data), a concern a gateway prepares for its node.
export { MeshMemberData, PlainMemberData, MemberKeys, membersFromStack } from "./mesh-member";
export { CaData } from "./ca-data";
export { HostConcern } from "./host-concern";

// Hosts the components deploy onto: any machine reachable over SSH, or a VM on a KVM hypervisor.
export { HostConnection, existingHost } from "./hosts/connection";
export { KvmHost, KvmHostArgs, KvmHypervisor } from "./hosts/kvm";

// The policy's types (rules, expectations, what the mesh compiles them to), for typed settings.
export { Protocol, PortRange, PolicyRule, PolicyExpectations, CompiledPolicy, Allow } from "./policy";

// The error every settings check throws: it names the field, the value and the fix.
export { ValidationError } from "./validate";

// Keeping allocations across updates: a stack's own previous output (see README, "Scale").
export { previousStackOutput } from "./previous-output";

// Keys computed outside the engine, for programs that bring their own WireGuard keys.
export { derivePresharedKey } from "./preshared-keys";
export { publicKeyOf, clampPrivateKey } from "./wireguard-keys";

// Addressing and planning as pure functions, for a program that checks a plan before deploying.
export { planMesh } from "./mesh-plan";
export { allocateAddresses } from "./addressing";
