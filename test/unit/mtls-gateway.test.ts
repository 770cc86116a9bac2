// MtlsGateway under mocks with real certificates: what it sends to the host, and what it refuses.
import test from "ava";
import { spawnSync } from "child_process";
import { installMocks, plain, resolve } from "../helpers/mocks";
import { sshKeyPair } from "../../scripts/ssh-key-pair";

const recorded = installMocks();
import { InternalCA } from "../../components/internal-ca";
import { MeshNetwork } from "../../components/mesh-network";
import { MtlsGateway, MtlsGatewayArgs } from "../../components/mtls-gateway";
import { ZeroTrustNode } from "../../components/zero-trust-node";

/** The deployer's key and the gateway host's pinned key (the same pair will do: nothing connects). */
const KEYS = sshKeyPair();

function world(name: string, publicTcpPorts: number[], clientRules = [{ from: "tag:staff", to: "gw", ports: ["tcp/443"] }]) {
    const mesh = new MeshNetwork(name, {
        cidr: "10.70.0.0/24",
        nodes: [{ name: "gw", endpoint: "198.51.100.1:51820" }, { name: "app", endpoint: "198.51.100.2:51820" }],
        operators: [{ name: "op" }],
        clients: [{ name: "alice", tags: ["staff"] }, { name: "bob", tags: ["staff"] }, { name: "carol" }],
        rules: [{ from: "gw", to: "app", ports: ["tcp/8080"] }, ...clientRules],
    });
    const ca = new InternalCA(`${name}ca`, { intermediate: true });
    return { mesh, ca, publicTcpPorts };
}

const base = (w: ReturnType<typeof world>): MtlsGatewayArgs => ({
    member: w.mesh.member("gw"), ca: w.ca.data(), serverName: "gw.example.internal", clients: ["alice", "bob", "carol"], upstreams: ["app:8080"], revokedClients: ["bob"],
});

/** The gateway, and the node that lays it down (its `concerns`): what makes the `<name>-gateway` command. */
function gatewayOnNode(w: ReturnType<typeof world>, name: string, args: MtlsGatewayArgs): MtlsGateway {
    const gw = new MtlsGateway(name, args);
    const connection = { host: "198.51.100.1", privateKey: KEYS.privateKey, hostKey: KEYS.publicKey };
    new ZeroTrustNode(`${name}-gw`, {
        member: w.mesh.member("gw"), connection, bootstrapSshSources: ["198.51.100.250"], publicTcpPorts: w.publicTcpPorts, concerns: [gw.concern],
    });
    return gw;
}

test("the host gets config, chain, key, client CAs; the CA keys stay here, only in the CRL request", async (t) => {
    const w = world("ok", [443]);
    const gw = gatewayOnNode(w, "ok", base(w));
    await resolve(gw.clients.alice.certPem);
    await new Promise((r) => setTimeout(r, 1500));
    const cmd = recorded.find((r) => r.name === "ok-gateway" && r.type === "command:local:Command")!;
    const request = JSON.parse(plain(cmd.inputs.stdin));
    t.deepEqual(Object.keys(request.files).sort(), ["client-cas.crt", "logrotate.conf", "nginx.conf", "server-chain.crt", "server.key"]);
    const rootKey = await resolve(w.ca.rootKeyPem);
    const issuerKey = await resolve(w.ca.issuerKeyPem);
    for (const content of Object.values(request.files) as string[]) {
        t.false(content.includes(rootKey) || content.includes(issuerKey), "a CA key would reach the host");
    }
    t.is(request.crl.lists.length, 2, "one CRL per CA in the chain");
    t.is(request.crl.lists[0].revokedSerials.length, 1);
    t.deepEqual(request.crl.lists[1].revokedSerials, []);
    const conf: string = request.files["nginx.conf"];
    t.regex(conf, /"CN=alice,O=zerotrust" 1;/);
    t.notRegex(conf, /CN=bob/, "a revoked client is off the allowlist too");
    t.notRegex(conf, /CN=carol/, "no rule admits carol: she has a certificate and gets 403");
    t.truthy(gw.clients.carol);
    t.regex(conf, new RegExp(`server ${w.mesh.addresses.app.replace(/\./g, "\\.")}:8080;`));
    t.regex(conf, /ssl_verify_depth 2;/);
    t.regex(conf, /^    access_log \/var\/log\/zerotrust\/gateway-access\.log zt_access;$/m, "every request is logged");
    t.regex(request.files["logrotate.conf"], /kill -USR1 "\$\(cat \/run\/zerotrust-gateway\.pid\)"/, "the rotation signals the gateway's own nginx");
});

test("the allowlist comes from the policy; by default certificates go to the clients it admits", async (t) => {
    const w = world("pol", [443]);
    const gw = new MtlsGateway("pol", { ...base(w), clients: undefined, revokedClients: [] });
    t.deepEqual(Object.keys(gw.clients).sort(), ["alice", "bob"]);
    const w2 = world("pol2", [443], [{ from: "carol", to: "gw", ports: ["tcp/443"] }]);
    const gw2 = new MtlsGateway("pol2", { ...base(w2), clients: undefined, revokedClients: [] });
    t.deepEqual(Object.keys(gw2.clients), ["carol"]);
});

test("refused before any resource: port not public, no rule for the port, unknown client, unknown upstream member", (t) => {
    const w = world("bad", []);
    // The node refuses it, before any resource of its own (the gateway's certificates are registered by then: nothing on a host).
    t.throws(() => gatewayOnNode(w, "bad", base(w)), { message: /^concerns\[0\]\.tcpPorts: .*listens on tcp\/443, which node 'gw' does not open on the underlay: add publicTcpPorts: \[443\]/ });
    const w2 = world("bad2", [443]);
    t.throws(() => new MtlsGateway("bad2", { ...base(w2), revokedClients: ["mallory"] }), { message: /revokedClients\[0\]: "mallory" .*not one of clients/ });
    t.throws(() => new MtlsGateway("bad2", { ...base(w2), clients: ["mallory"] }), { message: /clients\[0\]: "mallory" .*not a client of the mesh/ });
    const w3 = world("bad3", [443, 8443]);
    t.throws(() => new MtlsGateway("bad3", { ...base(w3), listenPort: 8443 }), { message: /listenPort: 8443 .*no policy rule lets a client reach 'gw' on tcp\/8443/ });
    t.throws(() => new MtlsGateway("bad2", { ...base(w2), upstreams: ["db:5432"] }), { message: /upstreams\[0\].*'db' is not a member/ });
    t.throws(() => new MtlsGateway("bad2", { ...base(w2), serverName: "gw;evil" }), { message: /serverName/ });
    t.false(recorded.some((r) => r.name.startsWith("bad-gw") || r.name.startsWith("bad2") || r.name.startsWith("bad3")));
});

test("each client gets a PKCS#12 bundle: made by openssl from stdin, the password only in the environment", async (t) => {
    const w = world("p12", [443]);
    const gw = new MtlsGateway("p12", base(w));
    const [cert, key, chain, password] = await Promise.all([gw.clients.alice.certPem, gw.clients.alice.privateKeyPem, w.ca.chainPem,
        gw.clients.alice.pkcs12.password].map(resolve));
    await new Promise((r) => setTimeout(r, 500));
    const cmd = recorded.find((r) => r.name === "p12-alice-p12" && r.type === "command:local:Command")!;
    const create: string = plain(cmd.inputs.create);
    const stdin: string = plain(cmd.inputs.stdin);
    const environment = Object.fromEntries(Object.entries(plain(cmd.inputs.environment)).map(([k, v]) => [k, String(plain(v))]));
    t.is(plain(cmd.inputs.logging), "none", "the bundle is never printed");
    t.false(create.includes(password) || create.includes("PRIVATE KEY"), "no secret on the command line");
    t.is(environment.ZT_P12_PASSWORD, password);
    t.true(stdin.includes(key) && stdin.includes(cert));

    // Run the command the way the command provider does, then read the bundle back with openssl.
    const made = spawnSync("/bin/sh", ["-c", create], { input: stdin, env: { ...process.env, ...environment }, encoding: "utf8" });
    t.is(made.status, 0, made.stderr);
    const read = (extra: string[], pass = password) => spawnSync("openssl", ["pkcs12", "-passin", "env:P12_PASS", "-nodes", ...extra],
        { input: Buffer.from(made.stdout, "base64"), env: { ...process.env, P12_PASS: pass }, encoding: "utf8" });
    const certs = read(["-nokeys"]);
    t.is(certs.status, 0, certs.stderr);
    const pems = (text: string) => text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!.map((p) => p.replace(/\s/g, ""));
    t.deepEqual(pems(certs.stdout).sort(), [...pems(cert), ...pems(chain)].sort(), "the client certificate and the whole chain");
    t.regex(certs.stdout, /friendlyName: alice/);
    const keyOut = read(["-nocerts"]);
    const publicOf = (pem: string) => spawnSync("openssl", ["pkey", "-pubout"], { input: pem, encoding: "utf8" }).stdout;
    t.is(publicOf(keyOut.stdout), publicOf(key), "the key matches the certificate's key");
    t.not(read(["-nokeys"], "wrong password").status, 0, "the bundle needs its password");
});

test("IPv6: an IPv6 server address listens on [::] too and is on the certificate; [IPv6]:port upstreams; refusals show the whole upstream", async (t) => {
    const w = world("six", [443]);
    gatewayOnNode(w, "six", { ...base(w), serverAddresses: ["198.51.100.1", "2001:DB8::1"], upstreams: ["[fd12:3456:789a:1::0:8]:8080", "app:8080"] });
    const v4only = world("four", [443]);
    gatewayOnNode(v4only, "four", { ...base(v4only), serverAddresses: ["198.51.100.1"] });
    await new Promise((r) => setTimeout(r, 1500));
    const conf = (name: string): string => JSON.parse(plain(recorded.find((r) => r.name === `${name}-gateway` && r.type === "command:local:Command")!.inputs.stdin)).files["nginx.conf"];
    t.regex(conf("six"), /^ {8}listen 443 ssl http2 default_server;\n {8}listen \[::\]:443 ssl http2 default_server;$/m);
    t.regex(conf("six"), /^ {8}server \[fd12:3456:789a:1::8\]:8080;$/m);
    t.notRegex(conf("four"), /listen \[::\]/, "an IPv4-only gateway renders as before");
    const csr = recorded.find((r) => r.name === "six-server-csr")!;
    t.deepEqual(plain(csr.inputs.ipAddresses), ["198.51.100.1", "2001:db8::1"]);

    const w2 = world("six-bad", [443]);
    t.throws(() => new MtlsGateway("sixbad", { ...base(w2), upstreams: ["fd12::8:8080"] }), { message: /^upstreams\[0\]: "fd12::8:8080" is not valid: expected host:port, .*\[IPv6 address\]:port/ });
    t.throws(() => new MtlsGateway("sixbad", { ...base(w2), upstreams: ["[fe80::1%eth0]:8080"] }), { message: /^upstreams\[0\]: "\[fe80::1%eth0\]:8080" is not valid: has a zone id/ });
    t.throws(() => new MtlsGateway("sixbad", { ...base(w2), serverAddresses: ["::ffff:198.51.100.1"] }), { message: /^serverAddresses\[0\]: .* IPv4 address inside IPv6 text/ });
    t.false(recorded.some((r) => r.name.startsWith("sixbad")));
});

test("a node takes a gateway's concern only if it was prepared for it: its member, its release, a known concern", (t) => {
    const w = world("fit", [443]);
    const gw = new MtlsGateway("fit", base(w));
    const connection = { host: "198.51.100.1", privateKey: KEYS.privateKey, hostKey: KEYS.publicKey };
    const node = (n: string, extra: Record<string, unknown>) => () => new ZeroTrustNode(`fit-${n}`, {
        member: w.mesh.member("gw"), connection, bootstrapSshSources: ["198.51.100.250"], publicTcpPorts: [443], ...extra,
    });
    t.throws(node("app", { member: w.mesh.member("app"), concerns: [gw.concern] }),
        { message: /^concerns\[0\]\.member: "gw" is not valid: was prepared for another host than app: give the gateway member: mesh\.member\("app"\)/ });
    t.throws(node("rel", { release: "debian-11", concerns: [gw.concern] }),
        { message: /^concerns\[0\]\.release: "debian-12" is not valid: differs from the node's release \(debian-11\): give the gateway release: "debian-11"/ });
    t.throws(node("kind", { concerns: [{ ...gw.concern, concern: "ssh" }] }), { message: /^concerns\[0\]\.concern: "ssh" .*expected one of gateway/ });
    t.throws(node("none", { concerns: [undefined] }), { message: /^concerns\[0\]: .*an MtlsGateway's/ });
    t.false(recorded.some((r) => r.name.startsWith("fit-") && r.type === "command:local:Command"), "no command of a refused node");
});

test("two gateways on one CA may admit the same client: each issues its own certificate, named after itself", async (t) => {
    const w = world("twin", [443]);
    const first = new MtlsGateway("twin-a", { ...base(w), clients: ["alice"], revokedClients: [] });
    const second = new MtlsGateway("twin-b", { ...base(w), clients: ["alice"], revokedClients: [] });
    const [a, b] = await Promise.all([first.clients.alice.certPem, second.clients.alice.certPem].map(resolve));
    t.not(a, b);
    const certs = recorded.filter((r) => r.type === "zerotrust:index:IssuedCertificate" && r.name.startsWith("twin-")).map((r) => r.name).sort();
    t.deepEqual(certs, ["twin-a-client-alice", "twin-a-server", "twin-b-client-alice", "twin-b-server"]);
});
