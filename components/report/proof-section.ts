// The report's section on the exhaustive proof: the headline ("N pairs x 131,070 ports: equal to
// the policy") or every difference by pair, family, protocol and ports, with what lets it through,
// then the WireGuard findings and what could not be read. Pure.
import { ProofResult } from "../proof/prove";
import { proofHeadline } from "../proof/format";
import type { Section } from "./sections";

export type ReportProof = ProofResult | { error: string };

export function proofSection(proof: ReportProof | undefined): Section {
    const base: Section = { id: "proof", title: "Exhaustive proof: every port of every pair, from what the hosts enforce", text: [], tables: [], listings: [] };
    const how = "Computed from each host's own ruleset as nft lists it (nft -j), every peer's WireGuard AllowedIPs on both ends, " +
        "and the sockets that listen (ss), read over the deployer's pinned SSH path; compared exactly with the compiled policy " +
        "(its rules, SSH from management peers, ping between WireGuard peers). TCP and UDP 1-65535 and ICMP echo, over each mesh family.";
    if (!proof) return { ...base, text: ["Not computed."] };
    if ("error" in proof) return { ...base, text: [how, `Not computed: ${proof.error}`] };
    return {
        ...base,
        text: [how, proofHeadline(proof), ...proof.findings.map((f) => `WireGuard: ${f}.`), ...(proof.unread ?? []).map((u) => `Not read: ${u}.`), ...proof.notes.map((n) => `Note: ${n}.`)],
        tables: proof.differences.length ? [{
            head: ["From", "To", "Family", "Protocol", "Ports", "What happens", "Why", "Listening"],
            rows: proof.differences.map((d) => [d.from, d.to, `IPv${d.family}`, d.proto, d.ports,
                d.reaches ? "REACHES, not allowed by the policy" : "BLOCKED, allowed by the policy", d.cause,
                d.listening === undefined ? "" : d.listening.join(", ") || "nothing"]),
        }] : [],
    };
}
