// InternalCA under mocks that make real certificates with openssl; the chain is checked by
// `openssl verify`, the key usages and SANs by `openssl x509`.
import test from "ava";
import { execFileSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { installMocks, resolve } from "../helpers/mocks";

const recorded = installMocks();
import * as pulumi from "@pulumi/pulumi";
import { InternalCA } from "../../components/internal-ca";

function verify(t: any, caPem: string, untrusted: string, leafPem: string, purpose: string): string {
    const dir = mkdtempSync(join(tmpdir(), "zt-ca-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "root.pem"), caPem);
    writeFileSync(join(dir, "untrusted.pem"), untrusted || caPem);
    writeFileSync(join(dir, "leaf.pem"), leafPem);
    return execFileSync("openssl", ["verify", "-CAfile", join(dir, "root.pem"), "-untrusted", join(dir, "untrusted.pem"),
        "-purpose", purpose, join(dir, "leaf.pem")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

const text = (pem: string) => execFileSync("openssl", ["x509", "-noout", "-text"], { input: pem, encoding: "utf8" });

test("root + intermediate: server and client certificates verify with their purposes", async (t) => {
    const ca = new InternalCA("corp", { intermediate: true });
    const server = ca.issueServerCertificate("gw", { dnsNames: ["gw.mesh.internal"], ipAddresses: ["10.77.0.5"] });
    const client = ca.issueClientCertificate("alice");
    const [root, mid, serverPem, clientPem] = await Promise.all([
        resolve(ca.rootCertPem), resolve(ca.intermediateCertPem), resolve(server.certPem), resolve(client.certPem)]);
    t.regex(verify(t, root, mid!, serverPem, "sslserver"), /OK/);
    t.regex(verify(t, root, mid!, clientPem, "sslclient"), /OK/);
    t.throws(() => verify(t, root, mid!, clientPem, "sslserver"));
    const serverText = text(serverPem);
    t.regex(serverText, /DNS:gw\.mesh\.internal/);
    t.regex(serverText, /IP Address:10\.77\.0\.5/);
    t.regex(serverText, /Subject: O ?= ?zerotrust, CN ?= ?gw/);
    t.regex(text(root), /prime256v1|P-256/);
    t.is(ca.verifyDepth, 2);
    t.is(await resolve(server.fullChainPem), serverPem + mid);
    t.is(await resolve(ca.chainPem), mid! + root);
});

test("keys are ECDSA P-256 by default and RSA on request; private keys are secret", async (t) => {
    const ecdsa = new InternalCA("ec");
    const rsa = new InternalCA("rsa", { keyAlgorithm: "RSA", rsaBits: 4096 });
    const leaf = rsa.issueClientCertificate("bob", { keyAlgorithm: "ECDSA" });
    await Promise.all([resolve(ecdsa.rootCertPem), resolve(rsa.rootCertPem), resolve(leaf.certPem)]);
    const keys = recorded.filter((r) => r.type === "tls:index/privateKey:PrivateKey");
    t.like(keys.find((k) => k.name === "ec-root-key")!.inputs, { algorithm: "ECDSA", ecdsaCurve: "P256" });
    t.like(keys.find((k) => k.name === "rsa-root-key")!.inputs, { algorithm: "RSA", rsaBits: 4096 });
    t.like(keys.find((k) => k.name === "rsa-bob-key")!.inputs, { algorithm: "ECDSA", ecdsaCurve: "P256" });
    t.true(await pulumi.isSecret(leaf.privateKeyPem));
    t.true(await pulumi.isSecret(rsa.issuerKeyPem));
    t.is(rsa.verifyDepth, 1);
});

test("leaf defaults: 90 days, early renewal 30 days; expiry is an output", async (t) => {
    const ca = new InternalCA("life");
    const cert = ca.issueServerCertificate("web");
    const notAfter = await resolve(cert.notAfter);
    const days = (Date.parse(notAfter) - Date.now()) / 86400_000;
    t.true(days > 89 && days <= 90, `${days}`);
    const signed = recorded.find((r) => r.name === "life-web-cert")!;
    t.like(signed.inputs, { validityPeriodHours: 2160, earlyRenewalHours: 720 });
    t.deepEqual(signed.inputs.allowedUses, ["digital_signature", "server_auth"]);
});

test("key usages fit the key: key encipherment only for RSA leaves, never for ECDSA ones", async (t) => {
    const ca = new InternalCA("uses");
    const ec = ca.issueServerCertificate("ec-web");
    const rsa = ca.issueClientCertificate("rsa-bob", { keyAlgorithm: "RSA" });
    const [ecPem] = await Promise.all([resolve(ec.certPem), resolve(rsa.certPem)]);
    const usesOf = (name: string) => recorded.find((r) => r.name === name)!.inputs.allowedUses;
    t.deepEqual(usesOf("uses-ec-web-cert"), ["digital_signature", "server_auth"]);
    t.deepEqual(usesOf("uses-rsa-bob-cert"), ["digital_signature", "key_encipherment", "client_auth"]);
    t.regex(text(ecPem), /X509v3 Key Usage: critical\s+Digital Signature\s*\n/);
});

test("bad CA and certificate input is refused before any resource exists", (t) => {
    const count = () => recorded.filter((r) => r.name.startsWith("bad")).length;
    t.throws(() => new InternalCA("bad", { keyAlgorithm: "DSA" }), { message: /keyAlgorithm: "DSA" is not valid/ });
    t.throws(() => new InternalCA("bad", { intermediate: true, validityHours: 100, intermediateValidityHours: 200 }), { message: /intermediate must expire first/ });
    t.throws(() => new InternalCA("bad", { organization: "Acme\nCN=evil" }), { message: /organization: "Acme\\nCN=evil"/ });
    t.is(count(), 0);
    const ca = new InternalCA("badleaves");
    const registered = recorded.length;
    t.throws(() => ca.issueServerCertificate("x", { dnsNames: ["evil.com;rm -rf /"] }), { message: /dnsNames\[0\]/ });
    t.throws(() => ca.issueServerCertificate("y", { validityHours: 10, earlyRenewalHours: 20 }), { message: /earlyRenewalHours/ });
    t.is(recorded.length, registered);
});
