// The library as its users get it: `npm pack`, installed from the tarball into a Pulumi program of
// its own (TypeScript, run by the nodejs language host), deployed onto lab hosts with the real CLI,
// checked on the hosts and destroyed.
import test from "ava";
import { execFile } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { promisify } from "util";
import { labLayout } from "../../components/hosts/lab";
import { removeLabLeftovers } from "../helpers/lab";
import { userEnv, writeProgram } from "../helpers/user-program";

const ROOT = join(__dirname, "..", "..", "..");
const LAB = "pkg";
const NODES = ["web", "db"];
const IP = "/usr/sbin/ip";

const work = mkdtempSync(join(tmpdir(), "zerotrust-package-"));
const programDir = join(work, "program");
const env = userEnv(work);
const timings: Record<string, string> = {};
let tarball = "";
let stackCreated = false;
let destroyed = false;

async function run(cmd: string, args: string[], cwd = programDir, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
    try {
        return (await promisify(execFile)(cmd, args, { cwd, env: { ...env, ...extraEnv }, encoding: "utf8", maxBuffer: 64 << 20 })).stdout;
    } catch (e) {
        // pulumi writes its diagnostics to stdout: keep both streams.
        const { stdout, stderr } = e as { stdout?: string; stderr?: string };
        throw new Error(`${cmd} ${args.join(" ")} failed:\n${stdout ?? ""}\n${stderr ?? ""}`);
    }
}

async function timed<T>(step: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const result = await fn();
    timings[step] = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    return result;
}

const pulumi = (...args: string[]) => run("pulumi", [...args, "--non-interactive", "--color", "never"]);

function filesUnder(dir: string): string[] {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())
        .map((d) => join(d.parentPath, d.name).slice(ROOT.length + 1));
}

test.before(async () => {
    await run("pulumi", ["version"], ROOT).catch(() => {
        throw new Error("pulumi is not on PATH: run `. scripts/pulumi-env.sh` after scripts/setup-pulumi.sh");
    });
    if (!existsSync(join(ROOT, "build", "components", "index.js"))) throw new Error("build the package first: tsc -p .");
    mkdirSync(join(work, "state"));
    removeLabLeftovers(LAB, NODES); // a run killed half-way must not break this one
});

test.after.always(async (t) => {
    if (stackCreated && !destroyed) await pulumi("destroy", "--yes").catch((e) => t.log(String(e)));
    removeLabLeftovers(LAB, NODES);
    rmSync(work, { recursive: true, force: true });
    t.log(`timings: ${JSON.stringify(timings)}`);
});

test.serial("npm pack ships the compiled library and its host scripts, nothing else", async (t) => {
    const packDir = join(work, "pack");
    mkdirSync(packDir);
    const [packed] = JSON.parse(await run("npm", ["pack", "--json", "--pack-destination", packDir], ROOT));
    tarball = join(packDir, packed.filename);
    const files = (await run("tar", ["-tzf", tarball], ROOT)).trim().split("\n").map((f) => f.replace(/^package\//, ""));
    t.log(`${packed.filename}: ${files.length} files, ${packed.size} bytes (${packed.unpackedSize} unpacked)`);

    t.deepEqual(files.filter((f) => /^(build\/)?(test|stacks|scripts|\.ci)\//.test(f) || f.endsWith(".map") || /(?<!\.d)\.ts$/.test(f)), []);
    const sources = filesUnder(join(ROOT, "components"));
    const expected = [
        ...sources.filter((f) => !f.endsWith(".ts")),
        ...sources.filter((f) => f.endsWith(".ts")).flatMap((f) => [`build/${f.replace(/\.ts$/, ".js")}`, `build/${f.replace(/\.ts$/, ".d.ts")}`]),
        "package.json", "README.md", "CHANGELOG.md",
    ];
    // Exactly these: no stale output of a removed source, no script left behind.
    t.deepEqual([...files].sort(), expected.sort());
    // Every entry of the exports map is in the tarball, with its types.
    const exported = Object.values(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).exports as Record<string, string | Record<string, string>>)
        .flatMap((e) => typeof e === "string" ? [e] : Object.values(e)).map((f) => f.replace(/^\.\//, ""));
    t.deepEqual(exported.filter((f) => !files.includes(f)), []);
});

test.serial("a Pulumi program of its own installs the tarball with the peer SDKs", async (t) => {
    t.truthy(tarball, "needs the tarball");
    writeProgram(programDir, "zerotrust-package", tarball, PROGRAM);
    await timed("npm install", () => run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"]));
    // One copy of each SDK: the library uses the program's, not copies of its own.
    t.false(existsSync(join(programDir, "node_modules", "@zerotrust", "components", "node_modules", "@pulumi")));
});

test.serial("pulumi preview plans the lab, the mesh, the CA and the nodes", async (t) => {
    await pulumi("stack", "init", "t");
    stackCreated = true;
    const plan = JSON.parse(await timed("preview", () => pulumi("preview", "--json")));
    const types = new Set<string>(plan.steps.map((s: { newState: { type: string } }) => s.newState.type));
    t.deepEqual(Object.keys(plan.changeSummary), ["create"]);
    for (const type of ["zerotrust:lab:LabNetwork", "zerotrust:lab:LabHost", "zerotrust:lab:LabOperator", "zerotrust:index:InternalCA", "zerotrust:index:ZeroTrustNode"]) {
        t.true(types.has(type), `${type} is planned`);
    }
});

test.serial("pulumi up deploys; the nodes reach each other over the mesh; a second preview changes nothing", async (t) => {
    await timed("up", () => pulumi("up", "--yes"));
    const out = JSON.parse(await pulumi("stack", "output", "--json"));
    t.deepEqual(out.managedVia, NODES.map((n) => out.meshAddresses[n]), "the deployer manages both nodes over the mesh");
    t.regex(out.certificate, /^-----BEGIN CERTIFICATE-----/);
    const ping = await run(IP, ["netns", "exec", labLayout(LAB).namespaceOf("web"), "ping", "-c", "3", "-W", "2", out.meshAddresses.db], ROOT);
    t.regex(ping, / 0% packet loss/);
    await timed("preview (no changes)", () => pulumi("preview", "--expect-no-changes"));
});

test.serial("pulumi destroy leaves no namespace and no lab interface", async (t) => {
    await timed("destroy", () => pulumi("destroy", "--yes"));
    destroyed = true;
    t.notRegex(await run(IP, ["netns", "list"], ROOT), new RegExp(labLayout(LAB).namespaceOf("")));
    t.notRegex(await run(IP, ["-o", "link", "show"], ROOT), new RegExp(labLayout(LAB).interfaces.join("|")));
});

// The user's program: two lab hosts, a mesh with this machine as operator peer, a CA and its certificate.
const PROGRAM = `import * as tls from "@pulumi/tls";
import { InternalCA, MeshNetwork, ZeroTrustNode } from "@zerotrust/components";
import { LabHost, LabNetwork, LabOperator } from "@zerotrust/components/lab";

const names = ${JSON.stringify(NODES)};
const lab = new LabNetwork("${LAB}", { subnet: "10.213.30.0/24", alsoUnrouted: ["10.213.31.0/24"] });
const deployKey = new tls.PrivateKey("deploy-key", { algorithm: "ED25519" });
const hosts = names.map((name, i) => new LabHost(name, { network: lab, address: lab.addressFor(i), authorizedKey: deployKey.publicKeyOpenssh }));

const mesh = new MeshNetwork("${LAB}", {
    cidr: "10.213.31.0/24",
    nodes: hosts.map((h, i) => ({ name: names[i], endpoint: \`\${h.address}:51820\` })),
    operators: [{ name: "ops", tags: ["admin"] }],
    rules: [
        { from: "tag:admin", to: "*", ports: ["tcp/22"] },
        { from: "web", to: "db", ports: ["tcp/5432"] },
    ],
});
const operator = new LabOperator("operator", { network: lab, member: mesh.member("ops") });

const ca = new InternalCA("${LAB}");
const cert = ca.issueServerCertificate("db", { dnsNames: ["db.${LAB}.internal"] });

const nodes = hosts.map((h, i) => new ZeroTrustNode(names[i], {
    member: mesh.member(names[i]),
    connection: { ...h.connection, privateKey: deployKey.privateKeyOpenssh },
    sshOverMeshOnly: true,
    bootstrapSshSources: [lab.gatewayAddress],
}, { dependsOn: [operator.tunnel] }));

export const meshAddresses = mesh.addresses;
export const managedVia = nodes.map((n) => n.managementHost);
export const certificate = cert.certPem;
`;
