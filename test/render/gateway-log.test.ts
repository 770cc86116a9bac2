// The gateway's access log, written by the real nginx serving the rendered config on loopback
// with a real PKI: one JSON line per request naming the certificate and the verdict, for an allowed
// client, one off the allowlist, a revoked one and one without a certificate; then rotated as
// logrotate does it (rename, then the rule's own postrotate command), and nginx writes a new file.
import test from "ava";
import { execFile, execFileSync } from "child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "fs";
import { createServer } from "http";
import { AddressInfo } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { promisify } from "util";
import { buildCrl, crlWindow } from "../../components/remote/crl";
import { AccessLogLine, postrotateCommand, renderGatewayLogrotate } from "../../components/render/gateway-log";
import { GATEWAY_FILES, renderGatewayConfig } from "../../components/render/nginx";
import { RELEASES } from "../../components/render/releases";
import { writeGatewayPki } from "../helpers/gateway-pki";

const run = promisify(execFile);

/** A client certificate for CN=<name> from the PKI's CA, with a given serial (1A2B is the CRL's). */
function client(dir: string, name: string, serial: string): { cert: string; key: string } {
    const o = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
    o(["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/O=zerotrust/CN=${name}`]);
    o(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", `0x${serial}`, "-days", "1", "-extfile", "client.ext", "-out", `${name}.crt`]);
    return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

test("each request is one JSON line naming the certificate and the verdict; a rotation starts a new file", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "zt-gwlog-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeGatewayPki(dir);
    // A current CRL (the helper's is from 1971, for nginx -t only) that revokes serial 1A2B.
    writeFileSync(join(dir, GATEWAY_FILES.crl), buildCrl({
        caCertPem: readFileSync(join(dir, "ca.crt"), "utf8"), caKeyPem: readFileSync(join(dir, "ca.key"), "utf8"), revokedSerials: ["1A2B"],
        window: crlWindow(new Date(), 7), windowDays: 7,
    }));
    const upstream = createServer((_req, res) => res.end("hello\n"));
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    t.teardown(() => upstream.close());
    const upstreamAt = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const port = 18000 + Math.floor(Math.random() * 1000);
    // The workers (nobody) reopen the log themselves after a rotation: its directory must let them in,
    // as /var/log/zerotrust does (the PKI's directory does not).
    const logs = mkdtempSync(join(tmpdir(), "zt-gwlog-"));
    t.teardown(() => rmSync(logs, { recursive: true, force: true }));
    chmodSync(logs, 0o755);
    const accessLog = join(logs, "access.log");
    const pidFile = join(dir, "nginx.pid");
    writeFileSync(join(dir, GATEWAY_FILES.config), renderGatewayConfig({
        listenPort: port, listenIPv6: false, serverName: "gw.example.internal", upstreams: [upstreamAt], allowedDns: ["CN=alice,O=zerotrust", "CN=bob,O=zerotrust"],
        verifyDepth: 1, allowTls12: false, pidFile, errorLog: join(dir, "error.log"), accessLog, sessionEpoch: "test", release: RELEASES["debian-12"],
    }));
    const [alice, bob, carol] = [client(dir, "alice", "01"), client(dir, "bob", "1A2B"), client(dir, "carol", "03")];
    execFileSync("nginx", ["-c", join(dir, GATEWAY_FILES.config)], { stdio: ["ignore", "pipe", "pipe"] });
    t.teardown(() => { if (existsSync(pidFile)) execFileSync("kill", ["-QUIT", readFileSync(pidFile, "utf8").trim()]); });

    const request = async (who?: { cert: string; key: string }) => {
        const auth = who ? ["--cert", who.cert, "--key", who.key] : [];
        // -k: the PKI's server certificate is self-signed; what is tested here is the client's.
        const r = await run("curl", ["-s", "-k", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
            "--resolve", `gw.example.internal:${port}:127.0.0.1`, ...auth, `https://gw.example.internal:${port}/?token=s3cret`]).catch((e) => e);
        return String(r.stdout);
    };
    t.deepEqual([await request(alice), await request(carol), await request(bob), await request()], ["200", "403", "400", "400"]);

    const lines = readFileSync(accessLog, "utf8").trim().split("\n").map((l) => JSON.parse(l) as AccessLogLine);
    t.deepEqual(lines.map((l) => [l.subject, l.verdict, l.status]), [
        ["CN=alice,O=zerotrust", "allowed", 200],
        ["CN=carol,O=zerotrust", "forbidden", 403],
        ["CN=bob,O=zerotrust", "revoked", 400],
        ["", "no-certificate", 400],
    ]);
    const [ok, forbidden, revoked] = lines;
    t.is(ok.upstream, upstreamAt, "the upstream that answered");
    t.is(ok.upstream_status, "200");
    t.true(ok.bytes_out > 0 && ok.bytes_in > 0);
    t.is(forbidden.upstream, "", "a refused request goes nowhere");
    t.is(revoked.verify, "FAILED:certificate revoked");
    const fingerprint = (c: string) => execFileSync("openssl", ["x509", "-in", c, "-noout", "-fingerprint", "-sha1"], { encoding: "utf8" }).split("=")[1].trim().replace(/:/g, "").toLowerCase();
    t.is(forbidden.fingerprint, fingerprint(carol.cert));
    t.is(ok.client, "127.0.0.1");
    t.regex(ok.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    const text = readFileSync(accessLog, "utf8");
    t.notRegex(text, /s3cret|token/, "no query string (it can carry a token)");
    for (const key of [alice.key, bob.key, carol.key, join(dir, GATEWAY_FILES.key)]) {
        const body = readFileSync(key, "utf8").split("\n").filter((l) => l && !l.startsWith("-----"));
        t.true(body.every((l) => !text.includes(l)), `no line of ${key} in the log`);
    }
    t.notRegex(text, /PRIVATE KEY/);

    // Rotation as logrotate does it: rename, then the rule's postrotate (here with this test's pid file).
    renameSync(accessLog, `${accessLog}.1`);
    execFileSync("sh", ["-c", postrotateCommand(renderGatewayLogrotate(pidFile))]);
    // The master makes the new file at once; each worker reopens when its turn comes.
    const count = (f: string) => existsSync(f) ? readFileSync(f, "utf8").split("\n").filter((l) => l).length : 0;
    let sent = 0;
    while (count(accessLog) === 0 && sent < 50) {
        await new Promise((r) => setTimeout(r, 100));
        t.is(await request(alice), "200");
        sent++;
    }
    t.true(count(accessLog) > 0, `nginx writes a new file after USR1 (${sent} requests)`);
    t.is(count(accessLog) + count(`${accessLog}.1`), 4 + sent, "every request is in one file or the other");
});

test("the logrotate rule rotates only zerotrust's own log directory and signals only the gateway's nginx", (t) => {
    const rule = renderGatewayLogrotate("/run/zerotrust-gateway.pid");
    t.regex(rule, /^\/var\/log\/zerotrust\/gateway-\*\.log \{$/m, "not /var/log/nginx, whose rule signals the distribution's nginx");
    t.is(postrotateCommand(rule), '[ ! -s /run/zerotrust-gateway.pid ] || kill -USR1 "$(cat /run/zerotrust-gateway.pid)"');
    t.regex(rule, /\tdelaycompress\n/, "the file before the current one stays plain: the report reads it");
    t.throws(() => renderGatewayLogrotate("/run/x; rm -rf /"), { message: /pid file/ });
});
