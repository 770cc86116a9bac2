// A PKCS#12 bundle of a client's key, certificate and CA chain: the one file browsers, Windows,
// Java keystores and `curl --cert-type P12` import. openssl makes it once on the deploying machine
// and the bundle is kept as a tracked resource: its salts are random, so making it afresh at each
// run would change the output every time. It is made again when the certificate or key changes.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export interface Pkcs12Bundle {
    /** The bundle, base64 (secret). */
    base64: pulumi.Output<string>;
    /** Its import password (secret). */
    password: pulumi.Output<string>;
}

export interface BundleContents {
    certPem: pulumi.Input<string>;
    privateKeyPem: pulumi.Input<string>;
    chainPem: pulumi.Input<string>;
}

/**
 * The PEMs travel on stdin and the password in the environment, so neither is on a command line;
 * the bundle goes through an owner-only temporary file because sh has no pipefail.
 * `friendlyName` must already be a validated member name (it is inside the command).
 */
export function pkcs12Command(friendlyName: string): string {
    return `t="$(mktemp)" && openssl pkcs12 -export -name '${friendlyName}' -passout env:ZT_P12_PASSWORD -out "$t" ` +
        `&& openssl base64 -A -in "$t"; rc=$?; rm -f "$t"; exit $rc`;
}

export function pkcs12Bundle(resourceName: string, friendlyName: string, contents: BundleContents, parent: pulumi.Resource): Pkcs12Bundle {
    const password = new random.RandomPassword(`${resourceName}-password`, { length: 24, special: false }, { parent });
    const bundle = new command.local.Command(resourceName, {
        create: pkcs12Command(friendlyName),
        stdin: pulumi.secret(pulumi.all([contents.privateKeyPem, contents.certPem, contents.chainPem]).apply((pems) => pems.join(""))),
        environment: { ZT_P12_PASSWORD: password.result },
        logging: "none",
    }, { parent, additionalSecretOutputs: ["stdout"] });
    return { base64: pulumi.secret(bundle.stdout), password: pulumi.secret(password.result) };
}
