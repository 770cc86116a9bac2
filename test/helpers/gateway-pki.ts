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
