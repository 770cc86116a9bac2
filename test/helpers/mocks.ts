// Pulumi mocks that return what the real providers return: real keys and PEMs made with openssl,
// real random bytes. Unit tests only (one mock world per test file: ava runs each file in its own
// worker); everything end to end runs through the real engine (test/helpers/engine.ts).
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

export interface Recorded {
    type: string;
    name: string;
    inputs: any;
    custom: boolean;
}

/** Unwraps a secret input as the mock monitor passes it. */
export function plain(value: any): any {
    return value && typeof value === "object" && "value" in value && Object.keys(value).length === 2 ? value.value : value;
}

function withDir<T>(work: (dir: string) => T): T {
    const dir = mkdtempSync(join(tmpdir(), "zt-mock-"));
    try {
        return work(dir);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

function openssl(args: string[], input?: string): string {
    return execFileSync("openssl", args, { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}

function ed25519Key(): Record<string, string> {
    return withDir((dir) => {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(dir, "key")]);
        const read = (f: string) => readFileSync(join(dir, f), "utf8");
        return { privateKeyOpenssh: read("key"), publicKeyOpenssh: read("key.pub"), privateKeyPem: read("key") };
    });
}

function privateKey(inputs: any): Record<string, string> {
    if (inputs.algorithm === "ED25519") return ed25519Key();
    const pem = inputs.algorithm === "RSA"
        ? openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${inputs.rsaBits ?? 2048}`])
        : openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    return { privateKeyPem: pem, privateKeyPemPkcs8: pem, publicKeyPem: openssl(["pkey", "-pubout"], pem) };
}

function subjectOf(inputs: any): string {
    const s = plain(inputs.subject) ?? {};
    // The provider (Go's crypto/x509) writes O before CN; $ssl_client_s_dn then reads CN=...,O=...
    return (s.organization ? `/O=${s.organization}` : "") + `/CN=${s.commonName ?? "unnamed"}`;
}

const USE_NAMES: Record<string, [string, string]> = {
    cert_signing: ["ku", "keyCertSign"], crl_signing: ["ku", "cRLSign"], digital_signature: ["ku", "digitalSignature"],
    key_encipherment: ["ku", "keyEncipherment"], server_auth: ["eku", "serverAuth"], client_auth: ["eku", "clientAuth"],
};

function extensions(inputs: any): string {
    const uses: string[] = inputs.allowedUses ?? [];
    const ku = uses.filter((u) => USE_NAMES[u]?.[0] === "ku").map((u) => USE_NAMES[u][1]);
    const eku = uses.filter((u) => USE_NAMES[u]?.[0] === "eku").map((u) => USE_NAMES[u][1]);
    return [
        `basicConstraints=critical,CA:${inputs.isCaCertificate ? "TRUE" : "FALSE"}`,
        ...(ku.length ? [`keyUsage=critical,${ku.join(",")}`] : []),
        ...(eku.length ? [`extendedKeyUsage=${eku.join(",")}`] : []),
        "subjectKeyIdentifier=hash",
    ].join("\n") + "\n";
}

function validity(inputs: any) {
    const hours = inputs.validityPeriodHours ?? 24;
    const start = new Date();
    return { days: Math.max(1, Math.ceil(hours / 24)), start, end: new Date(start.getTime() + hours * 3600_000) };
}

function selfSigned(inputs: any): Record<string, string> {
    return withDir((dir) => {
        writeFileSync(join(dir, "key.pem"), plain(inputs.privateKeyPem), { mode: 0o600 });
        const v = validity(inputs);
        const addext = extensions(inputs).trim().split("\n").flatMap((e) => ["-addext", e]);
        const certPem = openssl(["req", "-x509", "-new", "-key", join(dir, "key.pem"), "-subj", subjectOf(inputs),
            "-days", String(v.days), ...addext]);
        return { certPem, validityStartTime: v.start.toISOString(), validityEndTime: v.end.toISOString() };
    });
}

function certRequest(inputs: any): Record<string, string> {
    return withDir((dir) => {
        writeFileSync(join(dir, "key.pem"), plain(inputs.privateKeyPem), { mode: 0o600 });
        const sans = [...(inputs.dnsNames ?? []).map((d: string) => `DNS:${d}`), ...(inputs.ipAddresses ?? []).map((a: string) => `IP:${a}`)];
        const args = ["req", "-new", "-key", join(dir, "key.pem"), "-subj", subjectOf(inputs)];
        if (sans.length) args.push("-addext", `subjectAltName=${sans.join(",")}`);
        return { certRequestPem: openssl(args) };
    });
}

function locallySigned(inputs: any): Record<string, string> {
    return withDir((dir) => {
        writeFileSync(join(dir, "csr.pem"), inputs.certRequestPem);
        writeFileSync(join(dir, "ca.pem"), inputs.caCertPem);
        writeFileSync(join(dir, "ca-key.pem"), plain(inputs.caPrivateKeyPem), { mode: 0o600 });
        writeFileSync(join(dir, "ext.cnf"), extensions(inputs));
        const v = validity(inputs);
        const certPem = openssl(["x509", "-req", "-in", join(dir, "csr.pem"), "-CA", join(dir, "ca.pem"),
            "-CAkey", join(dir, "ca-key.pem"), "-set_serial", `0x${randomBytes(8).toString("hex")}`, "-days", String(v.days),
            "-extfile", join(dir, "ext.cnf"), "-copy_extensions", "copy"]);
        return { certPem, validityStartTime: v.start.toISOString(), validityEndTime: v.end.toISOString() };
    });
}

/**
 * Installs the mocks and returns the list every registered resource is appended to. Like the
 * engine's state, a resource registered again with the same type, name and inputs gets the same
 * outputs (keys stay keys across two builds of one program in one test).
 */
export function installMocks(opts: { call?: (args: pulumi.runtime.MockCallArgs) => Record<string, any> } = {}): Recorded[] {
    const recorded: Recorded[] = [];
    const state = new Map<string, Record<string, unknown>>();
    pulumi.runtime.setMocks({
        newResource(args: pulumi.runtime.MockResourceArgs) {
            const inputs = args.inputs;
            recorded.push({ type: args.type, name: args.name, inputs, custom: args.custom ?? true });
            const key = `${args.type}::${args.name}::${JSON.stringify(inputs)}`;
            let outputs = state.get(key);
            if (!outputs) {
                outputs = computedOutputs(args.type, inputs);
                state.set(key, outputs);
            }
            return { id: `${args.name}-id`, state: { ...inputs, ...outputs } };
        },
        // An invoke answers its own inputs, unless the test stands in for the engine's builtins (the
        // stack's last recorded outputs, say).
        call: (args) => opts.call?.(args) ?? args.inputs,
    }, "zerotrust", "test", false);
    return recorded;
}

function computedOutputs(type: string, inputs: any): Record<string, unknown> {
    let state: Record<string, unknown> = {};
    switch (type) {
        case "random:index/randomBytes:RandomBytes": {
            const bytes = randomBytes(inputs.length);
            state = { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
            break;
        }
        case "random:index/randomPassword:RandomPassword": {
            const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            state = { result: [...randomBytes(inputs.length)].map((b) => alphabet[b % alphabet.length]).join("") };
            break;
        }
        case "tls:index/privateKey:PrivateKey": state = privateKey(inputs); break;
        case "tls:index/selfSignedCert:SelfSignedCert": state = selfSigned(inputs); break;
        case "tls:index/certRequest:CertRequest": state = certRequest(inputs); break;
        case "tls:index/locallySignedCert:LocallySignedCert": state = locallySigned(inputs); break;
        case "command:local:Command": state = { stdout: "", stderr: "" }; break;
    }
    return state;
}

/** Resolves an output under mocks (undefined when unknown). */
export function resolve<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((ok) => output.apply((v) => { ok(v); return v; }));
}
