// Each supported release's renderings, checked by that release's own programs (sshd, nginx, nft,
// wg-quick and wg), run in its debootstrap tree (test/helpers/release-tree.ts); and each release
// profile's versions, read from the tree's dpkg database. The t.log lines are the README's table.
// The first run on a machine builds the three trees (components/hosts/lab/release-tree.sh, a few
// minutes each); later runs take them from the cache.
import test from "ava";
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { firewallSpecFor } from "../../components/enforcement";
import { compilePolicy } from "../../components/policy";
import { GATEWAY_FILES, GatewaySpec, renderGatewayConfig } from "../../components/render/nginx";
import { renderFirewall, renderFirewallRemoval } from "../../components/render/nftables";
import { RELEASES, ReleaseProfile } from "../../components/render/releases";
import { SSHD_CIPHERS, SSHD_MACS, renderSshdConfig } from "../../components/render/sshd";
import { renderWireGuardConfig } from "../../components/render/wireguard";
import { clampPrivateKey, publicKeyOf } from "../../components/wireguard-keys";
import { SEED_NODES, SEED_RULES, seedPolicyMembers } from "../../stacks/seed-scenario";
import { writeGatewayPki } from "../helpers/gateway-pki";
import { inTree, releaseTree, runInTree, upstreamVersion } from "../helpers/release-tree";

const trees: Record<string, string> = {};
let pkiDir = "";
let pki: Record<string, Buffer> = {};

test.before(() => {
    for (const release of Object.keys(RELEASES)) trees[release] = releaseTree(release);
    // One PKI for the file (the machine's openssl makes it; each release's nginx reads it).
    pkiDir = mkdtempSync(join(tmpdir(), "zt-releases-pki-"));
    writeGatewayPki(pkiDir);
    pki = Object.fromEntries(Object.values(GATEWAY_FILES).filter((f) => f !== GATEWAY_FILES.config).map((f) => [f, readFileSync(join(pkiDir, f))]));
});
test.after.always(() => { if (pkiDir) rmSync(pkiDir, { recursive: true, force: true }); });

// Key exchanges a release's OpenSSH still has but that are not worth offering. OpenSSH 8.0-8.4's
// sntrup4591761 hybrid was experimental, never on by default, and withdrawn in 8.5 for sntrup761
// (ssh-audit warns "using experimental algorithm"); a host that offered it would be no stronger.
const WITHDRAWN_KEX = ["sntrup4591761x25519-sha512@tinyssh.org"];
const isPostQuantum = (kex: string) => /^(sntrup|mlkem)/.test(kex);
// Two names of one algorithm (standard name -> OpenSSH name): offering either is as strong. OpenSSH 9.9 gave
// sntrup761 its standard name; Debian 12 has it only since 1:9.2p1-2+deb12u4 (and older bookworm
// hosts refuse it), so debian-12 renders the OpenSSH name alone.
const SAME_KEX: Record<string, string> = { "sntrup761x25519-sha512": "sntrup761x25519-sha512@openssh.com" };
const sameAlgorithm = (a: string, b: string) => (SAME_KEX[a] ?? a) === (SAME_KEX[b] ?? b);

// Debian's own sshd_config (it includes sshd_config.d/*.conf first), the rendered drop-in there and
// an ed25519 host key; prints the effective settings (sshd -T, after the checks of -t) and the key
// exchanges this OpenSSH knows (ssh -Q kex: sshd has no -Q; both are built from the same kex table).
function sshdInTree(t: any, release: string, dropIn: string) {
    return runInTree(t, trees[release], [
        "set -e",
        "mkdir -p /run/sshd",
        "ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key",
        "cp /scratch/zerotrust.conf /etc/ssh/sshd_config.d/zerotrust.conf",
        "/usr/sbin/sshd -t -o HostKey=/etc/ssh/ssh_host_ed25519_key",
        "/usr/sbin/sshd -T -o HostKey=/etc/ssh/ssh_host_ed25519_key -C user=root,host=x,addr=10.77.0.9",
        "echo '=== kex'",
        "ssh -Q kex",
    ].join("\n"), { files: { "zerotrust.conf": dropIn } });
}

const sshdSettings = (release: ReleaseProfile) => renderSshdConfig({ allowUsers: ["root", "deploy"], permitRootLogin: "prohibit-password", release });

const gatewaySpec = (release: ReleaseProfile, allowTls12: boolean): GatewaySpec => ({
    listenPort: 18443, serverName: "gw.example.internal", upstreams: ["10.77.0.5:8080"], allowedDns: ["CN=alice,O=zerotrust"],
    // Dual-stack (listen [::]:port too): the IPv4-only rendering is the same less that line.
    listenIPv6: true, verifyDepth: 1, allowTls12, pidFile: "/scratch/nginx.pid", errorLog: "/scratch/error.log", accessLog: "/scratch/access.log", sessionEpoch: "test", release,
});

function nginxInTree(t: any, release: string, renderedFor: ReleaseProfile) {
    return runInTree(t, trees[release], "set -e; for c in nginx-tls13.conf nginx-tls12.conf; do nginx -t -q -c /scratch/$c; done", {
        net: true,
        files: { ...pki, "nginx-tls13.conf": renderGatewayConfig(gatewaySpec(renderedFor, false)), "nginx-tls12.conf": renderGatewayConfig(gatewaySpec(renderedFor, true)) },
    });
}

const members = seedPolicyMembers();
const addresses = new Map(members.filter((m) => m.kind !== "client").map((m, i) => [m.name, `10.77.0.${i + 2}`]));
const fwOptions = { wgInterface: "wg0", wgPort: 51820, sshPort: 22, sshBootstrapSources: [] as string[], meshPing: true, forwardPolicy: "drop" as const, logDrops: true };

const wgKey = () => clampPrivateKey(randomBytes(32).toString("base64"));

for (const [release, profile] of Object.entries(RELEASES)) {
    test(`${release}: its sshd accepts the rendered drop-in in front of Debian's sshd_config, with the strongest key exchanges it offers`, (t) => {
        const r = sshdInTree(t, release, sshdSettings(profile));
        t.is(r.status, 0, r.stderr);
        const [effective, kexList] = r.stdout.split("=== kex\n");
        const setting = (name: string) => new RegExp(`^${name} (.*)$`, "m").exec(effective)?.[1];
        const offered = kexList.trim().split("\n");
        t.log(`${release} ssh -Q kex: ${offered.join(" ")}`);
        t.is(setting("kexalgorithms"), profile.sshdKex.join(","));
        t.is(setting("ciphers"), SSHD_CIPHERS.join(","));
        t.is(setting("macs"), SSHD_MACS.join(","));
        t.is(setting("passwordauthentication"), "no");
        t.is(setting("authenticationmethods"), "publickey");
        t.deepEqual(profile.sshdKex.filter((k) => !offered.includes(k)), [], "rendered key exchanges this sshd does not have");
        const hybrids = offered.filter((k) => isPostQuantum(k) && !WITHDRAWN_KEX.includes(k));
        t.deepEqual(hybrids.filter((k) => !profile.sshdKex.some((r) => sameAlgorithm(r, k))), [], "post-quantum hybrids this sshd offers that the profile leaves out");
        t.true(hybrids.length === 0 || isPostQuantum(profile.sshdKex[0]), "a post-quantum hybrid first");
    });

    test(`${release}: its nginx accepts the rendered gateway config (TLS 1.3 only, and with TLS 1.2) with a real PKI and CRL`, (t) => {
        const r = nginxInTree(t, release, profile);
        t.is(r.status, 0, r.stderr);
        t.is(renderGatewayConfig(gatewaySpec(profile, false)).includes("ssl_conf_command"), profile.nginxSslConfCommand);
    });

    test(`${release}: its nft -c accepts every seed node's ruleset, the variants, and the removal`, (t) => {
        const compiled = compilePolicy(members, SEED_RULES);
        const files: Record<string, string> = Object.fromEntries(SEED_NODES.map((n) => [`${n.name}.nft`, renderFirewall(firewallSpecFor(compiled, n.name, addresses, fwOptions))]));
        files["app-1-bootstrap.nft"] = renderFirewall(firewallSpecFor(compiled, "app-1", addresses, { ...fwOptions, sshBootstrapSources: ["10.99.0.1"], forwardPolicy: "accept", logDrops: false }));
        files["removal.nft"] = renderFirewallRemoval();
        const out = inTree(t, trees[release], 'set -e; for f in *.nft; do nft -c -f "$f" || { echo "refused: $f" >&2; exit 1; }; echo "$f"; done', { net: true, files });
        t.deepEqual(out.trim().split("\n").sort(), Object.keys(files).sort());
    });

    test(`${release}: its wg-quick strip takes the rendered wg.conf apart, and its wg loads the rest`, (t) => {
        const iface = `ztw${randomBytes(3).toString("hex")}`;
        const priv = wgKey();
        // Endpoints on loopback: the keepalives the namespace's interface may send stay on this machine.
        const peers = ["app-1", "db"].map((name, i) => ({
            name, publicKey: publicKeyOf(wgKey()), presharedKey: randomBytes(32).toString("base64"),
            address: `10.77.0.${10 + i}`, endpoint: `127.0.0.${10 + i}:51820`, behindNat: false,
        }));
        const config = renderWireGuardConfig({ privateKey: priv, addressCidr: "10.77.0.5/24", listenPort: 51820, mtu: 1420, behindNat: true, peers });
        // The interface: this machine's wireguard-go (it has no WireGuard module), standing in for the
        // kernel's WireGuard, which is not the release's to give; its socket is in the tree's /run.
        const out = inTree(t, trees[release], [
            "set -e",
            `for i in $(seq 100); do [ -S /run/wireguard/${iface}.sock ] && break; sleep 0.05; done`,
            `wg-quick strip /scratch/${iface}.conf >/tmp/stripped.conf`,
            "cat /tmp/stripped.conf; echo '=== dump'",
            `wg setconf ${iface} /tmp/stripped.conf`,
            `wg show ${iface} dump`,
        ].join("\n"), {
            net: true, files: { [`${iface}.conf`]: config },
            setup: `mount --bind "$root/run" /run; WG_PROCESS_FOREGROUND=1 /usr/bin/wireguard-go -f ${iface} >/dev/null 2>&1 &`,
        });
        const [stripped, dump] = out.split("=== dump\n");
        t.notRegex(stripped, /Address|MTU/);
        t.regex(stripped, /^PrivateKey = /m);
        const [own, ...peerLines] = dump.trim().split("\n").map((l) => l.split("\t"));
        t.deepEqual([own[0], own[1], own[2]], [priv, publicKeyOf(priv), "51820"]);
        t.deepEqual(peerLines.map(([pub, psk, endpoint, allowed, , , , keepalive]) => [pub, psk, endpoint, allowed, keepalive]).sort(),
            peers.map((p) => [p.publicKey, p.presharedKey, p.endpoint, `${p.address}/32`, "25"]).sort());
    });

    test(`${release}: the profile's versions are the tree's own packages'`, (t) => {
        const rows = inTree(t, trees[release], "dpkg-query -W -f '${Package} ${Version} ${source:Package} ${source:Version}\\n' " +
            "nginx-light nginx-common openssh-server nftables wireguard-tools bash libsystemd0");
        const pkg = Object.fromEntries(rows.trim().split("\n").map((l) => l.split(" ")).map(([name, version, source, sourceVersion]) => [name, { version, source, sourceVersion }]));
        // A profile version names the upstream release: "9.2p1" for 1:9.2p1-2+deb12u3, "5.2.15" for 5.2.15-2+b7, "252" for 252.39-1~deb12u2.
        const matches = (want: string, debian: string) => {
            const up = upstreamVersion(debian);
            return up === want || (up.startsWith(want) && /^[^0-9]/.test(up.slice(want.length)));
        };
        const v = profile.versions;
        const checks: [string, string, string][] = [
            ["nginx", v.nginx, pkg["nginx-light"].version], ["nginx (common)", v.nginx, pkg["nginx-common"].version],
            ["openssh", v.openssh, pkg["openssh-server"].version], ["nftables", v.nftables, pkg.nftables.version],
            ["wireguardTools", v.wireguardTools, pkg["wireguard-tools"].version], ["bash", v.bash, pkg.bash.version],
            // minbase has no systemd, but its library libsystemd0 is built from the same source, at the same version.
            ["systemd", v.systemd, pkg.libsystemd0.sourceVersion],
        ];
        t.is(pkg.libsystemd0.source, "systemd");
        // Not checked: the kernel. A tree has no linux-image package (nor apt lists to ask for its candidate).
        t.log(`${release} (${profile.codename}): ` + checks.map(([name, , debian]) => `${name} ${debian}`).join(", ") + `; kernel ${v.kernel} unchecked`);
        t.deepEqual(checks.filter(([, want, debian]) => !matches(want, debian)).map(([name, want, debian]) => `${name}: profile says ${want}, the tree has ${debian}`), []);
    });
}

// The regressions the per-release rendering exists for: each check above can fail.
test("debian-12's sshd drop-in is refused by debian-11's sshd (OpenSSH 8.4 has no sntrup761)", (t) => {
    const r = sshdInTree(t, "debian-11", sshdSettings(RELEASES["debian-12"]));
    t.not(r.status, 0);
    t.regex(r.stderr, /Unsupported KEX algorithm "?sntrup761x25519-sha512@openssh\.com/);
});

test("debian-12's gateway config is refused by debian-11's nginx 1.18 (no ssl_conf_command)", (t) => {
    const r = nginxInTree(t, "debian-11", RELEASES["debian-12"]);
    t.not(r.status, 0);
    t.regex(r.stderr, /unknown directive "ssl_conf_command"/);
});

// The cached trees are only ever the lower layer of an overlay: nothing in them changed since built.
test.after.always("the release trees are unchanged", (t) => {
    for (const [release, tree] of Object.entries(trees)) {
        t.is(execFileSync("find", [tree, "-newer", join(tree, ".complete")], { encoding: "utf8" }).trim(), "", `${release}: changed since it was built`);
    }
});
