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
import { BenchLab, BenchStack, OpResult, benchLabs, benchSettings, cpuBetween, cpuSnapshot, descendants, labHostsRss, labLeftovers, removeBenchLab } from "./deploy-lab";
import { LabRun, Op, mb, printGoals, printHostTable, printLab, s } from "./deploy-report";
import { formatChanges, hostTimes, sshCountsByHost, unionLength } from "./deploy-trace";

const SIZES = (process.env.BENCH_SIZES ?? "5 25 50 100").split(/\s+/).filter(Boolean).map(Number);
/** The engine's own default (pulumi up --parallel): 4 per core, or PULUMI_PARALLEL. */
const PARALLEL = Number(process.env.PULUMI_PARALLEL) > 0 ? Number(process.env.PULUMI_PARALLEL) : 4 * cpus().length;
/** Sizes past this run only if the machine has the memory for them. */
const ALWAYS_UP_TO = 50;

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
        printLab(run, PARALLEL);
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
