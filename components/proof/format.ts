// The proof's result as lines a person reads: one headline, then one line per difference (pair,
// family, protocol, ports, what happens and why), then findings and notes. Pure.
import { Difference, PORTS_PER_PAIR, ProofResult, proofHolds } from "./prove";

export function proofHeadline(r: ProofResult): string {
    const scope = `${r.pairs} pairs x ${PORTS_PER_PAIR.toLocaleString("en-US")} ports and ICMP echo` + (r.families.length > 1 ? ", over IPv4 and IPv6" : "");
    if (proofHolds(r)) return `${scope}: equal to the policy`;
    return `${scope}: ${r.differences.length} difference${r.differences.length === 1 ? "" : "s"} from the policy` +
        (r.findings.length ? `, ${r.findings.length} WireGuard finding${r.findings.length === 1 ? "" : "s"}` : "") +
        (r.unread?.length ? `, ${r.unread.length} host${r.unread.length === 1 ? "" : "s"} not read` : "");
}

export function formatDifference(d: Difference): string {
    const what = d.proto === "icmp" ? "icmp echo" : `${d.proto}/${d.ports}`;
    const family = `IPv${d.family}`;
    const verdict = d.reaches ? "REACHES, the policy does not allow it" : "BLOCKED, the policy allows it";
    const listening = d.listening === undefined ? "" : d.listening.length ? `; listening there: ${d.listening.join(", ")}` : "; nothing listens there";
    return `${d.from} -> ${d.to} ${what} (${family}): ${verdict}: ${d.cause}${listening}`;
}

export function formatProof(r: ProofResult): string[] {
    return [
        proofHeadline(r),
        ...r.differences.map((d) => `  ${formatDifference(d)}`),
        ...r.findings.map((f) => `  finding: ${f}`),
        ...(r.unread ?? []).map((u) => `  not read: ${u}`),
        ...r.notes.map((n) => `  note: ${n}`),
    ];
}
