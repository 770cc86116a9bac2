// Removing a node whose host is not a resource of the stack (an existing VPS) takes two updates:
// retire it first (its configuration is torn down while its peers still reach it over the mesh),
// then remove it. Removed in one, its teardown would run after its peers, and the deployer's own
// tunnel, dropped it, and time out. The stack's last recorded resources show which nodes were
// configured; this names those that are gone from the program without having been retired (pure).

import { WIREGUARD_CONCERN_URN as CONCERN_URN } from "./remote/protocol";

/** Nodes configured at the last deployment (their WireGuard concern is recorded), by name. */
export function configuredNodes(recordedUrns: string[]): string[] {
    return recordedUrns.map((u) => CONCERN_URN.exec(u)?.[1]).filter((n): n is string => n !== undefined).sort();
}

/** Configured nodes that the program no longer has and that were not retired first. */
export function removedWithoutRetiring(recordedUrns: string[], nodesNow: string[]): string[] {
    return configuredNodes(recordedUrns).filter((n) => !nodesNow.includes(n));
}
