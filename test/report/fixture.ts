// An audit report's material for the seeds' scenario: the real compiled policy, a real
// certificate made by openssl, and a drift check and scanner verdicts with one failure each, so
// that good and bad both show.
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { planMesh } from "../../components/mesh-plan";
import { AuditData, certificatesFromState, policyRows, reportPolicy } from "../../components/report";
import { SEED_CLIENTS, SEED_EXPECT, SEED_NODES, SEED_OPERATOR, SEED_PROBE_PORTS, SEED_RULES } from "../../stacks/seed-scenario";

export function selfSignedCertificate(cn: string): string {
    const dir = mkdtempSync(join(tmpdir(), "zt-cert-"));
    try {
        execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
            "-subj", `/O=zerotrust/CN=${cn}`, "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
        return readFileSync(join(dir, "cert.pem"), "utf8");
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

export function seedAuditData(): AuditData {
    const plan = planMesh({ cidr: "10.77.0.0/24", nodes: SEED_NODES, operators: [{ name: SEED_OPERATOR, tags: ["admin"] }], clients: SEED_CLIENTS, rules: SEED_RULES, expect: SEED_EXPECT });
    const policy = policyRows(reportPolicy(plan, SEED_RULES, SEED_EXPECT));
    const open = policy.allowed.filter((a) => a.from !== "alice" && a.from !== "bob")
        .flatMap((a) => a.ports.filter((p) => SEED_PROBE_PORTS.includes(p)).map((p) => `${a.from} -> ${a.to} ${p}`));
    const concern = (node: string, c: string) => ({ node, resource: `${node}-${c}`, concern: c, host: "10.77.0.9", diff: [] as string[] });
    return {
        stack: "dev",
        generatedAt: "2026-11-30T12:00:00.000Z",
        lastUpdate: "2026-11-30T11:58:00.000Z",
        ...policy,
        measured: { ports: SEED_PROBE_PORTS, probes: 90, open, underlayAnswered: [] },
        drift: {
            checkedAt: "2026-11-30T12:00:00.000Z",
            concerns: [
                { ...concern("db", "firewall"), state: "drifted", diff: ["+ \t\ttcp dport 9999 accept"] },
                { ...concern("db", "wireguard"), state: "in sync", live: ["peer AAAA= allowed-ip 10.77.0.2/32"] },
            ],
        },
        hosts: [{ node: "db", firewall: ["table inet zerotrust {", "\tchain input {", "\t}", "}"], peers: [{ member: "app-1", publicKey: "AAAA=", allowedIps: ["10.77.0.2/32"] }] }],
        certificates: certificatesFromState([{ urn: "urn:pulumi:dev::zerotrust::tls:index/selfSignedCert:SelfSignedCert::dev-root-cert", type: "tls:index/selfSignedCert:SelfSignedCert", outputs: { certPem: selfSignedCertificate("zerotrust dev root CA") } }], []),
        scanners: [
            { scanner: "ssh-audit", target: "db sshd", passed: true, summary: "0 failures" },
            { scanner: "testssl.sh", target: "gateway <script>alert(1)</script>", passed: false, summary: "1 high finding <b>not bold</b>" },
        ],
    };
}
