// Benchmark, on demand (`npm run bench:proof`, not part of the tests): the exhaustive proof of a
// mesh of N nodes (default 200) beside `pulumi preview` of the same program, side by side, for a
// star (every app server reaches one database) and a full mesh (every app server reaches every
// other). The proof is timed as the preview runs it: every node's rendered firewall loaded by the
// real nft into a scratch namespace and listed back as JSON, then the evaluation (pure) of every
// ordered pair over all 131,070 ports and ICMP echo. Prints figures; asserts nothing.
// BENCH_SIZES="50 200" and BENCH_SHAPES="full" narrow the run.
import { spawnSync } from "child_process";
import { cpus, totalmem } from "os";
import { join } from "path";
import { planMesh } from "../../components/mesh-plan";
import { formatProof, proofHeadline, proveMesh, readNftTable } from "../../components/proof";
import { planAddresses, renderedPeerEntries } from "../../components/proof/rendered";
import { listInScratchNamespace, scratchUnavailable } from "../../components/proof/scratch";
import { firewallFor, meshArgs } from "./scale-program";

const SIZES = (process.env.BENCH_SIZES ?? "200").split(/\s+/).filter(Boolean).map(Number);
const SHAPES = (process.env.BENCH_SHAPES ?? "star full").split(/\s+/).filter(Boolean) as ("star" | "full")[];
const CASE = join(__dirname, "scale-case.js");

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
const s = (x: number) => `${x.toFixed(1)} s`;

function previewSeconds(shape: string, n: number): number | string {
    const r = spawnSync(process.execPath, ["--max-old-space-size=6144", CASE, shape, String(n)], { encoding: "utf8", maxBuffer: 1 << 26 });
    const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
    return line ? JSON.parse(line).seconds : `failed (${r.stderr.trim().split("\n").slice(-1)[0]})`;
}

const unavailable = scratchUnavailable();
if (unavailable) {
    console.log(`zerotrust proof benchmark: cannot run here: ${unavailable}`);
    process.exit(1);
}
console.log(`zerotrust proof benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 1e6)} MB RAM, node ${process.version}`);
console.log("");
console.log("| shape | N | pairs | `pulumi preview` | proof: nft load + list (scratch namespace) | proof: evaluation | proof total | proof / preview | result |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const shape of SHAPES) {
    for (const n of SIZES) {
        const plan = planMesh(meshArgs(shape, n));
        const nodes = plan.members.filter((m) => m.kind === "node").map((m) => m.name);
        const files = Object.fromEntries(nodes.map((node) => [node, firewallFor(plan, node)]));
        const t0 = process.hrtime.bigint();
        const listed = listInScratchNamespace(files);
        const nftSeconds = seconds(t0);
        const t1 = process.hrtime.bigint();
        const result = proveMesh({
            policy: plan.policy, addresses: planAddresses(plan), wgInterface: plan.interfaceName,
            firewalls: Object.fromEntries(Object.entries(listed).map(([k, v]) => [k, readNftTable(v)])), wireguard: renderedPeerEntries(plan),
        });
        const evalSeconds = seconds(t1);
        const preview = previewSeconds(shape, n);
        const total = nftSeconds + evalSeconds;
        console.log(`| ${shape} | ${n} | ${result.pairs} | ${typeof preview === "number" ? s(preview) : preview} | ${s(nftSeconds)} | ${s(evalSeconds)} | ${s(total)} | ` +
            `${typeof preview === "number" ? (total / preview).toFixed(2) : "-"} | ${result.differences.length ? formatProof(result)[0] : proofHeadline(result)} |`);
    }
}
