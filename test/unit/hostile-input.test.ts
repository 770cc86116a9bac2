// Every value that reaches a config file or a shell, fed a corpus of hostile values: each must be
// refused during preview, before any resource is registered, with an error naming the field.
import test, { ExecutionContext } from "ava";
import { installMocks } from "../helpers/mocks";

const recorded = installMocks();
import { InternalCA } from "../../components/internal-ca";
import { MeshMemberData } from "../../components/mesh-member";
import { MeshNetwork, MeshNetworkArgs } from "../../components/mesh-network";
import { renderSshdConfig } from "../../components/render/sshd";
import { HostConnection } from "../../components/hosts/connection";
import { ZeroTrustNode } from "../../components/zero-trust-node";
import { sshKeyPair } from "../../scripts/ssh-key-pair";
import { RELEASES } from "../../components/render/releases";

const HOSTILE: string[] = [
    "db; rm -rf /", "db && reboot", "$(reboot)", "`id`", "db|nc", "a\nPostUp = curl evil", "a\rb", "a\u0000b",
    "\"quoted\"", "'single'", "back\\slash", "semi;", "{brace}", "}", "#comment", "tab\there", " spaced", "trailing ",
    "x".repeat(300), "dЬ", "аpp", "db\u200b", "ｄｂ", "é", "../../etc/passwd", "*", "", "-leading",
    // IPv6-shaped: each is refused in every field, an endpoint's host (value + ":51820") included.
    "fe80::1%eth0", "[fe80::1%eth0]", "::ffff:10.0.0.1", "[::ffff:10.0.0.1]", "[::ffff:a00:1]", "[::]", "[ff02::1]", "[fe80::1]",
    "[2001:db8::1]:22", "[2001:db8::1]; id", "[2001:db8::1]\n", "2001:db8::1\nPostUp = id", "2001:db8:::1", "2001:db8::1::2",
    "12345::1", "1:2:3:4:5:6:7:8:9", "２００１:db8::1", "2001:db8::g", ":::", "[[2001:db8::1]]", "[2001:db8::1", "2001:db8::1]",
    "[$(id)]", "::1 ", "[2001:db8::1/64]",
];

function baseArgs(): MeshNetworkArgs {
    return {
        cidr: "10.77.0.0/24",
        nodes: [{ name: "app", tags: ["web"], endpoint: "198.51.100.7:51820" }, { name: "db" }],
        operators: [{ name: "laptop" }],
        clients: [{ name: "alice", tags: ["staff"] }],
        rules: [{ from: "tag:web", to: "db", ports: ["tcp/5432"] }, { from: "tag:staff", to: "app", ports: ["tcp/443"] }],
    };
}

type Mutation = [field: RegExp, apply: (a: MeshNetworkArgs, v: string) => void];
const MESH_FIELDS: Mutation[] = [
    [/nodes\[0\]\.name/, (a, v) => { a.nodes[0].name = v; }],
    [/nodes\[0\]\.tags\[0\]/, (a, v) => { a.nodes[0].tags = [v]; }],
    [/nodes\[0\]\.endpoint/, (a, v) => { a.nodes[0].endpoint = `${v}:51820`; }],
    [/\.address/, (a, v) => { a.nodes[1].address = v; }],
    [/operators\[0\]\.name/, (a, v) => { a.operators![0].name = v; }],
    [/clients\[0\]\.name/, (a, v) => { a.clients![0].name = v; }],
    [/clients\[0\]\.tags\[0\]/, (a, v) => { a.clients![0].tags = [v]; }],
    [/^cidr/, (a, v) => { a.cidr = v; }],
    [/rules\[0\]\.from/, (a, v) => { a.rules[0].from = v === "*" ? "tag:*" : v; }],
    [/rules\[0\]\.to/, (a, v) => { a.rules[0].to = v === "*" ? "tag:*" : v; }],
    [/rules\[0\]\.ports\[0\]/, (a, v) => { a.rules[0].ports = [`tcp/${v}`]; }],
    [/interfaceName/, (a, v) => { a.interfaceName = v; }],
    [/nodes\[0\]\.pskGeneration/, (a, v) => { a.nodes[0].pskGeneration = v as unknown as number; }],
    [/nodes\[0\]\.keyGeneration/, (a, v) => { a.nodes[0].keyGeneration = v as unknown as number; }],
    [/previousAddresses\.db/, (a, v) => { a.previousAddresses = { db: v }; }],
    [/nodes\[0\]\.ipv6Endpoint/, (a, v) => { a.nodes[0].ipv6Endpoint = `${v}:51820`; }],
    [/nodes\[0\]\.ipv6Only/, (a, v) => { a.nodes[0].ipv6Only = v as unknown as boolean; }],
    [/^cidr6/, (a, v) => { a.cidr6 = v; }],
    [/db\.address6/, (a, v) => { a.cidr6 = "fd12:3456:789a:2::/64"; a.nodes[1].address6 = v; }],
    [/previousAddresses6\.db/, (a, v) => { a.cidr6 = "fd12:3456:789a:2::/64"; a.previousAddresses6 = { db: v }; }],
];

/**
 * Every hostile value in every field: `fresh()` makes sound arguments, each mutation spoils one field,
 * and `build` must throw an error naming that field before any resource is registered.
 */
function assertCorpusRefused<A>(t: ExecutionContext, fields: [RegExp, (a: A, v: string) => void][], fresh: () => A, build: (a: A, n: number) => unknown): void {
    let n = 0;
    for (const [field, mutate] of fields) {
        for (const value of HOSTILE) {
            const args = fresh();
            mutate(args, value);
            const before = recorded.length;
            const err = t.throws(() => build(args, n++), undefined, `${field} <- ${JSON.stringify(value)}`);
            t.regex(err?.message ?? "", field, `${field} <- ${JSON.stringify(value)}: ${err?.message}`);
            t.is(recorded.length, before, `a resource was registered for ${field} <- ${JSON.stringify(value)}`);
        }
    }
}

test("every hostile value in every mesh field is refused before any resource exists", (t) => {
    assertCorpusRefused(t, MESH_FIELDS, baseArgs, (args, n) => new MeshNetwork(`hostile-${n}`, args));
});

test("every hostile value in certificate fields is refused before any resource exists", (t) => {
    const ca = new InternalCA("hostile-ca");
    for (const value of HOSTILE) {
        const before = recorded.length;
        t.throws(() => new InternalCA("corp", { commonName: value }), { message: /commonName/ }, JSON.stringify(value));
        t.throws(() => new InternalCA("corp", { organization: value }), { message: /organization/ }, JSON.stringify(value));
        t.throws(() => ca.issueServerCertificate("web", { dnsNames: [value] }), { message: /dnsNames\[0\]/ }, JSON.stringify(value));
        t.throws(() => ca.issueServerCertificate("web", { ipAddresses: [value] }), { message: /ipAddresses\[0\]/ }, JSON.stringify(value));
        t.throws(() => ca.issueClientCertificate(value), { message: /certificate name/ }, JSON.stringify(value));
        t.is(recorded.length, before);
    }
});

test("hostile sshd user names are refused", (t) => {
    for (const value of HOSTILE) {
        t.throws(() => renderSshdConfig({ allowUsers: [value], permitRootLogin: "no", release: RELEASES["debian-12"] }), { message: /allowUsers\[0\]/ }, JSON.stringify(value));
    }
});

const KEYS = sshKeyPair();
const plainConnection = (): HostConnection => ({ host: "203.0.113.13", privateKey: KEYS.privateKey, hostKey: KEYS.publicKey });

test("every hostile value as a bootstrap SSH source is refused by ZeroTrustNode before any resource exists", (t) => {
    const mesh = new MeshNetwork("boot", baseArgs());
    t.notThrows(() => new ZeroTrustNode("db", { member: mesh.member("db"), connection: plainConnection(), bootstrapSshSources: ["198.51.100.4", "2001:db8::4", "2001:db8:1::/48"] }));
    assertCorpusRefused(t, [[/bootstrapSshSources\[1\]/, (a: string[], v) => { a[1] = v; }], [/bootstrapSshSources\[0\]/, (a: string[], v) => { a[0] = `${v}/64`; }]],
        () => ["198.51.100.4", "2001:db8::4"], (sources, n) => new ZeroTrustNode(`db-${n}`, { member: mesh.member("db"), connection: plainConnection(), bootstrapSshSources: sources }));
});

test("IPv6 values in the places that take them are accepted (the IPv6 corpus is not vacuous)", (t) => {
    const args = baseArgs();
    args.nodes[0].endpoint = "[2001:db8::7]:51820";
    args.nodes[0].ipv6Endpoint = "[2001:db8::8]:51820";
    args.cidr6 = "fd12:3456:789a:2::/64";
    args.nodes[1].address6 = "fd12:3456:789a:2::5";
    args.previousAddresses6 = { app: "fd12:3456:789a:2::6" };
    args.operators![0].endpoint = "[fd12:3456:789a:1::9]:51821";
    const mesh = new MeshNetwork("v6-ok", args);
    t.notThrows(() => new ZeroTrustNode("db", { member: mesh.member("db"), connection: { ...plainConnection(), host: "2001:db8::13" }, bootstrapSshSources: ["2001:db8::4"] }));
});

const CONNECTION_FIELDS: [field: RegExp, apply: (c: HostConnection, v: string) => void][] = [
    [/connection\.host/, (c, v) => { c.host = v; }],
    [/connection\.user/, (c, v) => { c.user = v; }],
    [/connection\.hostKey/, (c, v) => { c.hostKey = `ssh-ed25519 ${v}`; }],
    [/connection\.privateKey/, (c, v) => { c.privateKey = v; }],
    [/connection\.onlyVia\[0\]/, (c, v) => { c.onlyVia = [v]; }],
];

test("every hostile value in a plain connection object is refused by ZeroTrustNode itself, before any resource exists", (t) => {
    const mesh = new MeshNetwork("conn", baseArgs());
    t.notThrows(() => new ZeroTrustNode("db", { member: mesh.member("db"), connection: plainConnection(), bootstrapSshSources: ["198.51.100.4"] }), "the plain base connection");
    assertCorpusRefused(t, CONNECTION_FIELDS, plainConnection,
        (connection, n) => new ZeroTrustNode(`db-${n}`, { member: mesh.member("db"), connection, bootstrapSshSources: ["198.51.100.4"] }));
    t.throws(() => new ZeroTrustNode("db-port", { member: mesh.member("db"), connection: { ...plainConnection(), port: 70000 }, bootstrapSshSources: ["198.51.100.4"] }),
        { message: /connection\.port/ });
});

test("deployerPeer must be an operator peer of the node's own mesh: a node, another mesh's operator or altered data is refused with the rule", (t) => {
    const mesh = new MeshNetwork("deployer", baseArgs());
    const other = new MeshNetwork("deployer-other", { ...baseArgs(), cidr: "10.98.0.0/24" });
    const node = (deployerPeer: unknown, n: string) => new ZeroTrustNode(`db-${n}`, {
        member: mesh.member("db"), connection: plainConnection(), sshOverMeshOnly: true, deployerPeer: deployerPeer as MeshMemberData,
    });
    t.notThrows(() => node(mesh.member("laptop"), "ok"));
    t.throws(() => node(mesh.member("app"), "node"), { message: /^deployerPeer: .* must name an operator peer of the mesh.*; app is a node/ });
    t.throws(() => node(other.member("laptop"), "other"), { message: /^deployerPeer: .* is not an operator peer of db's mesh/ });
    t.throws(() => node({ ...mesh.member("app"), kind: "operator" }, "altered"), { message: /^deployerPeer: .* is not an operator peer in the policy/ });
    t.throws(() => node({ name: "laptop" }, "bare"), { message: /^deployerPeer\.kind: .*MeshNetwork\.member\(name\)/ });
    // Clients (no key) and strangers have no member data to pass: the mesh says which names it has.
    for (const wrong of ["alice", "nobody", "laptop\nPostUp = id"]) {
        t.throws(() => mesh.member(wrong), { message: /^member: .* is not a member of this mesh \(gateway clients have no key\); its members are / }, wrong);
    }
});

test("member data that is not a node's, or not whole, is refused naming the field and the fix", (t) => {
    const mesh = new MeshNetwork("data", baseArgs());
    const node = (member: unknown, n: string) => new ZeroTrustNode(`db-${n}`, {
        member: member as MeshMemberData, connection: plainConnection(), bootstrapSshSources: ["198.51.100.4"],
    });
    t.throws(() => node(mesh.member("laptop"), "operator"), { message: /^member: .* must name a node of the mesh \(operator peers are not hosts\)/ });
    t.throws(() => node(undefined, "none"), { message: /^member: .*MeshNetwork\.member\(name\)/ });
    t.throws(() => node({ ...mesh.member("db"), addresses: ["10.0.0.1"] }, "addresses"), { message: /^member\.addresses: / });
    t.throws(() => node({ ...mesh.member("db"), policy: undefined }, "policy"), { message: /^member\.policy: / });
    t.throws(() => node({ ...mesh.member("db"), address: "10.99.0.99" }, "moved"), { message: /^member: .* is not a node in the policy and addresses it carries/ });
    const { wireguardConfig: _dropped, ...withoutConfig } = mesh.member("db");
    t.throws(() => node(withoutConfig, "config"), { message: /^member\.wireguardConfig: / });
});

test("a pinned host key of a type the hardened sshd no longer offers is refused with the fix; a private key is never shown", (t) => {
    const mesh = new MeshNetwork("conn-keys", baseArgs());
    const ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=";
    t.throws(() => new ZeroTrustNode("db-ecdsa", { member: mesh.member("db"), connection: { ...plainConnection(), hostKey: ecdsa }, bootstrapSshSources: ["198.51.100.4"] }),
        { message: /connection\.hostKey: .* offer only ssh-ed25519 and ssh-rsa host keys.*ssh-keyscan -t ed25519/ });
    const secretLooking = "not a key but a secret s3cr3t";
    const err = t.throws(() => new ZeroTrustNode("db-pk", { member: mesh.member("db"), connection: { ...plainConnection(), privateKey: secretLooking }, bootstrapSshSources: ["198.51.100.4"] }));
    t.regex(err!.message, /connection\.privateKey: "\(a secret, not shown\)" is not valid/);
    t.false(err!.message.includes("s3cr3t"));
});

test("the error names the field, shows the value escaped and says the rule", (t) => {
    const args = baseArgs();
    args.nodes[0].name = "db\nPostUp = curl evil";
    t.throws(() => new MeshNetwork("msg", args), {
        message: 'nodes[0].name: "db\\nPostUp = curl evil" is not valid: use 1-32 characters: lowercase ASCII letters, digits and \'-\', starting with a letter, not ending with \'-\'',
    });
});

test("the untouched base arguments are accepted (the corpus test is not vacuous)", (t) => {
    t.notThrows(() => new MeshNetwork("hostile-ok", baseArgs()));
    t.notThrows(() => new InternalCA("hostile-ok-ca", { commonName: "Corp Root CA", organization: "Corp AS" }));
});
