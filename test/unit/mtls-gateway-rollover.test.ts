// An MtlsGateway during a CA rollover, under mocks with real certificates: what the host gets when
// it trusts two CAs (both chains, a CRL from every CA, the deeper verify depth), what clients get
// (both roots), and the refusals (the issuing CA listed again, another organization).
import test from "ava";
import { installMocks, plain, resolve } from "../helpers/mocks";
import { sshKeyPair } from "../../scripts/ssh-key-pair";

const recorded = installMocks();
import { InternalCA } from "../../components/internal-ca";
import { MeshNetwork } from "../../components/mesh-network";
import { MtlsGateway } from "../../components/mtls-gateway";
import { ZeroTrustNode } from "../../components/zero-trust-node";

const KEYS = sshKeyPair();

function world(name: string) {
    const mesh = new MeshNetwork(name, {
        cidr: "10.70.0.0/24",
        nodes: [{ name: "gw", endpoint: "198.51.100.1:51820" }, { name: "app", endpoint: "198.51.100.2:51820" }],
        clients: [{ name: "alice", tags: ["staff"] }, { name: "bob", tags: ["staff"] }],
        rules: [{ from: "gw", to: "app", ports: ["tcp/8080"] }, { from: "tag:staff", to: "gw", ports: ["tcp/443"] }],
    });
    return { mesh, old: new InternalCA(`${name}old`), next: new InternalCA(`${name}next`, { intermediate: true }) };
}

const certificates = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;

test("two trusted CAs: the host gets both chains and a CRL from every CA in them, revocations in the issuing CA's; clients get both roots", async (t) => {
    const w = world("roll");
    const gw = new MtlsGateway("roll", {
        member: w.mesh.member("gw"), ca: w.next.data(), trustedCas: [w.old.data()], serverName: "gw.example.internal", upstreams: ["app:8080"], revokedClients: ["bob"],
    });
    const connection = { host: "198.51.100.1", privateKey: KEYS.privateKey, hostKey: KEYS.publicKey };
    new ZeroTrustNode("roll-gw", { member: w.mesh.member("gw"), connection, bootstrapSshSources: ["198.51.100.250"], publicTcpPorts: [443], concerns: [gw.concern] });
    const [caPem, oldRoot, nextRoot, nextMid] = await Promise.all([gw.clients.alice.caPem, w.old.rootCertPem, w.next.rootCertPem, w.next.intermediateCertPem].map(resolve));
    await new Promise((r) => setTimeout(r, 1500));
    const request = JSON.parse(plain(recorded.find((r) => r.name === "roll-gateway" && r.type === "command:local:Command")!.inputs.stdin));
    const clientCas: string = request.files["client-cas.crt"];
    t.is(certificates(clientCas), 3, "the new CA's intermediate and root, and the old root");
    for (const pem of [oldRoot, nextRoot, nextMid]) t.true(clientCas.includes(pem!.trim()));
    t.is(caPem, clientCas, "clients verify the server with every trusted CA, whichever issued its certificate");
    t.is(request.crl.lists.length, 3, "the new intermediate, the new root, the old root");
    t.deepEqual(request.crl.lists.map((l: { revokedSerials: string[] }) => l.revokedSerials.length), [1, 0, 0], "bob was issued by the new intermediate");
    t.regex(request.files["nginx.conf"], /ssl_verify_depth 2;/, "the deeper chain decides");
    const issuer = (pem: string) => require("child_process").execFileSync("openssl", ["x509", "-noout", "-issuer"], { input: pem, encoding: "utf8" });
    t.regex(issuer(await resolve(gw.clients.alice.certPem)), /rollnext intermediate CA/, "certificates come from the issuing CA");
});

test("a rollover's CAs are checked: the issuing CA is not listed again, and both share an organization", (t) => {
    const w = world("bad");
    const args = { member: w.mesh.member("gw"), serverName: "gw.example.internal", upstreams: ["app:8080"] };
    t.throws(() => new MtlsGateway("bad1", { ...args, ca: w.next.data(), trustedCas: [w.next.data()] }), { message: /trustedCas\[0\].*is ca itself/ });
    const other = new InternalCA("badother", { organization: "elsewhere" });
    t.throws(() => new MtlsGateway("bad2", { ...args, ca: w.next.data(), trustedCas: [other.data()] }), { message: /trustedCas\[0\]\.organization.*elsewhere.*one organization/ });
});
