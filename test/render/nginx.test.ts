// The gateway's nginx configuration, checked by the real `nginx -t` with real certificates and CRL.
import test from "ava";
import { execFileSync, spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { sessionEpochOf } from "../../components/mtls-gateway";
import { GATEWAY_FILES, GatewaySpec, renderGatewayConfig } from "../../components/render/nginx";
import { RELEASES } from "../../components/render/releases";
import { writeGatewayPki } from "../helpers/gateway-pki";

function pki(t: any): string {
    const dir = mkdtempSync(join(tmpdir(), "zt-nginx-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeGatewayPki(dir);
    return dir;
}

const spec = (dir: string): GatewaySpec => ({
    listenPort: 18443, listenIPv6: false, serverName: "gw.example.internal", upstreams: ["10.77.0.5:8080"], allowedDns: ["CN=alice,O=zerotrust"],
    verifyDepth: 1, allowTls12: false, pidFile: join(dir, "nginx.pid"), errorLog: join(dir, "error.log"), accessLog: join(dir, "access.log"), sessionEpoch: "test",
    release: RELEASES["debian-12"], // this machine's nginx (1.22)
});

test("nginx -t accepts the gateway config, TLS 1.3 only and with TLS 1.2 allowed", (t) => {
    const dir = pki(t);
    for (const allowTls12 of [false, true]) {
        writeFileSync(join(dir, GATEWAY_FILES.config), renderGatewayConfig({ ...spec(dir), allowTls12 }));
        t.notThrows(() => execFileSync("nginx", ["-t", "-q", "-c", join(dir, GATEWAY_FILES.config)], { stdio: ["ignore", "pipe", "pipe"] }));
    }
});

test("nginx -t accepts the dual-stack listen, and the IPv6 socket is the same single verifying server", (t) => {
    const dir = pki(t);
    const conf = renderGatewayConfig({ ...spec(dir), listenIPv6: true, upstreams: ["[fd12:3456:789a:1::8]:8080", "10.77.0.5:8080"] });
    t.is(conf.match(/listen /g)?.length, 2);
    t.regex(conf, /listen \[::\]:18443 ssl http2 default_server;/);
    writeFileSync(join(dir, GATEWAY_FILES.config), conf);
    t.notThrows(() => execFileSync("nginx", ["-t", "-q", "-c", join(dir, GATEWAY_FILES.config)], { stdio: ["ignore", "pipe", "pipe"] }));
});

test("the config verifies every client and is the only server on its port", (t) => {
    const conf = renderGatewayConfig(spec("/x"));
    t.is(conf.match(/listen /g)?.length, 1);
    t.regex(conf, /listen 18443 ssl http2 default_server;/);
    t.regex(conf, /ssl_verify_client on;/);
    t.regex(conf, /ssl_protocols TLSv1\.3;/);
    t.regex(conf, /ssl_crl crl\.pem;/);
    t.regex(conf, /"CN=alice,O=zerotrust" 1;/);
    t.regex(renderGatewayConfig({ ...spec("/x"), allowTls12: true }), /ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305;/);
});

test("HTTP/2 in each release's syntax: the listen parameter up to nginx 1.24, `http2 on;` from 1.25.1", (t) => {
    for (const [release, profile] of Object.entries(RELEASES)) {
        const conf = renderGatewayConfig({ ...spec("/x"), listenIPv6: true, release: profile });
        const listens = conf.match(/^ *listen .*$/gm)!;
        t.is(listens.length, 2, release);
        if (profile.nginxHttp2 === "directive") {
            t.deepEqual(listens.map((l) => l.trim()), ["listen 18443 ssl default_server;", "listen [::]:18443 ssl default_server;"], release);
            t.is(conf.match(/^ {8}http2 on;$/gm)?.length, 1, `${release}: once, in the gateway's server`);
        } else {
            t.true(listens.every((l) => / ssl http2 default_server;$/.test(l)), `${release}: ${listens.join(" | ")}`);
            t.notRegex(conf, /http2 on;/, release);
        }
    }
    t.is(RELEASES["debian-13"].nginxHttp2, "directive", "trixie's nginx 1.26.3 deprecates the listen parameter");
    t.is(RELEASES["debian-11"].nginxHttp2, "listen-parameter", "bullseye's nginx 1.18 has no http2 directive");
});

test("nginx -t refuses a CRL that is not one, so a bad CRL never reaches a running gateway", (t) => {
    const dir = pki(t);
    writeFileSync(join(dir, GATEWAY_FILES.config), renderGatewayConfig(spec(dir)));
    writeFileSync(join(dir, GATEWAY_FILES.crl), "not a crl\n");
    t.throws(() => execFileSync("nginx", ["-t", "-q", "-c", join(dir, GATEWAY_FILES.config)], { stdio: ["ignore", "pipe", "pipe"] }));
});

test("the CRL is signed by the CA, lists the revoked serials and spans two windows", (t) => {
    const dir = pki(t);
    const text = execFileSync("openssl", ["crl", "-in", join(dir, GATEWAY_FILES.crl), "-noout", "-text", "-CAfile", join(dir, "ca.crt")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    t.regex(text, /Serial Number: 1A2B/);
    const last = Date.parse(/Last Update: (.*)/.exec(text)![1]);
    const next = Date.parse(/Next Update: (.*)/.exec(text)![1]);
    t.is(next - last, 14 * 86400_000);
    t.is(last, 100 * 7 * 86400_000);
    // openssl reports the signature check on stderr.
    const check = spawnSync("openssl", ["crl", "-in", join(dir, GATEWAY_FILES.crl), "-noout", "-CAfile", join(dir, "ca.crt")], { encoding: "utf8" });
    t.regex(check.stderr, /verify OK/);
    const other = pki(t);
    const foreign = spawnSync("openssl", ["crl", "-in", join(dir, GATEWAY_FILES.crl), "-noout", "-CAfile", join(other, "ca.crt")], { encoding: "utf8" });
    t.notRegex(foreign.stderr, /verify OK/);
});

test("an allowlist entry that could break out of its quotes is refused", (t) => {
    t.throws(() => renderGatewayConfig({ ...spec("/x"), allowedDns: ['CN=a" 1; } server { listen 80'] }), { message: /cannot be quoted safely/ });
});

test("the session cache is named after the revocation set, so revoking a client empties it at the reload", (t) => {
    const zone = (epoch: string) => /ssl_session_cache builtin:\d+ shared:(\w+):10m;/.exec(renderGatewayConfig({ ...spec("/x"), sessionEpoch: epoch }))?.[1];
    t.is(zone("a1"), "zt_a1");
    t.not(zone(sessionEpochOf(["1A2B"])), zone(sessionEpochOf([])));
    t.is(sessionEpochOf(["02", "01"]), sessionEpochOf(["01", "02"]));
    t.throws(() => renderGatewayConfig({ ...spec("/x"), sessionEpoch: "a b;" }), { message: /session epoch/ });
});
