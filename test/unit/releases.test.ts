// Host releases as pure functions: which release a node renders for, what the renderings differ in,
// and the refusals. (test/render/releases.test.ts checks each rendering with that release's tools.)
import test from "ava";
import { machineRelease } from "../../components/hosts/lab";
import { RELEASES, SUPPORTED_RELEASES, releaseProfile } from "../../components/render/releases";
import { renderGatewayConfig } from "../../components/render/nginx";
import { renderSshdConfig } from "../../components/render/sshd";
import { releaseOf } from "../../components/node/plan";
import { checkReleases } from "../../stacks/program";
import { SEED_NODES } from "../../stacks/seed-scenario";

test("a node renders for its own release, else its host's, else debian-12; the two must agree", (t) => {
    t.is(releaseOf(undefined, undefined).name, "debian-12");
    t.is(releaseOf(undefined, "debian-11").name, "debian-11");
    t.is(releaseOf("debian-13", undefined).name, "debian-13");
    t.is(releaseOf("debian-13", "debian-13").name, "debian-13");
    t.throws(() => releaseOf("debian-12", "debian-11"), { message: /^release: "debian-12" is not valid: the host was made with debian-11/ });
});

test("a release outside the supported set is refused with the list of supported ones", (t) => {
    for (const bad of ["ubuntu-22.04", "debian-10", "Debian-12", "bookworm", "", 12, undefined]) {
        t.throws(() => releaseProfile("release", bad), { message: /^release: .* supported host releases are debian-11, debian-12, debian-13/ }, String(bad));
    }
    t.throws(() => releaseOf(undefined, "ubuntu-24.04"), { message: /^connection\.release: "ubuntu-24\.04"/ });
    t.deepEqual(SUPPORTED_RELEASES, ["debian-11", "debian-12", "debian-13"]);
});

test("a lab host without a release tree runs this machine's release, read from its os-release", (t) => {
    t.is(machineRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'), "debian-12");
    t.is(machineRelease('ID=debian\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n'), "debian-13");
    t.is(machineRelease('ID=ubuntu\nVERSION_ID="24.04"\n'), undefined, "not supported: the node's default applies and the host refuses it");
});

test("sshd: each release gets its strongest key exchange, post-quantum where its OpenSSH has it", (t) => {
    const kex = (r: string) => /^KexAlgorithms (.*)$/m.exec(renderSshdConfig({ allowUsers: ["root"], permitRootLogin: "prohibit-password", release: RELEASES[r] }))![1];
    t.notRegex(kex("debian-11"), /sntrup|mlkem/, "OpenSSH 8.4 has neither");
    t.regex(kex("debian-12"), /^sntrup761x25519-sha512@openssh\.com,/);
    t.regex(kex("debian-13"), /^mlkem768x25519-sha256,/);
    for (const r of SUPPORTED_RELEASES) t.regex(kex(r), /curve25519-sha256/, r);
});

test("sshd: keyboard-interactive off on every release, with OpenSSH 8.4's own keyword on debian-11 only", (t) => {
    const conf = (r: string) => renderSshdConfig({ allowUsers: ["root"], permitRootLogin: "prohibit-password", release: RELEASES[r] });
    for (const r of SUPPORTED_RELEASES) t.regex(conf(r), /^KbdInteractiveAuthentication no$/m, r);
    t.regex(conf("debian-11"), /^ChallengeResponseAuthentication no$/m);
    // 8.7 made it an alias: the files of debian-12 and -13 stay as they were.
    t.notRegex(conf("debian-12"), /ChallengeResponse/);
    t.notRegex(conf("debian-13"), /ChallengeResponse/);
});

test("nginx: ssl_conf_command only where nginx knows it (1.19.4 and later), HTTP/2 in each release's syntax; the rest is the same on every release", (t) => {
    const conf = (r: string) => renderGatewayConfig({
        listenPort: 443, listenIPv6: false, serverName: "gw.example.internal", upstreams: ["10.77.0.5:8080"], allowedDns: ["CN=alice,O=zerotrust"],
        verifyDepth: 1, allowTls12: false, pidFile: "/run/gw.pid", errorLog: "/var/log/gw.log", sessionEpoch: "e", release: RELEASES[r],
    });
    t.notRegex(conf("debian-11"), /ssl_conf_command/);
    t.regex(conf("debian-12"), /ssl_conf_command NumTickets 1;/);
    t.regex(conf("debian-12"), /listen 443 ssl http2 default_server;/);
    t.regex(conf("debian-13"), /listen 443 ssl default_server;\n {8}http2 on;/);
    t.is(conf("debian-13"), conf("debian-12").replace("listen 443 ssl http2 default_server;\n", "listen 443 ssl default_server;\n        http2 on;\n"));
    t.is(conf("debian-11"), conf("debian-12").replace("        ssl_conf_command NumTickets 1;\n", ""));
});

test("releases: each key names a node of the stack", (t) => {
    t.deepEqual(checkReleases({ db: "debian-11" }, SEED_NODES), { db: "debian-11" });
    t.throws(() => checkReleases({ "db-9": "debian-11" }, SEED_NODES), { message: /^releases\.db-9: "debian-11" is not valid: names no node/ });
    t.throws(() => checkReleases(["debian-11"] as any, SEED_NODES), { message: /^releases:/ });
});
