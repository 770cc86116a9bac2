// What an operator reads when a concern cannot be applied or removed: the host, the cause in plain
// words (from OpenSSH's own message), and what to do. Pure: the driver passes ssh's exit code and
// stderr in. OpenSSH exits 255 when the connection itself failed (the remote program never ran).

export interface SshOutcome {
    code: number;
    err: string;
}

const CAUSES: [RegExp, string][] = [
    [/Connection timed out|Operation timed out|timed out during banner exchange/i, "the host is unreachable: the SSH connection timed out (host down, link down, or a firewall dropping it)"],
    [/No route to host|Network is unreachable|Host is unreachable/i, "the host is unreachable: no route to it"],
    [/Connection refused/i, "the host answers but refuses SSH: connection refused (sshd not running?)"],
    [/Connection (closed|reset)/i, "the host closed the SSH connection before the program ran"],
    [/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i, "the host's SSH key is not the pinned one (a different machine, or a reinstalled one)"],
    [/Permission denied/i, "the host refused the deploy key"],
    [/Could not resolve hostname|Name or service not known/i, "the host name does not resolve"],
    [/^refusing to send to /, "this machine refused to send to it"],
];

/** The cause of a failed SSH connection in plain words, or undefined when the remote program ran and failed. */
export function connectionFailure(r: SshOutcome): string | undefined {
    if (r.code !== 255) return undefined;
    const found = CAUSES.find(([pattern]) => pattern.test(r.err));
    return found ? found[1] : "the SSH connection failed";
}

/** The message of a failed apply or teardown of `concern` on `host`. */
export function failureMessage(action: "applying" | "removing" | "staging the key switch of", concern: string, host: string, r: SshOutcome): string {
    const raw = r.err || "ssh exited non-zero";
    const cause = connectionFailure(r);
    if (!cause) return `${action} ${concern} on ${host} failed: ${raw}`;
    const next = action !== "removing"
        ? "the rest of the stack is unaffected (with --continue-on-error it is applied); run `pulumi up` again once the host is back"
        : "if the host is back later, run `pulumi up` again; if it is gone for good, drop its zerotrust resources from the state with " +
          "`pulumi state delete --target-dependents '<URN>'` on the first of them (<node>-bootstrap, or <node>-wireguard; " +
          "`pulumi stack --show-urns` lists them), then run `pulumi up`";
    return `${action} ${concern} on ${host} failed: ${cause} [${raw}]; ${next}`;
}
