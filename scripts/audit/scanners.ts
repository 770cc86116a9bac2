// The scanners an auditor brings, run here against real servers, with their verdicts parsed.
import { spawnSync } from "child_process";
import { readFileSync } from "fs";
import { formatIPv6, parseIPv6 } from "../../components/ipv6";
import { joinHostPort } from "../../components/validate";

export interface SshAuditVerdict {
    /** "(kind) algorithm" for every algorithm ssh-audit fails. */
    failures: string[];
    /** "(kind) algorithm" for every algorithm it warns about. */
    warnings: string[];
    output: string;
}

/** ssh-audit (Debian's package) against host:port; `wrap` runs it elsewhere (`ip netns exec NS`). */
export function sshAudit(host: string, port: number, wrap: string[] = []): SshAuditVerdict {
    const cmd = [...wrap, "ssh-audit", "--no-colors", "-p", String(port), host];
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 60_000 });
    const output = r.stdout ?? "";
    if (!/^\(kex\) /m.test(output)) throw new Error(`ssh-audit read no algorithms from ${host}:${port}: ${output}${r.stderr}`);
    const flagged = (level: string) => [...output.matchAll(new RegExp(`^\\((\\w+)\\) (\\S+)\\s+-- \\[${level}\\]`, "gm"))].map((m) => `(${m[1]}) ${m[2]}`);
    return { failures: flagged("fail"), warnings: [...new Set(flagged("warn"))], output };
}

/**
 * The warnings Debian 12's ssh-audit 2.5 raises, per host release, for what it does not know (the
 * strict-kex marker every release's sshd advertises, and the post-quantum hybrids: ML-KEM and the
 * standard name of sntrup761 it calls unknown, sntrup761's OpenSSH name it calls experimental).
 * Nothing else may be flagged. Measured on the release lab (test/e2e/release-lab-*.test.ts).
 */
export const SSH_AUDIT_ACCEPTED_WARNINGS: Record<string, string[]> = {
    "debian-11": ["(kex) kex-strict-s-v00@openssh.com"],
    "debian-12": ["(kex) sntrup761x25519-sha512@openssh.com", "(kex) kex-strict-s-v00@openssh.com"],
    "debian-13": ["(kex) mlkem768x25519-sha256", "(kex) sntrup761x25519-sha512", "(kex) sntrup761x25519-sha512@openssh.com", "(kex) kex-strict-s-v00@openssh.com"],
};

/**
 * nmap's TCP connect scan from `wrap` (a namespace); returns "address:port/state" for every port not
 * filtered. IPv6 targets are scanned with -6 (nmap takes one family per run).
 */
export function nmapAnswering(targets: string[], ports: string, wrap: string[]): { answering: string[]; output: string } {
    const v6 = targets.filter((t) => t.includes(":")).length;
    if (v6 !== 0 && v6 !== targets.length) throw new Error("nmapAnswering: scan IPv4 and IPv6 targets in separate runs");
    const cmd = [...wrap, "nmap", ...(v6 ? ["-6"] : []), "-Pn", "-n", "-sT", "-T4", "--max-retries", "1", "-p", ports, "-oG", "-", ...targets];
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 600_000 });
    if (r.status !== 0) throw new Error(`nmap failed: ${r.stdout}${r.stderr}`);
    const answering: string[] = [];
    for (const m of r.stdout.matchAll(/^Host: (\S+) .*\tPorts: ([^\t]+)/gm)) {
        for (const entry of m[2].split(", ")) {
            const [port, state] = entry.split("/");
            if (state !== "filtered") answering.push(`${joinHostPort(m[1], port)}/${state}`);
        }
    }
    // Hosts whose every port was filtered have no "Ports:" list; each must at least have been scanned.
    const scanned = [...r.stdout.matchAll(/^Host: (\S+) /gm)].map((m) => m[1]);
    // nmap prints IPv6 canonical; compare so, whatever form the caller gave.
    const canonical = (a: string) => (a.includes(":") ? formatIPv6(parseIPv6(a) ?? 0n) : a);
    if (!targets.every((t) => scanned.map(canonical).includes(canonical(t)))) throw new Error(`nmap did not scan every target: ${r.stdout}`);
    return { answering, output: r.stdout };
}

export interface TestsslFinding {
    id: string;
    severity: string;
    finding: string;
}

/** testssl (Debian's testssl.sh 3.0.8): protocols, server defaults and vulnerabilities of `name` at `address`. */
export function testssl(name: string, address: string, caFile: string, jsonFile: string, wrap: string[] = []): TestsslFinding[] {
    const cmd = [...wrap, "testssl", "--quiet", "--color", "0", "--warnings", "off", "--add-ca", caFile, "--ip", address,
        "--jsonfile", jsonFile, "-p", "-S", "-U", `${name}:443`];
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 900_000 });
    try {
        return (JSON.parse(readFileSync(jsonFile, "utf8")) as TestsslFinding[]).map(({ id, severity, finding }) => ({ id, severity, finding }));
    } catch {
        throw new Error(`testssl wrote no findings (exit ${r.status}): ${r.stdout}${r.stderr}`);
    }
}
