// A real P-256 PKI for the gateway's nginx: a CA, a server certificate and key, the client CAs and
// a CRL signed by the CA (components/remote/crl.ts), under the names GATEWAY_FILES gives them.
import { execFileSync } from "child_process";
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { buildCrl } from "../../components/remote/crl";
import { GATEWAY_FILES } from "../../components/render/nginx";

/** Writes the PKI into `dir` (also ca.crt and ca.key). */
export function writeGatewayPki(dir: string): void {
    const o = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    o(["req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/O=zerotrust/CN=ca", "-days", "1"]);
    o(["req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", GATEWAY_FILES.key, "-out", GATEWAY_FILES.certificate, "-subj", "/CN=gw", "-days", "1"]);
    writeFileSync(join(dir, GATEWAY_FILES.clientCas), readFileSync(join(dir, "ca.crt")));
    writeFileSync(join(dir, GATEWAY_FILES.crl), buildCrl({
        caCertPem: readFileSync(join(dir, "ca.crt"), "utf8"), caKeyPem: readFileSync(join(dir, "ca.key"), "utf8"), revokedSerials: ["1A2B"], window: 100, windowDays: 7,
    }));
}

/** The serial writeGatewayPki's CRL revokes: a client certificate issued with it is a revoked client. */
export const REVOKED_SERIAL = "1A2B";

/** Replaces the CRL with one valid now (writeGatewayPki's is from 1971: it rejects every client). */
export function writeCurrentCrl(dir: string): void {
    writeFileSync(join(dir, GATEWAY_FILES.crl), buildCrl({
        caCertPem: readFileSync(join(dir, "ca.crt"), "utf8"), caKeyPem: readFileSync(join(dir, "ca.key"), "utf8"),
        revokedSerials: [REVOKED_SERIAL], window: Math.floor(Date.now() / (7 * 86400_000)), windowDays: 7,
    }));
}

/**
 * Client certificates from writeGatewayPki's CA, as <name>.crt and <name>.key in `dir` (CN=name,
 * O=zerotrust); the one named `revoked` gets REVOKED_SERIAL, so the CRL lists it.
 */
export function writeClientCertificates(dir: string, names: string[], revoked?: string): void {
    const o = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n");
    names.forEach((name, i) => {
        o(["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/O=zerotrust/CN=${name}`]);
        o(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", name === revoked ? `0x${REVOKED_SERIAL}` : `0x${(0x100 + i).toString(16)}`,
            "-days", "1", "-extfile", "client.ext", "-out", `${name}.crt`]);
    });
}
