// The report's content once, as sections of text, tables and listings; html.ts and markdown.ts
// only lay it out. Pure.
import { measuredRows } from "./derive";
import { AuditData } from "./model";
import { refusalsSection } from "./refusals-section";
import { proofSection } from "./proof-section";
import { proofHeadline } from "../proof/format";

export interface Table {
    head: string[];
    rows: string[][];
}

export interface Section {
    id: string;
    title: string;
    /** Paragraphs before the content. */
    text: string[];
    tables: Table[];
    /** Titled preformatted blocks (a host's firewall listing). */
    listings: { title: string; lines: string[] }[];
    /** Where the reach diagram goes. */
    diagram?: boolean;
}

const section = (id: string, title: string, parts: Partial<Section>): Section => ({ id, title, text: [], tables: [], listings: [], ...parts });

function summary(d: AuditData): Section {
    const drift = d.drift.concerns;
    const count = (s: string) => drift.filter((c) => c.state === s).length;
    const measured = d.measured ? measuredRows(d.allowed, d.measured) : undefined;
    const mismatches = measured?.rows.filter((r) => r.allowed !== r.open) ?? [];
    return section("summary", "Summary", {
        tables: [{
            head: ["Check", "Result"],
            rows: [
                ["Stack", d.stack],
                ["Report made", d.generatedAt],
                ["Last update of the stack", d.lastUpdate ?? "unknown"],
                ["Hosts match the stack (drift)", `${count("in sync")} of ${drift.length} concerns in sync, ${count("drifted")} drifted, ` +
                    `${count("unreachable") + count("failed")} not checked`],
                ["Measured access matches the policy", measured
                    ? (mismatches.length === 0 ? `yes: ${measured.probes} probes over the mesh` : `NO: ${mismatches.length} mismatches`)
                    : "not measured (the hosts are not lab hosts on this machine)"],
                ["Exhaustive proof (every port of every pair)", !d.proof ? "not computed" : "error" in d.proof ? `not computed: ${d.proof.error}` : proofHeadline(d.proof)],
                ["Underlay probes answered", d.measured ? (d.measured.underlayAnswered.length === 0 ? "none" : d.measured.underlayAnswered.join(", ")) : "not measured"],
                ["Scanners", d.scanners.length === 0 ? "not run" : `${d.scanners.filter((s) => s.passed).length} of ${d.scanners.length} passed`],
                ["Certificates", `${d.certificates.length}, ${d.certificates.filter((c) => c.revoked).length} revoked`],
            ],
        }],
    });
}

function policy(d: AuditData): Section[] {
    const expectations = [
        ...(d.expect?.reachable ?? []).map(([f, t, p]) => [f, t, p, "reachable"]),
        ...(d.expect?.blocked ?? []).map(([f, t, p]) => [f, t, p, "blocked"]),
    ];
    return [
        section("policy", "Policy as written", {
            text: ["Rules name identities (members, tags, *), never addresses; everything else is dropped."],
            tables: [
                { head: ["From", "To", "Ports"], rows: d.rules.map((r) => [r.from, r.to, r.ports.join(", ")]) },
                ...(expectations.length ? [{ head: ["From", "To", "Port", "Expected"], rows: expectations }] : []),
            ],
        }),
        section("members", "Members", {
            tables: [{ head: ["Name", "Kind", "Tags", "Mesh address"], rows: d.members.map((m) => [m.name, m.kind, m.tags.join(", "), m.address ?? "(not on the mesh)"]) }],
        }),
        section("reach", "Who may reach whom (compiled policy)", {
            text: ["Clients reach a node only through its mTLS gateway, with a certificate from the stack's CA."],
            diagram: true,
            tables: [{
                head: ["From", "To", "Ports", "Path"],
                rows: d.allowed.map((a) => [a.from, a.to, a.ports.join(", "),
                    d.members.find((m) => m.name === a.from)?.kind === "client" ? "mTLS gateway" : "WireGuard mesh"]),
            }],
        }),
    ];
}

function measured(d: AuditData): Section {
    if (!d.measured) return section("measured", "Access measured on the hosts", { text: ["Not measured: the hosts are not lab hosts on this machine."] });
    const m = measuredRows(d.allowed, d.measured);
    return section("measured", "Access measured on the hosts", {
        text: [`TCP connections attempted from every host and the operator to every other host's mesh address on ${d.measured.ports.join(", ")}: ` +
            `${m.probes} probes; ${m.blockedAsExpected} blocked as the policy says (not listed). ` +
            `Underlay: ${d.measured.underlayAnswered.length === 0 ? "every probe filtered" : `answered: ${d.measured.underlayAnswered.join(", ")}`}.`],
        tables: [{ head: ["From", "To", "Port", "Policy", "Measured", "Verdict"], rows: m.rows.map((r) => [r.from, r.to, r.port,
            r.allowed ? "allow" : "drop", r.open ? "open" : "blocked", r.allowed === r.open ? "match" : "MISMATCH"]) }],
    });
}

function hosts(d: AuditData): Section {
    return section("hosts", "Hosts: firewall and WireGuard peers, as read on each host", {
        tables: [{
            head: ["Host", "Peer", "Public key", "Allowed IPs"],
            rows: d.hosts.flatMap((h) => h.peers.map((p) => [h.node, p.member, p.publicKey, p.allowedIps.join(", ")])),
        }],
        listings: d.hosts.map((h) => ({ title: `${h.node}: nft list table inet zerotrust`, lines: h.firewall })),
    });
}

function certificates(d: AuditData): Section {
    return section("certificates", "Certificates", {
        tables: [{
            head: ["Resource", "Subject", "Issuer", "Key", "Expires", "CA", "Status"],
            rows: d.certificates.map((c) => [c.name, c.subject, c.issuer, c.keyType, c.notAfter, c.isCa ? "yes" : "no", c.revoked ? `REVOKED (serial ${c.serial})` : "valid"]),
        }],
    });
}

function drift(d: AuditData): Section {
    return section("drift", "Drift: hosts against the stack", {
        text: [`Checked ${d.drift.checkedAt}, read only, over the deployer's pinned SSH path.`],
        tables: [{
            head: ["Host", "Concern", "State", "Difference"],
            rows: d.drift.concerns.map((c) => [c.node, c.concern, c.state, c.diff.join("\n") || c.reason || ""]),
        }],
    });
}

function scanners(d: AuditData): Section {
    return section("scanners", "External scanners", {
        text: d.scanners.length ? [] : ["Not run."],
        tables: d.scanners.length ? [{ head: ["Scanner", "Target", "Verdict", "Findings"], rows: d.scanners.map((s) => [s.scanner, s.target, s.passed ? "pass" : "FAIL", s.summary]) }] : [],
    });
}

export function auditSections(d: AuditData): Section[] {
    return [summary(d), ...policy(d), measured(d), proofSection(d.proof), refusalsSection(d.refusals), hosts(d), certificates(d), drift(d), scanners(d)];
}
