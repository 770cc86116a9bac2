// Benchmark, on demand (`npm run bench:deploy`, not part of the tests): real deployments of the dev
// stack's program on lab hosts through the real engine, for N hosts (BENCH_SIZES, default
// "5 25 50 100"; a size past 50 only while memory allows). For each N, in one lab of its own
// (bdp<N>): deploy from nothing, a no-op update, add a node, rotate a key, revoke a client, remove a
// node, destroy; each with the engine's summary, where its time went (from the drivers' traces:
// deploy-trace-hook.ts) and its SSH floor (the same number of bare SSH round trips to the same
// hosts, measured right after it: deploy-floor.ts). Prints figures and ratios; asserts nothing.
// Every lab is removed at the end, on failure and on SIGINT/SIGTERM/SIGHUP too.
import { execFileSync } from "child_process";
import { readFileSync } from "fs";
import { cpus, loadavg, totalmem } from "os";
import { StackSettings } from "../../stacks/program";
import { FloorTarget, Floor, sshFloor } from "./deploy-floor";
import { BenchLab, BenchStack, OpResult, benchHosts, benchLabs, benchSettings, cpuBetween, cpuSnapshot, descendants, labHostsRss, labLeftovers, removeBenchLab } from "./deploy-lab";
import { HostTime, formatChanges, groupChanged, hostTimes, meanOf, median, peakConcurrency, sshCountsByHost, sshSplit, unionLength } from "./deploy-trace";

const SIZES = (process.env.BENCH_SIZES ?? "5 25 50 100").split(/\s+/).filter(Boolean).map(Number);
/** The engine's own default (pulumi up --parallel): 4 per core, or PULUMI_PARALLEL. */
const PARALLEL = Number(process.env.PULUMI_PARALLEL) > 0 ? Number(process.env.PULUMI_PARALLEL) : 4 * cpus().length;
/** Sizes past this run only if the machine has the memory for them. */
const ALWAYS_UP_TO = 50;

interface Op {
    name: string;
    detail: string;
    r: OpResult;
    floor?: Floor;
    /** The same floor with the classic key exchange only (the deployment only). */
    classicFloor?: Floor;
    hosts: HostTime[];
    /** Time at least one driver ran. */
    driversRunning: number;
    load: number;
}

interface LabRun {
    lab: BenchLab;
    ops: Op[];
    rssPerHost?: number;
    leftovers: string[];
    loadBefore: number;
    loadAfter: number;
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const ms = (x: number) => `${Math.round(x)} ms`;
const x = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}x` : "-");
const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

let current: { lab: BenchLab; stack?: BenchStack } | undefined;
/** The sizes measured so far: an interrupted run still prints their summary. */
const runs: LabRun[] = [];

function interrupted(signal: string): void {
    process.stderr.write(`\n${signal}: stopping the engine and removing ${current ? `lab ${current.lab.name}` : "nothing (no lab is up)"}\n`);
    const sleep = (t: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, t);
    for (const signalName of ["SIGTERM", "SIGKILL"] as const) {
        for (const pid of descendants(process.pid)) { try { process.kill(pid, signalName); } catch { /* gone */ } }
        sleep(2000);
    }
    if (current) {
        removeBenchLab(current.lab);
        current.stack?.removeFiles();
        const left = labLeftovers(current.lab);
        process.stderr.write(left.length ? `left behind: ${left.join(", ")}\n` : `lab ${current.lab.name} removed: no namespace, interface or directory left\n`);
    }
    printSummary();
    process.exit(130);
}

/** Address -> node, from an update's outputs (underlay and mesh), added to what was known. */
function learnAddresses(nodeOf: Map<string, string>, outputs: Record<string, any>): void {
    for (const [name, h] of Object.entries<any>(outputs.hosts ?? {})) {
        for (const a of [h.underlay, h.underlay6, h.mesh]) if (typeof a === "string") nodeOf.set(a, name);
    }
}

/** The key exchange a bookworm client and sshd agree on first (sntrup761x25519) against the classic one alone. */
const CLASSIC_KEX = ["-o", "KexAlgorithms=curve25519-sha256"];

async function floorOf(stack: BenchStack, r: OpResult, nodeOf: Map<string, string>, sshOptions: string[] = []): Promise<Floor | undefined> {
    const counts = sshCountsByHost(r.drivers, nodeOf);
    if (counts.size === 0) return undefined;
    const { deployerKey, hostKeys } = await stack.keys();
    const targets: FloorTarget[] = [...counts.entries()].flatMap(([node, count]) => {
        const h = r.outputs.hosts?.[node];
        const hostKey = hostKeys.get(node);
        // A node removed by this update is gone: its round trips cannot be repeated.
        if (!h || !hostKey || typeof h.managedVia !== "string") return [];
        return [{ node, count, host: h.managedVia, port: 22, user: "root", privateKey: deployerKey, hostKey, onlyVia: r.outputs.labInterfaces }];
    });
    const before = cpuSnapshot(stack.lab);
    const floor = await sshFloor(targets, PARALLEL, sshOptions);
    const used = cpuBetween(before, cpuSnapshot(stack.lab));
    return { ...floor, cpu: { clients: used.children, hosts: used.hosts } };
}

async function runLab(lab: BenchLab): Promise<LabRun> {
    current = { lab };
    removeBenchLab(lab); // what a run killed with SIGKILL left
    const loadBefore = loadavg()[0];
    const stack = await BenchStack.create(lab);
    current.stack = stack;
    const ops: Op[] = [];
    const nodeOf = new Map<string, string>();
    let rssPerHost: number | undefined;
    const extra = lab.n - 5;
    const added = `app-${extra + 3}`;
    const steps: [string, string, Partial<StackSettings>][] = [
        ["deploy from nothing", `${lab.n} hosts`, {}],
        ["no-op update", "", {}],
        ["add a node", added, { extraAppServers: extra + 1 }],
        ["rotate a key", "app-1, keyGenerations", { keyGenerations: { "app-1": 2 } }],
        ["revoke a client", "bob", { revokedClients: ["bob"] }],
        ["remove a node", added, { extraAppServers: extra }],
    ];
    try {
        let settings = benchSettings(lab);
        for (const [name, detail, change] of [...steps, ["destroy", "", {}] as [string, string, Partial<StackSettings>]]) {
            settings = { ...settings, ...change };
            const r = name === "destroy" ? await stack.destroy() : await stack.up(settings);
            learnAddresses(nodeOf, r.outputs);
            if (name === "deploy from nothing") rssPerHost = labHostsRss(lab) / lab.n;
            const floor = name === "destroy" ? undefined : await floorOf(stack, r, nodeOf);
            const classicFloor = name === "deploy from nothing" ? await floorOf(stack, r, nodeOf, CLASSIC_KEX) : undefined;
            const op: Op = {
                name, detail, r, floor, classicFloor, hosts: hostTimes(r.drivers, nodeOf),
                driversRunning: unionLength(r.drivers.map((d) => [d.start, d.exit])), load: loadavg()[0],
            };
            ops.push(op);
            process.stderr.write(`${lab.name}: ${name} ${s(r.wallMs)} (${formatChanges(r.resourceChanges)}; ${r.drivers.length} drivers, ` +
                `${r.drivers.reduce((n, d) => n + d.ssh.length, 0)} ssh; floor ${floor ? s(floor.wall) : "-"})\n`);
            if (floor?.failed.length) process.stderr.write(`  floor round trips that failed: ${floor.failed.join("; ")}\n`);
        }
    } finally {
        await stack.dispose();
        removeBenchLab(lab);
        current = undefined;
    }
    return { lab, ops, rssPerHost, leftovers: labLeftovers(lab), loadBefore, loadAfter: loadavg()[0] };
}

function memAvailable(): number {
    return Number(/MemAvailable:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0) * 1024;
}

function printLab(run: LabRun): void {
    const { lab, ops } = run;
    console.log(`\n### N = ${lab.n} (lab ${lab.name}; load average ${run.loadBefore.toFixed(1)} before, ${run.loadAfter.toFixed(1)} after; ` +
        `lab hosts' processes ${run.rssPerHost ? mb(run.rssPerHost) : "-"} resident per host)\n`);
    console.log("| operation | time | engine summary | drivers | SSH connections | SSH floor | time / floor | drivers running | program | resources changed |");
    console.log("|---|---|---|---|---|---|---|---|---|---|");
    for (const op of ops) {
        const ssh = op.r.drivers.reduce((n, d) => n + d.ssh.length, 0);
        const names = op.r.changed.length <= 14 ? groupChanged(op.r.changed, [...benchHosts(lab), "operator"]) : `(${op.r.changed.length})`;
        console.log(`| ${op.name}${op.detail ? ` (${op.detail})` : ""} | ${s(op.r.wallMs)} | ${formatChanges(op.r.resourceChanges)} | ${op.r.drivers.length} | ${ssh} | ` +
            `${op.floor ? s(op.floor.wall) : "-"} | ${op.floor ? x(op.r.wallMs, op.floor.wall) : "-"} | ${s(op.driversRunning)} | ${s(op.r.programMs)} | ${names} |`);
    }
    console.log("\nCPU time (ms; what the shared machine's load does not change much):\n");
    console.log("| operation | CPU | program + Automation API | engine, plugins, lab commands | drivers (node) | their ssh and ip | lab hosts (sshd, sessions, programs) | floor: ssh + sshd | drivers, their ssh and hosts / floor |");
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const op of ops) {
        const driversOwn = op.r.drivers.reduce((n, d) => n + (d.cpu?.own ?? 0), 0);
        const driversChildren = op.r.drivers.reduce((n, d) => n + (d.cpu?.children ?? 0), 0);
        const total = op.r.cpu.bench + op.r.cpu.children + op.r.cpu.hosts;
        const floorCpu = op.floor?.cpu ? op.floor.cpu.clients + op.floor.cpu.hosts : 0;
        console.log(`| ${op.name} | ${ms(total)} | ${ms(op.r.cpu.bench)} | ${ms(op.r.cpu.children - driversOwn - driversChildren)} | ${ms(driversOwn)} | ${ms(driversChildren)} | ` +
            `${ms(op.r.cpu.hosts)} | ${op.floor?.cpu ? `${ms(op.floor.cpu.clients)} + ${ms(op.floor.cpu.hosts)}` : "-"} | ${floorCpu ? x(driversChildren + op.r.cpu.hosts + driversOwn, floorCpu) : "-"} |`);
    }
    const deploy = ops[0];
    const creations = deploy.r.hostCreations.map(([a, b]) => b - a);
    console.log(`\nlab host creation (namespace, veth, sshd; engine events, up to 0.2 s late): median ${s(median(creations))} each; ` +
        `peak drivers at once: ${peakConcurrency(deploy.r.drivers)} (engine parallel ${PARALLEL})`);
    const programs = new Map<string, number[]>();
    for (const d of deploy.r.drivers) for (const c of d.ssh) {
        const key = `${c.concern ?? "?"} ${c.action ?? "?"}`;
        programs.set(key, [...(programs.get(key) ?? []), sshSplit(c).onHost]);
    }
    console.log(`on the host per program (deploy from nothing, median): ${[...programs.entries()].sort().map(([k, v]) => `${k} ${ms(median(v))} (${v.length})`).join(", ")}`);
    if (deploy.floor) {
        const f = deploy.floor.ssh.map(sshSplit);
        const d = deploy.r.drivers.flatMap((dr) => dr.ssh.map(sshSplit));
        console.log(`SSH set-up per connection (median): ${ms(median(d.map((c) => c.connect)))} in the deployment, ${ms(median(f.map((c) => c.connect)))} in its floor; ` +
            `a bare session: ${ms(median(f.map((c) => c.onHost)))}`);
        const c = deploy.classicFloor;
        if (c?.cpu && deploy.floor.cpu) {
            const per = (fl: Floor) => fl.cpu!.clients / fl.ssh.length;
            console.log(`the floor again with the classic key exchange only (curve25519-sha256, not sntrup761x25519): ${s(c.wall)} against ${s(deploy.floor.wall)}; ` +
                `SSH set-up median ${ms(median(c.ssh.map((t) => sshSplit(t).connect)))}; ssh client CPU per connection ${ms(per(c))} against ${ms(per(deploy.floor))}, ` +
                `sshd ${ms(c.cpu.hosts / c.ssh.length)} against ${ms(deploy.floor.cpu.hosts / deploy.floor.ssh.length)}`);
        }
    }
    if (run.leftovers.length) console.log(`LEFT BEHIND after the run: ${run.leftovers.join(", ")}`);
}

/** Where a host's time goes, per N, for the deployment and for adding a node (means per host touched). */
function printHostTable(runs: LabRun[]): void {
    console.log("\n### Where a host's time goes (mean per host touched; the drivers' traces)\n");
    console.log("| N | operation | hosts | drivers | SSH conns | span | driver start-up (node + load) | route checks | SSH set-up | on the host | other in driver | engine between steps | SSH floor | drivers / floor |");
    console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (const run of runs) for (const op of run.ops.filter((o) => ["deploy from nothing", "add a node", "rotate a key"].includes(o.name))) {
        const hs = op.hosts;
        const m = (f: (h: HostTime) => number) => meanOf(hs, f);
        const floors = hs.map((h) => op.floor?.perHost.get(h.host)).filter((v): v is number => v !== undefined);
        const floorMean = meanOf(floors, (v) => v);
        console.log(`| ${run.lab.n} | ${op.name} | ${hs.length} | ${m((h) => h.drivers).toFixed(1)} | ${m((h) => h.ssh).toFixed(1)} | ${s(m((h) => h.span))} | ` +
            `${ms(m((h) => h.nodeStart))} + ${ms(m((h) => h.driverLoad))} | ${ms(m((h) => h.routeChecks))} | ${ms(m((h) => h.sshConnect))} | ${ms(m((h) => h.onHost))} | ` +
            `${ms(m((h) => h.other))} | ${s(m((h) => h.betweenSteps))} | ${ms(floorMean)} | ${x(m((h) => h.total), floorMean)} |`);
    }
}

function printGoals(runs: LabRun[]): void {
    const op = (run: LabRun, name: string) => run.ops.find((o) => o.name === name)!;
    const base = runs[0];
    console.log("\n### Goals (ratios; nothing is asserted)\n");
    console.log(`- cost linear in N: deploy from nothing per host ${runs.map((r) => `${r.lab.n}: ${s(op(r, "deploy from nothing").r.wallMs / r.lab.n)}`).join(", ")}; ` +
        `no-op update ${runs.map((r) => `${r.lab.n}: ${s(op(r, "no-op update").r.wallMs)}`).join(", ")}`);
    const big = runs.find((r) => r.lab.n === 50) ?? runs[runs.length - 1];
    if (big !== base) {
        console.log(`- a one-node change at ${big.lab.n} hosts against ${base.lab.n} (goal: within 2x): ` +
            ["add a node", "rotate a key", "revoke a client", "remove a node"].map((n) => `${n} ${x(op(big, n).r.wallMs, op(base, n).r.wallMs)}`).join(", "));
    }
    console.log(`- deploying a host against its SSH floor (goal: within 3x; drivers' time per host / its round trips in sequence): ` +
        runs.map((r) => {
            const d = op(r, "deploy from nothing");
            const ratios = d.hosts.map((h) => h.total / (d.floor?.perHost.get(h.host) ?? NaN)).filter(Number.isFinite);
            return `${r.lab.n}: median ${median(ratios).toFixed(1)}x, max ${Math.max(...ratios).toFixed(1)}x; whole deployment ${x(d.r.wallMs, d.floor?.wall ?? 0)} its floor`;
        }).join("; "));
}

async function main(): Promise<void> {
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => interrupted(sig));
    const labs = benchLabs(SIZES);
    const pulumiVersion = execFileSync("pulumi", ["version"], { encoding: "utf8" }).trim();
    console.log(`zerotrust deployment benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${mb(totalmem())} RAM, node ${process.version}, ` +
        `pulumi ${pulumiVersion} (parallel ${PARALLEL}), load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} at start`);
    for (const lab of labs) {
        const perHost = runs.map((r) => r.rssPerHost ?? 0).pop() ?? 0;
        // The lab's hosts, the engine and its plugins, with room to spare.
        const needed = perHost * lab.n * 1.5 + 3e9;
        if (lab.n > ALWAYS_UP_TO && memAvailable() < needed) {
            console.log(`\nN = ${lab.n} skipped: about ${mb(needed)} needed, ${mb(memAvailable())} available`);
            continue;
        }
        const run = await runLab(lab);
        runs.push(run);
        printLab(run);
    }
    printSummary();
}

function printSummary(): void {
    if (runs.length === 0) return;
    printHostTable(runs);
    printGoals(runs);
}

main().then(() => process.exit(0), (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
