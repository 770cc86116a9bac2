// The scanners an auditor brings, run here against real servers, with their verdicts parsed.
import { spawnSync } from "child_process";

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

/** The two warnings Debian 12's ssh-audit 2.5 raises for what it does not know; nothing else may be flagged. */
export const SSH_AUDIT_ACCEPTED_WARNINGS = ["(kex) sntrup761x25519-sha512@openssh.com", "(kex) kex-strict-s-v00@openssh.com"];
