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
import { GATEWAY_LOG_DIR, renderGatewayLogrotate } from "../../components/render/gateway-log";
import { RELEASES, ReleaseProfile } from "../../components/render/releases";
import { SSHD_CIPHERS, SSHD_MACS, renderSshdConfig } from "../../components/render/sshd";
import { renderWireGuardConfig } from "../../components/render/wireguard";
import { clampPrivateKey, publicKeyOf } from "../../components/wireguard-keys";
import { SEED_NODES, SEED_RULES, seedPolicyMembers } from "../../stacks/seed-scenario";
import { writeClientCertificates, writeCurrentCrl, writeGatewayPki } from "../helpers/gateway-pki";
import { inTree, releaseTree, runInTree, upstreamVersion } from "../helpers/release-tree";

const trees: Record<string, string> = {};
let pkiDir = "";
let pki: Record<string, Buffer> = {};
/** Client certificates from the PKI's CA: alice (allowed), carol (valid, not on the allowlist), bob (revoked). */
let clientPki: Record<string, Buffer> = {};
const CLIENTS = ["alice", "carol", "bob"];

test.before(() => {
    for (const release of Object.keys(RELEASES)) trees[release] = releaseTree(release);
    // One PKI for the file (the machine's openssl makes it; each release's nginx reads it).
    pkiDir = mkdtempSync(join(tmpdir(), "zt-releases-pki-"));
    writeGatewayPki(pkiDir);
    pki = Object.fromEntries(Object.values(GATEWAY_FILES).filter((f) => f !== GATEWAY_FILES.config).map((f) => [f, readFileSync(join(pkiDir, f))]));
    writeClientCertificates(pkiDir, CLIENTS, "bob");
    writeCurrentCrl(pkiDir); // after pki was read: nginx -t takes any CRL, a running gateway a current one
    clientPki = Object.fromEntries([...CLIENTS.flatMap((c) => [`${c}.crt`, `${c}.key`]), GATEWAY_FILES.crl].map((f) => [f, readFileSync(join(pkiDir, f))]));
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

// The warnings count: a deprecated directive (trixie's `listen ... http2`) passes -t with a warning.
function nginxInTree(t: any, release: string, renderedFor: ReleaseProfile) {
    return runInTree(t, trees[release], "set -e; for c in nginx-tls13.conf nginx-tls12.conf; do nginx -t -q -c /scratch/$c; done", {
        net: true,
        files: { ...pki, "nginx-tls13.conf": renderGatewayConfig(gatewaySpec(renderedFor, false)), "nginx-tls12.conf": renderGatewayConfig(gatewaySpec(renderedFor, true)) },
    });
}

// The rendered gateway, run by the release's nginx in the tree, with a second nginx of the tree as its
// upstream that answers with the identity headers it got. The requests come from the machine's curl
// in the same network namespace (the setup step, before the chroot): every client over --http2 and
// --http1.1, sending forged identity headers. bob is on the allowlist, so only the CRL stops him.
const UPSTREAM_CONF = [
    "pid /scratch/upstream.pid;", "error_log /scratch/upstream.error.log warn;", "events { worker_connections 64; }",
    "http { access_log off; server { listen 127.0.0.1:18080; default_type application/json; location / {",
    "    return 200 '{\"x-client-dn\":\"$http_x_client_dn\",\"x-client-verify\":\"$http_x_client_verify\",\"x-client-fingerprint\":\"$http_x_client_fingerprint\"}';",
    "} } }", "",
].join("\n");

const CURL_EVERY_CLIENT = `
f="$s/files"
chroot "$root" /usr/sbin/nginx -c /scratch/upstream.conf
chroot "$root" /usr/sbin/nginx -c /scratch/gateway.conf
ask() { # label, curl arguments
    printf '=== %s\\n' "$1"; shift
    curl -sS --max-time 10 --resolve gw:18443:127.0.0.1 --cacert "$f/server-chain.crt" -w '\\n%{http_version} %{http_code}\\n' \\
        -H 'X-Client-DN: CN=mallory,O=zerotrust' -H 'X-Client-Verify: SUCCESS-FORGED' "$@" https://gw:18443/ 2>&1 || true
}
for proto in http2 http1.1; do
    for who in alice carol bob; do ask "$proto $who" "--$proto" --cert "$f/$who.crt" --key "$f/$who.key"; done
    ask "$proto none" "--$proto"
    ask "$proto alice-other-name" "--$proto" --cert "$f/alice.crt" --key "$f/alice.key" -H "Host: other.example.internal:18443"
done
`;

function servedInTree(t: any, release: string, profile: ReleaseProfile) {
    const gateway = renderGatewayConfig({ ...gatewaySpec(profile, false), listenIPv6: false, serverName: "gw", upstreams: ["127.0.0.1:18080"], allowedDns: ["CN=alice,O=zerotrust", "CN=bob,O=zerotrust"] });
    return runInTree(t, trees[release], "true", { net: true, files: { ...pki, ...clientPki, "gateway.conf": gateway, "upstream.conf": UPSTREAM_CONF }, setup: CURL_EVERY_CLIENT });
}

/** curl's answers by label: the HTTP version it used, the status ("000": none) and the body. */
function curlAnswers(out: string): Record<string, { version: string; status: string; body: string }> {
    return Object.fromEntries(out.split(/^=== /m).slice(1).map((block) => {
        const lines = block.trimEnd().split("\n");
        const [version, status] = lines.pop()!.split(" ");
        return [lines[0], { version, status, body: lines.slice(1).join("\n") }];
    }));
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
        t.is(r.stderr, "", "no warnings either");
        t.is(renderGatewayConfig(gatewaySpec(profile, false)).includes("ssl_conf_command"), profile.nginxSslConfCommand);
    });

    test(`${release}: its nginx serves the gateway over HTTP/2 as over HTTP/1.1: same allowlist, identity headers, refusals (the machine's curl)`, (t) => {
        const r = servedInTree(t, release, profile);
        t.is(r.status, 0, r.stderr);
        const answers = curlAnswers(r.stdout);
        t.log(`${release}: ${Object.entries(answers).map(([k, a]) => `${k} -> HTTP/${a.version} ${a.status}`).join(", ")}`);
        for (const proto of ["http2", "http1.1"]) {
            const version = proto === "http2" ? "2" : "1.1";
            const alice = answers[`${proto} alice`];
            t.deepEqual([alice.version, alice.status], [version, "200"], `${proto} alice: ${alice.body}`);
            const seen = JSON.parse(alice.body);
            t.is(seen["x-client-dn"], "CN=alice,O=zerotrust", `${proto}: the verified DN replaces the one the client sent`);
            t.is(seen["x-client-verify"], "SUCCESS", proto);
            t.regex(seen["x-client-fingerprint"], /^[0-9a-f]{40}$/, proto);
            t.deepEqual([answers[`${proto} carol`].version, answers[`${proto} carol`].status], [version, "403"], `${proto}: carol is not on the allowlist`);
            t.deepEqual([answers[`${proto} bob`].version, answers[`${proto} bob`].status], [version, "400"], `${proto}: bob's certificate is revoked (on the allowlist here, so the CRL refuses him)`);
            t.deepEqual([answers[`${proto} none`].version, answers[`${proto} none`].status], [version, "400"], `${proto}: no client certificate`);
            // A request for another name on alice's connection, as a client that coalesces connections
            // sends it: the same single verifying server answers, with the connection's identity.
            const other = answers[`${proto} alice-other-name`];
            t.deepEqual([other.version, other.status], [version, "200"], `${proto}: ${other.body}`);
            t.is(JSON.parse(other.body)["x-client-dn"], "CN=alice,O=zerotrust", `${proto}: a coalesced request carries the connection's verified identity`);
        }
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

    // Trixie's tree has no logrotate (release-tree.sh says why): its rule is checked on 11 and 12 only.
    if (release !== "debian-13") test(`${release}: its logrotate rotates the gateway's logs by the rendered rule, and the postrotate signals the gateway's master`, (t) => {
        // A stand-in for the gateway's master: records the USR1 that makes nginx reopen its logs.
        const rule = renderGatewayLogrotate("/run/zt-gateway.pid");
        const out = inTree(t, trees[release], [
            "set -e",
            `mkdir -p ${GATEWAY_LOG_DIR} && echo '{"verdict":"allowed"}' >${GATEWAY_LOG_DIR}/gateway-access.log && echo err >${GATEWAY_LOG_DIR}/gateway-error.log`,
            "(trap 'echo reopened >/tmp/usr1; exit 0' USR1; while :; do sleep 0.1; done) & echo $! >/run/zt-gateway.pid",
            "logrotate -d -s /tmp/debug.state /scratch/rule >/tmp/debug.log 2>&1 || { cat /tmp/debug.log >&2; exit 1; }",
            "logrotate -f -s /tmp/logrotate.state /scratch/rule",
            "for i in $(seq 50); do [ -e /tmp/usr1 ] && break; sleep 0.1; done",
            `cat /tmp/usr1; ls ${GATEWAY_LOG_DIR} | sort; stat -c '%a %U %G' ${GATEWAY_LOG_DIR}/gateway-access.log`,
        ].join("\n"), { files: { rule } });
        t.deepEqual(out.trim().split("\n"), ["reopened", "gateway-access.log", "gateway-access.log.1", "gateway-error.log", "gateway-error.log.1", "640 root adm"], out);
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

test("debian-12's gateway config makes debian-13's nginx 1.26 warn (`listen ... http2` is deprecated there)", (t) => {
    const r = nginxInTree(t, "debian-13", RELEASES["debian-12"]);
    t.is(r.status, 0, r.stderr);
    t.regex(r.stderr, /\[warn\].*the "listen \.\.\. http2" directive is deprecated, use the "http2" directive instead/);
});

test("`http2 on;` is refused by debian-11's nginx 1.18 and debian-12's 1.22 (the directive is from 1.25.1)", (t) => {
    for (const release of ["debian-11", "debian-12"]) {
        const r = nginxInTree(t, release, { ...RELEASES[release], nginxHttp2: "directive" });
        t.not(r.status, 0, release);
        t.regex(r.stderr, /unknown directive "http2"/, release);
    }
});

// The cached trees are only ever the lower layer of an overlay: nothing in them changed since built.
test.after.always("the release trees are unchanged", (t) => {
    for (const [release, tree] of Object.entries(trees)) {
        t.is(execFileSync("find", [tree, "-newer", join(tree, ".complete")], { encoding: "utf8" }).trim(), "", `${release}: changed since it was built`);
    }
});
