// Certificate revocation lists, encoded and signed by openssl (`openssl ca -gencrl`), never by hand.
// A CRL's times come from its renewal window, so the same window and revocations give a CRL with
// the same validity; it is made on the deploying machine when the gateway is applied, and only the
// CRL, never the CA key, goes to the host.
import { execFileSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

export interface CrlRequest {
    caCertPem: string;
    /** The CA's private key (secret): a CRL is signed by the CA that issued the certificates. */
    caKeyPem: string;
    /** Serial numbers (hex) of the revoked certificates this CA issued. */
    revokedSerials: string[];
    /** Window number: lastUpdate = start of the window; also the CRL number. */
    window: number;
    windowDays: number;
}

function asn1Time(d: Date): string {
    return d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
}

/** The window a moment falls in; a CRL made in window w is valid until the end of window w+1. */
export function crlWindow(now: Date, windowDays: number): number {
    return Math.floor(now.getTime() / (windowDays * 86400_000));
}

export function crlTimes(window: number, windowDays: number): { lastUpdate: Date; nextUpdate: Date } {
    const start = window * windowDays * 86400_000;
    return { lastUpdate: new Date(start), nextUpdate: new Date(start + 2 * windowDays * 86400_000) };
}

export function buildCrl(req: CrlRequest): string {
    const dir = mkdtempSync(join(tmpdir(), "zt-crl-")); // 0700
    try {
        const { lastUpdate, nextUpdate } = crlTimes(req.window, req.windowDays);
        writeFileSync(join(dir, "ca.pem"), req.caCertPem);
        writeFileSync(join(dir, "ca.key"), req.caKeyPem, { mode: 0o600 });
        const revokedAt = asn1Time(lastUpdate).slice(2); // index.txt takes UTCTime
        writeFileSync(join(dir, "index.txt"), req.revokedSerials
            .map((s) => `R\t491231235959Z\t${revokedAt}\t${s.toUpperCase()}\tunknown\t/CN=revoked\n`).join(""));
        writeFileSync(join(dir, "crlnumber"), `${req.window.toString(16).padStart(4, "0")}\n`);
        writeFileSync(join(dir, "openssl.cnf"), [
            "[ca]", "default_ca = zt",
            "[zt]", `database = ${join(dir, "index.txt")}`, `crlnumber = ${join(dir, "crlnumber")}`,
            "default_md = sha256", "crl_extensions = crl_ext",
            "[crl_ext]", "authorityKeyIdentifier = keyid:always", "",
        ].join("\n"));
        execFileSync("openssl", ["ca", "-batch", "-gencrl", "-config", join(dir, "openssl.cnf"),
            "-cert", join(dir, "ca.pem"), "-keyfile", join(dir, "ca.key"), "-out", join(dir, "crl.pem"),
            "-crl_lastupdate", asn1Time(lastUpdate), "-crl_nextupdate", asn1Time(nextUpdate)], { stdio: ["ignore", "pipe", "pipe"] });
        return execFileSync("openssl", ["crl", "-in", join(dir, "crl.pem")], { encoding: "utf8" });
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** A certificate's serial number in hex, as openssl prints it. */
export function serialOf(certPem: string): string {
    return execFileSync("openssl", ["x509", "-noout", "-serial"], { input: certPem, encoding: "utf8" }).trim().replace(/^serial=/, "");
}
