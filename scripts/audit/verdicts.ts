// The scanners' raw results as the report's verdicts: passed or not, and one line saying what was
// found and what was accepted, with its reason. Pure.
import { ScannerVerdict } from "../../components/report";
import { SSH_AUDIT_ACCEPTED_WARNINGS, SshAuditVerdict, TestsslFinding } from "./scanners";

/** ssh-audit's verdict on the sshd of a host of `release` (what it may warn about differs by release). */
export function sshAuditVerdict(target: string, v: SshAuditVerdict, release: string): ScannerVerdict {
    const acceptable = SSH_AUDIT_ACCEPTED_WARNINGS[release] ?? [];
    const unexpected = v.warnings.filter((w) => !acceptable.includes(w));
    const accepted = v.warnings.filter((w) => acceptable.includes(w));
    return {
        scanner: "ssh-audit", target, passed: v.failures.length === 0 && unexpected.length === 0,
        summary: `${v.failures.length} failures${v.failures.length ? ` (${v.failures.join(", ")})` : ""}; ` +
            `${unexpected.length} warnings${unexpected.length ? ` (${unexpected.join(", ")})` : ""}; ` +
            `accepted: ${accepted.join(", ") || "none"} (ssh-audit 2.5 does not know the post-quantum hybrids or the strict-kex marker)`,
    };
}

export function nmapVerdict(target: string, answering: string[], expected: string[]): ScannerVerdict {
    const unexpected = answering.filter((a) => !expected.includes(a));
    const missing = expected.filter((e) => !answering.includes(e));
    return {
        scanner: "nmap (from a stranger on the underlay)", target, passed: unexpected.length === 0 && missing.length === 0,
        summary: `answering: ${answering.join(", ") || "nothing"}; everything else filtered` +
            (unexpected.length ? `; NOT expected: ${unexpected.join(", ")}` : "") + (missing.length ? `; expected but silent: ${missing.join(", ")}` : ""),
    };
}

/** The one finding accepted: the server certificate names no CRL or OCSP URL (the CRLs go with the deployment). */
const acceptedTestssl = (f: TestsslFinding) => f.id === "cert_revocation" && /Neither CRL nor OCSP URI provided/.test(f.finding);

export function testsslVerdict(target: string, findings: TestsslFinding[]): ScannerVerdict {
    const serious = findings.filter((f) => ["HIGH", "CRITICAL"].includes(f.severity) && !acceptedTestssl(f));
    const byId = (id: string) => findings.find((f) => f.id === id)?.finding ?? "(missing)";
    return {
        scanner: "testssl.sh", target, passed: serious.length === 0,
        summary: `TLS 1.3: ${byId("TLS1_3")}; TLS 1.2: ${byId("TLS1_2")}; trust: ${byId("cert_trust")}; key usage: ${byId("cert_keyUsage")}; ` +
            `${serious.length} high or critical findings${serious.length ? ` (${serious.map((f) => `${f.id}: ${f.finding}`).join("; ")})` : ""}; ` +
            `accepted: cert_revocation (no CRL or OCSP URL in the certificate: the CRLs go to the gateway with each deployment)`,
    };
}
