// sshd settings as a drop-in (Debian's sshd_config includes sshd_config.d/*.conf first, and the
// first value sshd reads wins). No ListenAddress: binding to the WireGuard address makes sshd exit
// at boot before wg0 is up; the firewall scopes port 22 to the mesh instead.
import { checkUserName } from "../validate";
import { ReleaseProfile } from "./releases";

// Modern algorithms only, the set ssh-audit accepts without a failure. The key exchange is the
// release's own strongest set (ReleaseProfile.sshdKex): post-quantum hybrids where its sshd has them.
export const SSHD_CIPHERS = ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr"];
export const SSHD_MACS = ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"];
export const SSHD_HOST_KEY_ALGORITHMS = [
    "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com",
    "rsa-sha2-512", "rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256", "rsa-sha2-256-cert-v01@openssh.com",
];
/** Host key types (as in a public key line) whose keys sshd still offers: a pinned key must be one. */
export const SSHD_HOST_KEY_TYPES = ["ssh-ed25519", "ssh-rsa"];

export interface SshdSettings {
    /** Users who may log in; empty means any user with a key. */
    allowUsers: string[];
    /** "prohibit-password" lets root in with a key only; "no" keeps root out. */
    permitRootLogin: "prohibit-password" | "no";
    /** The host's release: which key exchanges its sshd knows. */
    release: ReleaseProfile;
}

export function renderSshdConfig(s: SshdSettings): string {
    const users = s.allowUsers.map((u, i) => checkUserName(`allowUsers[${i}]`, u));
    const lines = [
        "# Managed by zerotrust.",
        "PubkeyAuthentication yes",
        "AuthenticationMethods publickey",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        ...(s.release.sshdChallengeResponse ? ["ChallengeResponseAuthentication no"] : []),
        `PermitRootLogin ${s.permitRootLogin}`,
        "PermitEmptyPasswords no",
        "X11Forwarding no",
        "AllowAgentForwarding no",
        "PermitTunnel no",
        "MaxAuthTries 3",
        "LoginGraceTime 30",
        `KexAlgorithms ${s.release.sshdKex.join(",")}`,
        `Ciphers ${SSHD_CIPHERS.join(",")}`,
        `MACs ${SSHD_MACS.join(",")}`,
        `HostKeyAlgorithms ${SSHD_HOST_KEY_ALGORITHMS.join(",")}`,
        ...(users.length > 0 ? [`AllowUsers ${users.join(" ")}`] : []),
    ];
    return lines.join("\n") + "\n";
}
