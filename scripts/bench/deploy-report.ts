// What bench:deploy prints (deploy.ts runs it): per size, its operations with their times, the
// engine's summaries and CPU; then, over the sizes, where a host's time goes and the goals as ratios.
import { Floor } from "./deploy-floor";
import { BenchLab, OpResult, benchHosts } from "./deploy-lab";
import { HostTime, formatChanges, groupChanged, meanOf, median, peakConcurrency, sshSplit } from "./deploy-trace";

export interface Op {
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

export interface LabRun {
    lab: BenchLab;
    ops: Op[];
    rssPerHost?: number;
    leftovers: string[];
    loadBefore: number;
    loadAfter: number;
}

export const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const ms = (x: number) => `${Math.round(x)} ms`;
const x = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}x` : "-");
export const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

export function printLab(run: LabRun, parallel: number): void {
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
        `peak drivers at once: ${peakConcurrency(deploy.r.drivers)} (engine parallel ${parallel})`);
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
export function printHostTable(runs: LabRun[]): void {
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

/** All the CPU an operation used (ms): the benchmark's process, the engine's tree, the lab hosts. */
const cpuOf = (o: Op) => o.r.cpu.bench + o.r.cpu.children + o.r.cpu.hosts;

export function printGoals(runs: LabRun[]): void {
    const op = (run: LabRun, name: string) => run.ops.find((o) => o.name === name)!;
    const base = runs[0];
    const last = runs[runs.length - 1];
    console.log("\n### Goals (ratios; nothing is asserted)\n");
    const deploy = (r: LabRun) => op(r, "deploy from nothing");
    console.log(`- cost linear in N: deploy from nothing ${runs.map((r) => `${r.lab.n}: ${s(deploy(r).r.wallMs)} (${s(deploy(r).r.wallMs / r.lab.n)} and ` +
        `${ms(cpuOf(deploy(r)) / r.lab.n)} CPU per host)`).join(", ")}` +
        (last !== base ? `; ${last.lab.n} against ${base.lab.n} hosts (${x(last.lab.n, base.lab.n)} the hosts): ${x(deploy(last).r.wallMs, deploy(base).r.wallMs)} the time, ` +
            `${x(cpuOf(deploy(last)), cpuOf(deploy(base)))} the CPU` : "") +
        `; no-op update ${runs.map((r) => `${r.lab.n}: ${s(op(r, "no-op update").r.wallMs)} (${ms(cpuOf(op(r, "no-op update")))} CPU)`).join(", ")}`);
    const big = runs.find((r) => r.lab.n === 50) ?? last;
    if (big !== base) {
        console.log(`- a one-node change at ${big.lab.n} hosts against ${base.lab.n} (goal: within 2x), time and CPU: ` +
            ["add a node", "rotate a key", "revoke a client", "remove a node"].map((n) => `${n} ${x(op(big, n).r.wallMs, op(base, n).r.wallMs)} and ${x(cpuOf(op(big, n)), cpuOf(op(base, n)))}`).join(", "));
    }
    console.log(`- deploying a host against its SSH floor (goal: within 3x; the drivers' time per host against its round trips in sequence): ` +
        runs.map((r) => {
            const d = deploy(r);
            const ratios = d.hosts.map((h) => h.total / (d.floor?.perHost.get(h.host) ?? NaN)).filter(Number.isFinite);
            return `${r.lab.n}: median ${median(ratios).toFixed(1)}x, max ${Math.max(...ratios).toFixed(1)}x; the whole deployment ${x(d.r.wallMs, d.floor?.wall ?? 0)} its floor`;
        }).join("; "));
}
