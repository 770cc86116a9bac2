// Benchmark, on demand (`npm run bench:scale`, not part of the tests): how the program grows with
// the mesh. For a star (every app server reaches one database) and a full mesh (every app server
// reaches every other) of N nodes:
//   - `pulumi preview` with the real engine, each case in a process of its own (scale-case.ts;
//     existing hosts on documentation addresses, nothing is deployed): resources, its time, the
//     program's construction time within it, the program's peak heap and the engine's peak memory;
//   - from the plan (pure): peer entries, and the largest wg.conf and firewall.nft as rendered.
// Then the firewall of a host with 1,000 allowed peers: `nft -c -f` and `nft -f` times in a scratch
// network namespace, and how many rules its input chain has.
// Prints figures; asserts nothing. BENCH_SIZES="10 50" and BENCH_SHAPES="star" narrow the run.
import { execFileSync, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { cpus, tmpdir, totalmem } from "os";
import { join } from "path";
import { planMesh } from "../../components/mesh-plan";
import { busiestMember, firewallFor, meshArgs, wireGuardConfigFor } from "./scale-program";

const SIZES = (process.env.BENCH_SIZES ?? "10 50 100 200 500 1000").split(/\s+/).filter(Boolean).map(Number);
const SHAPES = (process.env.BENCH_SHAPES ?? "star full").split(/\s+/).filter(Boolean);
const CASE = join(__dirname, "scale-case.js");
const IP = "/usr/sbin/ip";
const NFT = "/usr/sbin/nft";

function runCase(shape: string, n: number): Record<string, number> | string {
    // A heap limit well above the goals, so that a case that needs more fails instead of swapping.
    const r = spawnSync(process.execPath, ["--max-old-space-size=6144", CASE, shape, String(n)], { encoding: "utf8", maxBuffer: 1 << 26 });
    const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
    if (!line) return /heap out of memory/.test(r.stderr) ? "out of memory" : `failed (${r.stderr.trim().split("\n").slice(-1)[0]})`;
    return JSON.parse(line);
}

const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
const kb = (bytes: number) => `${(bytes / 1e3).toFixed(1)} kB`;
const s = (seconds: number) => `${seconds.toFixed(1)} s`;

function nftTimes(peers: number) {
    const plan = planMesh(meshArgs("star", peers + 1));
    const rules = firewallFor(plan, "db");
    const dir = mkdtempSync(join(tmpdir(), "zt-bench-nft-"));
    const ns = `zt-bench-${randomBytes(3).toString("hex")}`;
    const file = join(dir, "firewall.nft");
    writeFileSync(file, rules, { mode: 0o600 });
    const timed = (args: string[]) => {
        const start = process.hrtime.bigint();
        execFileSync(IP, ["netns", "exec", ns, NFT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
        return Number(process.hrtime.bigint() - start) / 1e6;
    };
    execFileSync(IP, ["netns", "add", ns]);
    try {
        const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        const check = median([1, 2, 3].map(() => timed(["-c", "-f", file])));
        const load = median([1, 2, 3].map(() => timed(["-f", file])));
        const chain = execFileSync(IP, ["netns", "exec", ns, NFT, "list", "chain", "inet", "zerotrust", "input"], { encoding: "utf8" });
        const elements = execFileSync(IP, ["netns", "exec", ns, NFT, "-j", "list", "set", "inet", "zerotrust", "mesh_allow"], { encoding: "utf8" });
        const loaded = JSON.parse(elements).nftables.find((x: any) => x.set).set.elem.length;
        const ruleLines = chain.split("\n").filter((l) => /\b(accept|drop|log)\b/.test(l) && !/policy/.test(l)).length;
        return { peers, bytes: rules.length, check, load, ruleLines, loaded };
    } finally {
        spawnSync(IP, ["netns", "del", ns]);
        rmSync(dir, { recursive: true, force: true });
    }
}

console.log(`zerotrust scale benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${mb(totalmem())} RAM, node ${process.version}`);
console.log("");
console.log("| shape | N | resources | per node | peer entries | `pulumi preview` | construct (in preview) | program peak heap | engine peak RSS | largest wg.conf | largest firewall.nft |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const shape of SHAPES) {
    for (const n of SIZES) {
        const args = meshArgs(shape as "star" | "full", n);
        const plan = planMesh(args);
        const peerEntries = Object.values(plan.policy.peers).reduce((sum, p) => sum + p.length, 0);
        const busiest = busiestMember(plan);
        const preview = runCase(shape, n);
        const p = typeof preview === "string" ? undefined : preview;
        console.log(`| ${shape} | ${n} | ${p ? p.resources : "-"} | ${p ? (p.resources / n).toFixed(1) : "-"} | ${peerEntries} | ` +
            `${p ? s(p.seconds) : preview} | ${p ? s(p.constructSeconds) : "-"} | ${p ? mb(p.programHeapPeak) : "-"} | ${p ? mb(p.engineRssPeak) : "-"} | ` +
            `${kb(wireGuardConfigFor(plan, args, busiest).length)} | ${kb(firewallFor(plan, busiest).length)} |`);
    }
}
console.log("");
const nft = nftTimes(1000);
console.log(`nftables, a host with ${nft.peers} allowed peers: ${kb(nft.bytes)} ruleset, ${nft.loaded} elements in one set, ` +
    `${nft.ruleLines} rules in its input chain; nft -c -f ${nft.check.toFixed(0)} ms, nft -f ${nft.load.toFixed(0)} ms (medians of 3)`);
