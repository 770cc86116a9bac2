// Client material for the gateway tests: the stack's own certificates, plus the kinds a gateway
// must refuse (a certificate from another CA, an expired one from the right CA), made with openssl.
import { execFileSync, spawnSync } from "child_process";
import { mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

export function privateDir(): string {
    return mkdtempSync(join(tmpdir(), "zt-gw-")); // 0700
}

export function writePrivate(dir: string, name: string, content: string): string {
    writeFileSync(join(dir, name), content, { mode: 0o600 });
    return join(dir, name);
}

const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });

/** A client certificate for CN=alice from a CA nobody trusts. */
export function foreignCertificate(dir: string): { cert: string; key: string } {
    const key = join(dir, "foreign.key");
    const cert = join(dir, "foreign.crt");
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
        "-subj", "/O=zerotrust/CN=alice", "-days", "1", "-addext", "extendedKeyUsage=clientAuth"]);
    return { cert, key };
}

/** A client certificate for CN=alice from the right CA, valid only in January 2020. */
export function expiredCertificate(dir: string, caCertPem: string, caKeyPem: string): { cert: string; key: string } {
    const ca = writePrivate(dir, "ca.crt", caCertPem);
    const caKey = writePrivate(dir, "ca.key", caKeyPem);
    writeFileSync(join(dir, "index.txt"), "");
    writeFileSync(join(dir, "serial"), "1000\n");
    writeFileSync(join(dir, "ca.cnf"), [
        "[ca]", "default_ca = zt", "[zt]", `database = ${join(dir, "index.txt")}`, `serial = ${join(dir, "serial")}`,
        `new_certs_dir = ${dir}`, "default_md = sha256", "policy = any", "x509_extensions = client", "copy_extensions = none",
        "[any]", "commonName = supplied", "organizationName = optional", "[client]", "extendedKeyUsage = clientAuth",
        "basicConstraints = critical,CA:FALSE", "",
    ].join("\n"));
    const key = join(dir, "expired.key");
    openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
        "-out", join(dir, "expired.csr"), "-subj", "/O=zerotrust/CN=alice"]);
    const cert = join(dir, "expired.crt");
    openssl(["ca", "-batch", "-notext", "-config", join(dir, "ca.cnf"), "-cert", ca, "-keyfile", caKey, "-in", join(dir, "expired.csr"),
        "-out", cert, "-startdate", "20200101000000Z", "-enddate", "20200201000000Z"]);
    return { cert, key };
}

export interface CurlResult {
    status: string;
    body: string;
    exit: number;
    /** The HTTP version of the answer, as curl's %{http_version} says it ("1.1", "2"; "0" for none). */
    version: string;
}

/** curl from this machine; status "000" when no HTTP response came (TLS refused). */
export function curl(url: string, resolve: string, ca: string, extra: string[]): CurlResult {
    try {
        const out = execFileSync("curl", ["-sS", "--max-time", "10", "--resolve", resolve, "--cacert", ca, "-w", "\n%{http_version} %{http_code}", ...extra, url],
            { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        const lines = out.split("\n");
        const [version, status] = lines.pop()!.split(" ");
        return { status, version, body: lines.join("\n"), exit: 0 };
    } catch (e: any) {
        return { status: "000", version: "0", body: String(e.stderr ?? ""), exit: e.status ?? 1 };
    }
}

/**
 * One request over one TLS connection with openssl s_client, which can save its session (sessOut)
 * or offer a saved one (sessIn); says whether the server resumed it and what HTTP status came back.
 */
export function tlsRequest(address: string, serverName: string, ca: string, client: { cert: string; key: string },
    session: { sessIn?: string; sessOut?: string }): { resumed: boolean; status: string } {
    const args = ["s_client", "-connect", `${address}:443`, "-servername", serverName, "-CAfile", ca, "-cert", client.cert, "-key", client.key,
        "-ign_eof", ...(session.sessIn ? ["-sess_in", session.sessIn] : []), ...(session.sessOut ? ["-sess_out", session.sessOut] : [])];
    const r = spawnSync("openssl", args, {
        input: `GET / HTTP/1.1\r\nHost: ${serverName}\r\nConnection: close\r\n\r\n`, encoding: "utf8", timeout: 15_000,
    });
    return { resumed: /^Reused, TLSv1\.3/m.test(r.stdout), status: /^HTTP\/1\.1 (\d{3})/m.exec(r.stdout)?.[1] ?? "000" };
}
