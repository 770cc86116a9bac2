// An existing stack moves to this checkout's package in a single `pulumi up`: a user's program
// deployed with the package of an earlier release (built from git), then installed with the next
// package (and its program moved to the new API, where it changed) and updated. From BASELINE: no
// resource is made anew, replaced or deleted, and no ping is lost between the mesh's pairs while
// the update runs. Before it, from LEAKY_RELEASE: the one planned reseeding (README, "Upgrading a
// stack whose seeds were random.RandomBytes"), after which the deployer still reaches every node.
import test from "ava";
import { execFileSync } from "child_process";
import { mkdirSync, mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { labLayout } from "../../components/hosts/lab";
import { startPing } from "../../scripts/lab/lab-probe";
import { removeLabLeftovers } from "../helpers/lab";
import { PROJECT_ROOT, npmInstall, pack, packAtCommit, run, userEnv, writeProgram } from "../helpers/user-program";

/**
 * The release existing stacks run: the last one users were given. Move it forward with each
 * release (PROGRAM is this checkout's program; keep the one of an older API beside it, as
 * LEAKY_PROGRAM is, when a release changes the API).
 */
const BASELINE = "74084bb";
/** The last release whose key seeds were RandomBytes (ids in clear): its stacks are reseeded once, to BASELINE. */
const LEAKY_RELEASE = "2c43c41";
const LAB = "upg";
const NODES = ["a", "b", "c"];
const PAIRS: [string, string][] = [["a", "b"], ["b", "c"], ["c", "a"]];

const work = mkdtempSync(join(tmpdir(), "zerotrust-upgrade-"));
const programDir = join(work, "program");
const env = userEnv(work);
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

interface Plan { steps: { op: string; urn: string; type?: string; newState?: { type: string }; oldState?: { type: string } }[]; changeSummary: Record<string, number> }
const planOf = async (): Promise<Plan> => JSON.parse(await pulumi("preview", "--json"));
const stepName = (s: Plan["steps"][number]) => `${s.op} ${(s.newState ?? s.oldState)?.type ?? "?"} ${s.urn.split("::").pop()}`;

/** Installs a package and its program, and previews the update that follows. */
async function moveTo(tarball: string, program: string, label: string, t: import("ava").ExecutionContext): Promise<Plan> {
    writeProgram(programDir, "zerotrust-upgrade", tarball, program);
    await npmInstall(programDir, env);
    const plan = await planOf();
    t.log(`${label}: ${JSON.stringify(plan.changeSummary)}`);
    return plan;
}

async function pingsDuring(run: () => Promise<unknown>): Promise<{ pair: string; sent: number; lost: number[] }[]> {
    const addresses = JSON.parse(await pulumi("stack", "output", "meshAddresses", "--json")) as Record<string, string>;
    const pings = PAIRS.map(([from, to]) => ({ pair: `${from} -> ${to}`, run: startPing(labLayout(LAB).namespaceOf(from), addresses[to]) }));
    await new Promise((r) => setTimeout(r, 1000));
    try {
        await run();
    } finally {
        await new Promise((r) => setTimeout(r, 1000));
    }
    return Promise.all(pings.map(async (p) => ({ pair: p.pair, ...(await p.run.stop()) })));
}

test.serial(`a stack of ${LEAKY_RELEASE} (key seeds kept as ids, in clear) is reseeded in one pulumi up: only the seeds are made anew, and the deployer reaches every node through the new keys`, async (t) => {
    writeProgram(programDir, "zerotrust-upgrade", await packAtCommit(LEAKY_RELEASE, join(work, "pack"), env), LEAKY_PROGRAM);
    await npmInstall(programDir, env);
    await pulumi("stack", "init", "t");
    stackCreated = true;
    await pulumi("up", "--yes");
    const plan = await moveTo(await packAtCommit(BASELINE, join(work, "pack"), env), PROGRAM, `${LEAKY_RELEASE} -> ${BASELINE}`, t);
    const seeds = (op: string, type: string) => plan.steps.filter((s) => s.op === op && (s.newState ?? s.oldState)?.type === type)
        .map((s) => s.urn.split("::").pop()!).sort();
    const expected = [...NODES, "ops"].flatMap((m) => [`${LAB}-${m}-psk-secret`, `${LAB}-${m}-wg-key`]).sort();
    t.deepEqual(seeds("delete", "random:index/randomBytes:RandomBytes"), expected, "every RandomBytes seed goes");
    t.deepEqual(seeds("create", "random:index/randomPassword:RandomPassword"), expected, "a RandomPassword of the same name takes its place");
    const others = plan.steps.filter((s) => /replace|delete|create/.test(s.op) && !expected.includes(s.urn.split("::").pop()!)).map(stepName);
    t.deepEqual(others, [], "nothing else is made anew, replaced or deleted");
    // The nodes switch keys through their cut-overs; were the deployer cut off, the applies after them would fail.
    await pulumi("up", "--yes");
    const addresses = JSON.parse(await pulumi("stack", "output", "meshAddresses", "--json")) as Record<string, string>;
    for (const [from, to] of PAIRS) {
        t.notThrows(() => execFileSync("ip", ["netns", "exec", labLayout(LAB).namespaceOf(from), "ping", "-c", "2", "-W", "2", addresses[to]]),
            `${from} reaches ${to} over the new keys`);
    }
    await pulumi("preview", "--expect-no-changes");
});

test.serial(`the stack then moves from ${BASELINE} to this checkout's package in one pulumi up: nothing replaced, no ping lost`, async (t) => {
    t.true(stackCreated, "needs the stack of the test before");
    const plan = await moveTo(await pack(PROJECT_ROOT, join(work, "pack"), env), PROGRAM, `${BASELINE} -> this checkout`, t);
    t.deepEqual(plan.steps.filter((s) => /replace|delete|create/.test(s.op)).map(stepName), [], "nothing is made anew, replaced or deleted");
    let upError: unknown;
    const counts = await pingsDuring(() => pulumi("up", "--yes").catch((e) => { upError = e; }));
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
const common = (imports: string) => `import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
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
// The deployer's tunnel takes new keys after the nodes' cut-overs staged theirs over it (README, key rotation).
let cutoversMade: (cutovers: pulumi.Resource[]) => void = () => undefined;
const cutovers = new Promise<pulumi.Resource[]>((resolve) => { cutoversMade = resolve; });
`;

/** As this checkout's API has it. */
const PROGRAM = `${common(`import { InternalCA, MeshNetwork, MtlsGateway, ZeroTrustNode } from "@zerotrust/components";
import { LabHost, LabNetwork, LabOperator } from "@zerotrust/components/lab";`)}
const operator = new LabOperator("operator", { network: lab, member: mesh.member("ops"), after: cutovers });
const gateway = new MtlsGateway("gw", { member: mesh.member("a"), ca: ca.data(), serverName: "a.${LAB}.internal", upstreams: ["b:8080"] });
const nodes = hosts.map((h, i) => new ZeroTrustNode(names[i], {
    member: mesh.member(names[i]),
    connection: { ...h.connection, privateKey: deployKey.privateKeyOpenssh },
    sshOverMeshOnly: true,
    bootstrapSshSources: [lab.gatewayAddress],
    deployerPeer: mesh.member("ops"),
    publicTcpPorts: i === 0 ? [443] : [],
    concerns: i === 0 ? [gateway.concern] : [],
    runsAfter: [operator.tunnel],
}));
cutoversMade(nodes.flatMap((n) => (n.keyCutover ? [n.keyCutover] : [])));
`;

/** As LEAKY_RELEASE's API has it: the mesh, the node and the CA as objects, the lab components at the root. */
const LEAKY_PROGRAM = `${common(`import { InternalCA, LabHost, LabNetwork, LabOperator, MeshNetwork, MtlsGateway, ZeroTrustNode } from "@zerotrust/components";`)}
const operator = new LabOperator("operator", { network: lab, mesh, member: "ops", after: cutovers });
const nodes = hosts.map((h, i) => new ZeroTrustNode(names[i], {
    mesh,
    connection: { ...h.connection, privateKey: deployKey.privateKeyOpenssh },
    sshOverMeshOnly: true,
    bootstrapSshSources: [lab.gatewayAddress],
    deployerPeer: "ops",
    publicTcpPorts: i === 0 ? [443] : [],
    runsAfter: [operator.tunnel],
}));
cutoversMade(nodes.flatMap((n) => (n.keyCutover ? [n.keyCutover] : [])));
new MtlsGateway("gw", { node: nodes[0], ca, serverName: "a.${LAB}.internal", upstreams: ["b:8080"] });
`;
