// sshd settings as a drop-in (Debian's sshd_config includes sshd_config.d/*.conf first, and the
// first value sshd reads wins). No ListenAddress: binding to the WireGuard address makes sshd exit
// at boot before wg0 is up; the firewall scopes port 22 to the mesh instead.
import { checkUserName } from "../validate";

export interface SshdSettings {
    /** Users who may log in; empty means any user with a key. */
    allowUsers: string[];
    /** "prohibit-password" lets root in with a key only; "no" keeps root out. */
    permitRootLogin: "prohibit-password" | "no";
}

export function renderSshdConfig(s: SshdSettings): string {
    const users = s.allowUsers.map((u, i) => checkUserName(`allowUsers[${i}]`, u));
    const lines = [
        "# Managed by zerotrust.",
        "PubkeyAuthentication yes",
        "AuthenticationMethods publickey",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        `PermitRootLogin ${s.permitRootLogin}`,
        "PermitEmptyPasswords no",
        "X11Forwarding no",
        "AllowAgentForwarding no",
        "PermitTunnel no",
        "MaxAuthTries 3",
        "LoginGraceTime 30",
        ...(users.length > 0 ? [`AllowUsers ${users.join(" ")}`] : []),
    ];
    return lines.join("\n") + "\n";
}
