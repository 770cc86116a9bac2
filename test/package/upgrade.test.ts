// An existing stack moves to this checkout's package in a single `pulumi up`: a user's program
// deployed with the package of an earlier release (BASELINE, built from git), then installed with
// this checkout's package (and its program moved to the new API, where it changed) and updated.
// No resource is replaced or deleted, and no ping is lost between the mesh's pairs while the
// update runs: nothing that works is torn down to get there.
import test from "ava";
import { randomBytes } from "crypto";
import { mkdirSync, mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { dirname, join } from "path";
import { labLayout } from "../../components/hosts/lab";
import { startPing } from "../../scripts/lab/lab-probe";
import { removeLabLeftovers } from "../helpers/lab";
import { PROJECT_ROOT, npmInstall, pack, packAtCommit, run, writeProgram } from "../helpers/user-program";

/**
 * The release existing stacks run: the last one users were given. Move it forward with each
 * release, together with BASELINE_PROGRAM (the program as that release's API has it).
 */
const BASELINE = "2c43c41";
const LAB = "upg";
const NODES = ["a", "b", "c"];
const PAIRS: [string, string][] = [["a", "b"], ["b", "c"], ["c", "a"]];

const work = mkdtempSync(join(tmpdir(), "zerotrust-upgrade-"));
const programDir = join(work, "program");
const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Like a user's shell: none of this project's node_modules/.bin (it holds a JavaScript `nft`).
    PATH: [dirname(process.execPath), ...(process.env.PATH ?? "").split(":").filter((p) => !p.endsWith("node_modules/.bin"))].join(":"),
    PULUMI_BACKEND_URL: `file://${join(work, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
};
const pulumi = (...args: string[]) => run("pulumi", [...args, "--non-interactive", "--color", "never"], programDir, env);
let stackCreated = false;

test.before(() => {
    mkdirSync(join(work, "state"));
    removeLabLeftovers(LAB, NODES);
});

test.after.always(async (t) => {
    if (stackCreated) await pulumi("destroy", "--yes").catch((e) => t.log(String(e)));
    removeLabLeftovers(LAB, NODES);
    rmSync(work, { recursive: true, force: true });
});

test.serial(`a stack deployed with ${BASELINE}'s package moves to this one in one pulumi up: nothing replaced, no ping lost`, async (t) => {
    const baseline = await packAtCommit(BASELINE, join(work, "pack"), env);
    const current = await pack(PROJECT_ROOT, join(work, "pack"), env);
    writeProgram(programDir, "zerotrust-upgrade", baseline, BASELINE_PROGRAM);
    await npmInstall(programDir, env);
    await pulumi("stack", "init", "t");
    stackCreated = true;
    await pulumi("up", "--yes");
    const addresses = JSON.parse(await pulumi("stack", "output", "meshAddresses", "--json")) as Record<string, string>;

    writeProgram(programDir, "zerotrust-upgrade", current, PROGRAM);
    await npmInstall(programDir, env);
    const plan = JSON.parse(await pulumi("preview", "--json")) as { steps: { op: string; urn: string }[]; changeSummary: Record<string, number> };
    t.log(`the upgrade's plan: ${JSON.stringify(plan.changeSummary)}`);
    const torn = plan.steps.filter((s) => /replace|delete/.test(s.op)).map((s) => `${s.op} ${s.urn.split("::").pop()}`);
    t.deepEqual(torn, [], "no resource is replaced or deleted");
    t.deepEqual(Object.keys(plan.changeSummary).filter((op) => op !== "same" && op !== "update"), [], "nothing is made anew either");

    const pings = PAIRS.map(([from, to]) => ({ pair: `${from} -> ${to}`, run: startPing(labLayout(LAB).namespaceOf(from), addresses[to]) }));
    await new Promise((r) => setTimeout(r, 1000));
    let upError: unknown;
    await pulumi("up", "--yes").catch((e) => { upError = e; });
    await new Promise((r) => setTimeout(r, 1000));
    const counts = await Promise.all(pings.map(async (p) => ({ pair: p.pair, ...(await p.run.stop()) })));
    t.is(upError, undefined);
    for (const c of counts) {
        t.log(`${c.pair} during the upgrading up: ${c.sent} pings sent, ${c.lost.length} lost`);
        t.true(c.sent > 20, c.pair);
        t.deepEqual(c.lost, [], `${c.pair}: echo requests without an answer`);
    }
    await pulumi("preview", "--expect-no-changes");
});

// The program: three lab hosts, SSH over the mesh only, this machine as the operator peer, a CA,
// a gateway on a in front of b.
const common = (imports: string) => `import * as tls from "@pulumi/tls";
${imports}

const names = ${JSON.stringify(NODES)};
const lab = new LabNetwork("${LAB}", { subnet: "10.213.186.0/24", alsoUnrouted: ["10.186.0.0/24"] });
const deployKey = new tls.PrivateKey("deploy-key", { algorithm: "ED25519" });
const hosts = names.map((name, i) => new LabHost(name, { network: lab, address: lab.addressFor(i), authorizedKey: deployKey.publicKeyOpenssh }));
const mesh = new MeshNetwork("${LAB}", {
    cidr: "10.186.0.0/24",
    nodes: hosts.map((h, i) => ({ name: names[i], tags: ["lab"], endpoint: \`\${h.address}:51820\` })),
    operators: [{ name: "ops", tags: ["admin"] }],
    clients: [{ name: "alice", tags: ["staff"] }],
    rules: [
        { from: "tag:admin", to: "*", ports: ["tcp/22"] }, { from: "tag:lab", to: "tag:lab", ports: ["tcp/8080"] },
        { from: "tag:staff", to: "a", ports: ["tcp/443"] },
    ],
});
const ca = new InternalCA("${LAB}");
export const certificate = ca.issueServerCertificate("a", { dnsNames: ["a.${LAB}.internal"] }).certPem;
export const meshAddresses = mesh.addresses;
`;

/** As this checkout's API has it. */
const PROGRAM = `${common(`import { InternalCA, MeshNetwork, MtlsGateway, ZeroTrustNode } from "@zerotrust/components";
import { LabHost, LabNetwork, LabOperator } from "@zerotrust/components/lab";`)}
const operator = new LabOperator("operator", { network: lab, member: mesh.member("ops") });
const gateway = new MtlsGateway("gw", { member: mesh.member("a"), ca: ca.data(), serverName: "a.${LAB}.internal", upstreams: ["b:8080"] });
hosts.forEach((h, i) => new ZeroTrustNode(names[i], {
    member: mesh.member(names[i]),
    connection: { ...h.connection, privateKey: deployKey.privateKeyOpenssh },
    sshOverMeshOnly: true,
    bootstrapSshSources: [lab.gatewayAddress],
    deployerPeer: mesh.member("ops"),
    publicTcpPorts: i === 0 ? [443] : [],
    concerns: i === 0 ? [gateway.concern] : [],
}, { dependsOn: [operator.tunnel] }));
`;

/** As BASELINE's API has it: the mesh, the node and the CA as objects, the lab components at the root. */
const BASELINE_PROGRAM = `${common(`import { InternalCA, LabHost, LabNetwork, LabOperator, MeshNetwork, MtlsGateway, ZeroTrustNode } from "@zerotrust/components";`)}
const operator = new LabOperator("operator", { network: lab, mesh, member: "ops" });
const nodes = hosts.map((h, i) => new ZeroTrustNode(names[i], {
    mesh,
    connection: { ...h.connection, privateKey: deployKey.privateKeyOpenssh },
    sshOverMeshOnly: true,
    bootstrapSshSources: [lab.gatewayAddress],
    deployerPeer: "ops",
    publicTcpPorts: i === 0 ? [443] : [],
}, { dependsOn: [operator.tunnel] }));
new MtlsGateway("gw", { node: nodes[0], ca, serverName: "a.${LAB}.internal", upstreams: ["b:8080"] });
`;
