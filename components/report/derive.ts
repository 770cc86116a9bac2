// The pure steps from raw material to report rows: hosts from the drift check's reading, the
// measured matrix against the policy, certificates from the stack's state.
import { X509Certificate } from "crypto";
import { StateResource } from "../verify";
import { VerifyReport } from "../verify/verify";
import { CertificateRow, HostView, MeasuredAccess, ReportAllow } from "./model";

/** Each host's firewall listing and WireGuard peers as the drift check read them on the host. */
export function hostViews(drift: VerifyReport, publicKeys: Record<string, string>): HostView[] {
    const memberOf = new Map(Object.entries(publicKeys).map(([name, key]) => [key, name]));
    const nodes = [...new Set(drift.concerns.map((c) => c.node))].sort();
    return nodes.map((node) => {
        const live = (concern: string) => drift.concerns.find((c) => c.node === node && c.concern === concern)?.live ?? [];
        const firewall = live("firewall").filter((l) => !l.startsWith("file ") && !l.startsWith("unit "));
        const peers = new Map<string, string[]>();
        for (const line of live("wireguard")) {
            const m = /^peer (\S+) allowed-ip (\S+)$/.exec(line);
            if (m) peers.set(m[1], [...(peers.get(m[1]) ?? []), m[2]]);
        }
        return {
            node, firewall,
            peers: [...peers].map(([publicKey, allowedIps]) => ({ member: memberOf.get(publicKey) ?? "(unknown key)", publicKey, allowedIps }))
                .sort((a, b) => a.member.localeCompare(b.member)),
        };
    });
}

export interface MeasuredRow {
    from: string;
    to: string;
    port: string;
    allowed: boolean;
    open: boolean;
}

/**
 * Every probed (from, to, port) where the policy and the measurement are not both "blocked": the
 * rows an auditor reads. A row with allowed !== open is a mismatch.
 */
export function measuredRows(allowed: ReportAllow[], measured: MeasuredAccess): { rows: MeasuredRow[]; blockedAsExpected: number; probes: number } {
    const allows = new Set(allowed.flatMap((a) => a.ports.map((p) => `${a.from} -> ${a.to} ${p}`)));
    const open = new Set(measured.open);
    const rows: MeasuredRow[] = [];
    for (const key of [...new Set([...allows, ...open])].sort()) {
        const m = /^(\S+) -> (\S+) (\S+)$/.exec(key)!;
        if (!measured.ports.includes(m[3])) continue;
        rows.push({ from: m[1], to: m[2], port: m[3], allowed: allows.has(key), open: open.has(key) });
    }
    return { rows, blockedAsExpected: measured.probes - rows.length, probes: measured.probes };
}

// Pulumi type tokens of the tls provider's certificates.
const CERT_TYPES = ["tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert"];

function keyTypeOf(cert: X509Certificate): string {
    const k = cert.publicKey;
    const details = k.asymmetricKeyDetails ?? {};
    if (k.asymmetricKeyType === "ec") return `ECDSA ${details.namedCurve ?? ""}`.trim();
    if (k.asymmetricKeyType === "rsa") return `RSA ${details.modulusLength ?? ""}`.trim();
    return k.asymmetricKeyType ?? "unknown";
}

/** Every certificate the stack issued, from its state, marked revoked when its serial is in `revokedSerials`. */
export function certificatesFromState(resources: StateResource[], revokedSerials: string[]): CertificateRow[] {
    const revoked = new Set(revokedSerials.map((s) => s.toUpperCase().replace(/^0+/, "")));
    return resources.filter((r) => CERT_TYPES.includes(r.type) && typeof r.outputs?.certPem === "string").map((r) => {
        const cert = new X509Certificate(r.outputs!.certPem as string);
        const serial = cert.serialNumber.toUpperCase().replace(/^0+/, "");
        return {
            name: r.urn.split("::").pop()!,
            subject: cert.subject.replace(/\n/g, ", "),
            issuer: cert.issuer.replace(/\n/g, ", "),
            serial,
            keyType: keyTypeOf(cert),
            notAfter: new Date(cert.validTo).toISOString(),
            isCa: cert.ca,
            revoked: revoked.has(serial),
        };
    }).sort((a, b) => Number(b.isCa) - Number(a.isCa) || a.name.localeCompare(b.name));
}
