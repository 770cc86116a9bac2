// The host releases zerotrust supports, and what each one's programs accept. A node names its
// release (ZeroTrustNode `release`), so every file it gets is rendered for that release at preview
// time, and the host refuses an apply when /etc/os-release says otherwise (lib.sh zt_check_release).
// Pure data: the release lab and the render tests check each profile with that release's own tools.
import { ValidationError } from "../validate";

export interface ReleaseProfile {
    /** The name a node gives: "<ID>-<VERSION_ID>" as in the host's /etc/os-release. */
    name: string;
    codename: string;
    /**
     * Versions of the release's own packages: the upstream part of the Debian version, as read in the
     * release's tree by test/render/releases.test.ts (systemd's from libsystemd0; the kernel is not there).
     */
    versions: { nginx: string; openssh: string; nftables: string; wireguardTools: string; kernel: string; systemd: string; bash: string };
    /** Strongest first: every key exchange this release's sshd offers that is worth offering. */
    sshdKex: string[];
    /** nginx >= 1.19.4 knows ssl_conf_command (one TLS 1.3 ticket per handshake). */
    nginxSslConfCommand: boolean;
    /**
     * How this nginx turns HTTP/2 on: the `http2` parameter of `listen` (every nginx here has
     * ngx_http_v2_module), or, from nginx 1.25.1, the `http2 on;` directive; there the listen
     * parameter still works but `nginx -t` warns that it is deprecated.
     */
    nginxHttp2: "listen-parameter" | "directive";
    /**
     * OpenSSH < 8.7 turns keyboard-interactive off with ChallengeResponseAuthentication: there
     * `KbdInteractiveAuthentication no` alone leaves it on (bullseye's `sshd -T`, measured).
     */
    sshdChallengeResponse: boolean;
    /** Ubuntu LTS releases whose nginx and OpenSSH take the same rendering (untested: no Ubuntu archive here). */
    ubuntuLike: string;
}

const CURVE25519 = ["curve25519-sha256", "curve25519-sha256@libssh.org"];

export const RELEASES: Record<string, ReleaseProfile> = {
    "debian-11": {
        name: "debian-11",
        codename: "bullseye",
        versions: { nginx: "1.18.0", openssh: "8.4p1", nftables: "0.9.8", wireguardTools: "1.0.20210223", kernel: "5.10", systemd: "247", bash: "5.1" },
        // OpenSSH 8.4's only post-quantum hybrid, sntrup4591761x25519-sha512@tinyssh.org, was
        // experimental (never on by default) and withdrawn in 8.5 for sntrup761: not offered.
        sshdKex: CURVE25519,
        nginxSslConfCommand: false,
        nginxHttp2: "listen-parameter",
        sshdChallengeResponse: true,
        ubuntuLike: "22.04 has the same nginx 1.18.0 (its OpenSSH 8.9p1 would take debian-12's key exchange)",
    },
    "debian-12": {
        name: "debian-12",
        codename: "bookworm",
        versions: { nginx: "1.22.1", openssh: "9.2p1", nftables: "1.0.6", wireguardTools: "1.0.20210914", kernel: "6.1", systemd: "252", bash: "5.2.15" },
        // sntrup761's standard name (without @openssh.com) is bookworm's only since 1:9.2p1-2+deb12u4;
        // an older bookworm sshd refuses it, and it names the same algorithm: not rendered.
        sshdKex: ["sntrup761x25519-sha512@openssh.com", ...CURVE25519],
        nginxSslConfCommand: true,
        nginxHttp2: "listen-parameter",
        sshdChallengeResponse: false,
        ubuntuLike: "24.04 (nginx 1.24, OpenSSH 9.6p1)",
    },
    "debian-13": {
        name: "debian-13",
        codename: "trixie",
        versions: { nginx: "1.26.3", openssh: "10.0p1", nftables: "1.1.3", wireguardTools: "1.0.20210914", kernel: "6.12", systemd: "257", bash: "5.2.37" },
        // OpenSSH 9.9 added ML-KEM (FIPS 203) hybrid key exchange; 10.0 makes it its default.
        sshdKex: ["mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", ...CURVE25519],
        nginxSslConfCommand: true,
        nginxHttp2: "directive",
        sshdChallengeResponse: false,
        ubuntuLike: "not known here (no Ubuntu archive is reachable to compare 26.04)",
    },
};

/** What a node assumes when it names no release: the generation every stack so far was made for. */
export const DEFAULT_RELEASE = "debian-12";

export const SUPPORTED_RELEASES = Object.keys(RELEASES);

/** The profile of a supported release; anything else is refused with the list of supported ones. */
export function releaseProfile(field: string, value: unknown): ReleaseProfile {
    const profile = typeof value === "string" && Object.prototype.hasOwnProperty.call(RELEASES, value) ? RELEASES[value] : undefined;
    if (!profile) {
        throw new ValidationError(field, value, `supported host releases are ${SUPPORTED_RELEASES.join(", ")} ` +
            "(as ID-VERSION_ID in the host's /etc/os-release); give the one the host runs");
    }
    return profile;
}
