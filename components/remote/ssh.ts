// Runs a program on a host over SSH with the system's OpenSSH client: the host key pinned in a
// private known_hosts file, the key in a private file, the program on stdin. Each call is a new
// connection; that is what lets the driver confirm a change over a connection opened after it.
import { spawn } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { routeCheck } from "./route-guard";

export interface SshTarget {
    host: string;
    port: number;
    user: string;
    /** OpenSSH private key (secret). */
    privateKey: string;
    /** The host's public key, "ssh-ed25519 AAAA...": the only key accepted. */
    hostKey: string;
    /**
     * Interfaces of this machine the route to the host must leave through (lab hosts: the lab's
     * bridge and the operator's WireGuard interface); refused before connecting otherwise.
     */
    onlyVia?: string[];
}

export interface SshResult {
    code: number;
    stdout: string;
    stderr: string;
}

/**
 * The pinned key as OpenSSH looks it up: the host as given on port 22 (an IPv6 address too, bare),
 * "[host]:port" on any other port. The host is the text ssh gets, so the two always match.
 */
export function knownHostsLine(t: Pick<SshTarget, "host" | "port" | "hostKey">): string {
    const name = t.port === 22 ? t.host : `[${t.host}]:${t.port}`;
    return `${name} ${t.hostKey.trim()}\n`;
}

/**
 * The ssh command line: fixed options, file paths, the login and `/bin/bash -s`. The key, the
 * program and its payload never appear here; they are in a private file and on stdin.
 */
export function sshArguments(target: SshTarget, dir: string): string[] {
    return [
        "-F", "/dev/null",
        "-o", "BatchMode=yes",
        "-o", "IdentitiesOnly=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`,
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "ConnectTimeout=10",
        "-o", "ServerAliveInterval=5",
        "-o", "ServerAliveCountMax=3",
        "-o", "LogLevel=ERROR",
        "-i", join(dir, "key"),
        "-p", String(target.port),
        "-l", target.user,
        target.host,
        "/bin/bash -s",
    ];
}

/** The refusal for a target whose route leaves through another interface than it allows. */
function offRoute(target: SshTarget): string | undefined {
    return target.onlyVia ? routeCheck(target.host, target.onlyVia) : undefined;
}

export function runOverSsh(target: SshTarget, program: string, timeoutSeconds = 300): Promise<SshResult> {
    const refused = offRoute(target);
    if (refused) return Promise.resolve({ code: 255, stdout: "", stderr: refused });
    const dir = mkdtempSync(join(tmpdir(), "zt-ssh-")); // mode 0700
    writeFileSync(join(dir, "key"), target.privateKey.endsWith("\n") ? target.privateKey : target.privateKey + "\n", { mode: 0o600 });
    writeFileSync(join(dir, "known_hosts"), knownHostsLine(target), { mode: 0o600 });
    const args = sshArguments(target, dir);
    return new Promise((resolve) => {
        const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutSeconds * 1000);
        child.stdout.on("data", (d) => { stdout += d; });
        child.stderr.on("data", (d) => { stderr += d; });
        child.stdin.on("error", () => { /* the host closed early; the exit code tells */ });
        child.on("close", (code) => {
            clearTimeout(timer);
            rmSync(dir, { recursive: true, force: true });
            resolve({ code: code ?? 255, stdout, stderr });
        });
        child.stdin.end(program);
    });
}
