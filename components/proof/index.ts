export { ProofError, readNftTable } from "./ruleset";
export { acceptedPorts } from "./evaluate";
export { peersOfConfig, peersOfWgShow } from "./wireguard";
export { Difference, Listener, PORTS_PER_PAIR, ProofInput, ProofResult, policyReach, proofHolds, proveMesh } from "./prove";
export { formatDifference, formatProof, proofHeadline } from "./format";
