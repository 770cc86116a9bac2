// What an audit report holds: the policy as written and as compiled, what was measured on the
// hosts, what each host has, every certificate, the drift check and the scanners' verdicts.
import { PolicyExpectations, PolicyRule } from "../policy";
import { VerifyReport } from "../verify";
import { RefusalReport } from "./refusals";
import type { ReportProof } from "./proof-section";

export interface ReportMember {
    name: string;
    kind: "node" | "operator" | "client";
    tags: string[];
    /** Mesh address (clients have none). */
    address?: string;
}

/** One allowed connection: "from" may open "ports" on "to" (clients: through the gateway on "to"). */
export interface ReportAllow {
    from: string;
    to: string;
    ports: string[];
}

export interface MeasuredAccess {
    /** The ports probed, as "tcp/22". */
    ports: string[];
    /** How many (from, to, port) probes were made over the mesh. */
    probes: number;
    /** "from -> to tcp/port" for every connection that opened over the mesh. */
    open: string[];
    /** Underlay probes that got an answer other than "filtered". */
    underlayAnswered: string[];
}

export interface CertificateRow {
    /** The resource that issued it, e.g. "dev-root-cert". */
    name: string;
    subject: string;
    issuer: string;
    serial: string;
    keyType: string;
    notAfter: string;
    isCa: boolean;
    revoked: boolean;
}

export interface ScannerVerdict {
    scanner: string;
    target: string;
    passed: boolean;
    /** One line: what was found, and what was accepted with its reason. */
    summary: string;
}

export interface AuditData {
    stack: string;
    generatedAt: string;
    lastUpdate?: string;
    members: ReportMember[];
    rules: PolicyRule[];
    expect?: PolicyExpectations;
    /** The compiled policy: member to member over the mesh, and client to gateway. */
    allowed: ReportAllow[];
    /** Undefined when the hosts could not be probed from here (not lab hosts). */
    measured?: MeasuredAccess;
    drift: VerifyReport;
    /** The exhaustive proof of the live hosts (components/proof), or why it could not be made. Default: not computed. */
    proof?: ReportProof;
    hosts: HostView[];
    certificates: CertificateRow[];
    scanners: ScannerVerdict[];
    /** What the hosts refused, from their drop records and gateway logs (refusals.ts); undefined when not read. */
    refusals?: RefusalReport;
}

/** What one host has, as the drift check read it. */
export interface HostView {
    node: string;
    /** The firewall table as nft lists it. */
    firewall: string[];
    /** WireGuard peers: the member (by public key) and the addresses it may send from. */
    peers: { member: string; publicKey: string; allowedIps: string[] }[];
}
