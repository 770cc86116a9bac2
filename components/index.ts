// Public API of the zerotrust component library.
export * from "./internal-ca";
export * from "./mesh-network";
export * from "./policy";
export { ValidationError } from "./validate";
export { allocateAddresses } from "./addressing";
export { publicKeyOf, clampPrivateKey } from "./wireguard-keys";
