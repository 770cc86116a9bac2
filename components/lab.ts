// `@zerotrust/components/lab`: hosts made of network namespaces on this machine, for trying the
// components out and for tests (they need root and wireguard-tools here).
export { LabNetwork, LabNetworkArgs, LabHost, LabHostArgs, LabOperator, LabOperatorArgs } from "./hosts/lab";
