// No secret in the state in clear, checked with the real engine: a small stack (a mesh with a rotated
// key and a rotated pre-shared-key secret, a CA with an intermediate, a client's key and PKCS#12
// bundle, a command that reads a WireGuard configuration on stdin) is deployed, and the state is
// exported. Every secret the program computed (the private keys and pre-shared keys the hosts get,
// the CA and client keys) and every secret the state itself holds (the seeds, as
// `stack export --show-secrets` decrypts them) must appear nowhere in the plain export or the state
// files: not in outputs, and not in ids or inputs either, which the engine never encrypts.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { pkcs12Bundle } from "../../components/client-bundle";
import { InternalCA } from "../../components/internal-ca";
import { MeshNetwork } from "../../components/mesh-network";
import { publicKeyOf } from "../../components/wireguard-keys";
import { EngineStack } from "../helpers/engine";
import { occurrences, secretPlaintexts, telltales } from "../helpers/state-secrets";

const MEMBERS = ["db", "app", "operator"];

function program() {
    return async () => {
        const mesh = new MeshNetwork("sec", {
            cidr: "10.183.0.0/24",
            nodes: [
                { name: "db", tags: ["db"], endpoint: "10.213.183.10:51820" },
                // A rotated key (keepers) and a rotated pre-shared-key secret: other seeds than generation 1's.
                { name: "app", tags: ["app"], endpoint: "10.213.183.11:51820", keyGeneration: 2, pskGeneration: 3 },
            ],
            operators: [{ name: "operator", tags: ["admin"] }],
            rules: [{ from: "tag:app", to: "db", ports: ["tcp/5432"] }],
        });
        const ca = new InternalCA("sec-ca", { intermediate: true });
        const alice = ca.issueClientCertificate("alice");
        const bundle = pkcs12Bundle("alice-p12", "alice", { certPem: alice.certPem, privateKeyPem: alice.privateKeyPem, chainPem: ca.chainPem }, ca);
        // As a host concern takes its files: a secret on stdin, an input the state keeps.
        new command.local.Command("read-db-config", { create: "wc -c >/dev/null", stdin: mesh.configOf("db"), logging: "none" },
            { additionalSecretOutputs: ["stdin"] });
        return {
            privateKeys: pulumi.secret(pulumi.all(Object.fromEntries(MEMBERS.map((m) => [m, mesh.members[m].privateKey])))),
            configs: pulumi.secret(pulumi.all(Object.fromEntries(MEMBERS.map((m) => [m, mesh.configOf(m)])))),
            caKeys: pulumi.secret(pulumi.all([ca.rootKeyPem, ca.issuerKeyPem])),
            clientKey: pulumi.secret(alice.privateKeyPem),
            p12: pulumi.secret(pulumi.all([bundle.base64, bundle.password])),
        };
    };
}

test("no private key, pre-shared key, seed, CA key or client key is in the state in clear: not in outputs, ids or inputs", async (t) => {
    const engine = await EngineStack.create("zt-sec", "sec", program());
    t.teardown(() => engine.dispose());
    const up = await engine.up();
    t.is(up.error, undefined);
    const out = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value])) as Record<string, any>;

    // What the program computed: the keys each host gets, its pre-shared keys, the CA's and the client's keys.
    const secrets: [string, string][] = [];
    for (const m of MEMBERS) {
        t.regex(out.configs[m], new RegExp(`PrivateKey = ${out.privateKeys[m].replace(/[+/]/g, "\\$&")}`), `${m}'s configuration holds its key`);
        secrets.push(...telltales(`${m}'s WireGuard private key`, out.privateKeys[m]));
        const psks = [...(out.configs[m] as string).matchAll(/^PresharedKey = (\S+)$/gm)].map((p) => p[1]);
        t.true(psks.length > 0, `${m} has pre-shared keys`);
        psks.forEach((psk, i) => secrets.push(...telltales(`${m}'s pre-shared key ${i}`, psk)));
        secrets.push([`${m}'s WireGuard configuration`, out.configs[m].split("\n").slice(0, 3).join("\n")]);
    }
    secrets.push(...telltales("the root CA key", out.caKeys[0]), ...telltales("the issuing CA key", out.caKeys[1]));
    secrets.push(...telltales("alice's client key", out.clientKey));
    t.true(["the root CA key", "the issuing CA key", "alice's client key"].every((k) => secrets.some(([label]) => label === `${k} (its private part, hex)`)),
        "the PEM keys were read, their private parts among what is looked for");
    secrets.push([`alice's PKCS#12 bundle`, out.p12[0].slice(0, 64)], [`alice's PKCS#12 password`, out.p12[1]]);

    // What the state holds as secrets, decrypted: among them the seeds the keys were derived from.
    const shown = engine.cli(["stack", "export", "--show-secrets"]);
    t.is(shown.status, 0, shown.stderr);
    const held = secretPlaintexts(JSON.parse(shown.stdout)).filter((s) => s.length >= 16);
    const seeds = held.filter((s) => /^[A-Za-z0-9]{64}$/.test(s));
    t.is(seeds.length, 2 * MEMBERS.length, "a seed per member's key and per member's pre-shared-key secret");
    held.forEach((s, i) => secrets.push(...telltales(`secret value ${i} of the state (${s.length} characters)`, s)));

    // The CLI's plain export (the Automation API's exportStack decrypts, as --show-secrets does).
    const plain = engine.cli(["stack", "export"]);
    t.is(plain.status, 0, plain.stderr);
    const exported = JSON.parse(plain.stdout);
    t.true((exported.deployment.resources ?? []).length > 20, "the export holds the stack's resources");
    t.true(plain.stdout.includes(`"ciphertext"`), "its secrets are encrypted");
    t.deepEqual(occurrences(exported.deployment, secrets), [], "the plain `pulumi stack export`");
    const files = engine.stateText();
    t.deepEqual(secrets.filter(([, s]) => files.includes(s)).map(([label]) => label), [], "the state files and their backups");
    // Neither check can pass by looking at nothing: the public keys are in the state, in clear.
    const publicKeys = MEMBERS.map((m) => publicKeyOf(out.privateKeys[m]));
    t.true(publicKeys.every((k) => JSON.stringify(exported.deployment).includes(k) && files.includes(k)));
});
