// One lab of the deployment benchmark: the stack program (stacks/program.ts, read the way
// stacks/index.ts reads it) as an inline program of the Automation API on a file backend of its
// own, deployed by the real engine onto lab hosts, with the apply drivers traced
// (deploy-trace-hook.ts). Also what cleans a lab up: by name, never by pattern.
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { randomBytes } from "crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { performance } from "perf_hooks";
import { execFileSync } from "child_process";
import { labLayout } from "../../components/hosts/lab";
import { previousStackOutput } from "../../components/previous-output";
import { StackSettings, scenarioNodes, zeroTrustStack } from "../../stacks/program";
import { removeLabLeftovers } from "../../test/helpers/lab";
import { DriverTrace, parseTraces } from "./deploy-trace";
import { processCpu } from "./proc-cpu";

export interface BenchLab {
    /** The lab's and the stack's name: bdp<N>. */
    name: string;
    /** Hosts in the first deployment (the scenario's five, and app servers). */
    n: number;
    labSubnet: string;
    meshCidr: string;
}

/** The labs for these sizes (pure): bdp<N>, the i-th on 10.213.(171+i).0/24 with mesh 10.(171+i).0.0/24. */
export function benchLabs(sizes: number[]): BenchLab[] {
    if (sizes.length > 5) throw new Error(`BENCH_SIZES: at most 5 sizes (the benchmark has 5 address ranges), got ${sizes.join(" ")}`);
    return sizes.map((n, i) => {
        if (!Number.isInteger(n) || n < 5 || n > 200) throw new Error(`BENCH_SIZES: ${n} is not a whole number of hosts from 5 (the scenario's own) to 200`);
        return { name: `bdp${n}`, n, labSubnet: `10.213.${171 + i}.0/24`, meshCidr: `10.${171 + i}.0.0/24` };
    });
}

/** The dev stack's settings (Pulumi.yaml's defaults) on this lab with N hosts, and the change given. */
export function benchSettings(lab: BenchLab, change: Partial<StackSettings> = {}): StackSettings {
    return {
        hostKind: "lab", meshCidr: lab.meshCidr, labSubnet: lab.labSubnet,
        sshOverMeshOnly: true, rollbackSeconds: 15, extraAppServers: lab.n - 5, ...change,
    };
}

/** Every host the benchmark ever makes in this lab: the N, and the one it adds. */
export function benchHosts(lab: BenchLab): string[] {
    return scenarioNodes({ extraAppServers: lab.n - 4 }).map((n) => n.name);
}

export interface OpResult {
    wallMs: number;
    /** The program's own run inside the update (reading the last outputs, constructing resources). */
    programMs: number;
    resourceChanges: Record<string, number>;
    /** Resources the engine changed, by name. */
    changed: string[];
    drivers: DriverTrace[];
    outputs: Record<string, any>;
    /** When the engine said each lab host's creation began and ended (event arrival: up to 0.2 s late). */
    hostCreations: [number, number][];
    cpu: CpuUse;
}

/**
 * CPU used during an operation (ms): this process's own (the program, the Automation API), its
 * reaped children's (the CLI, with its plugins, their drivers and those's ssh), and the lab hosts'
 * sshd with every session and program it ran.
 */
export interface CpuUse {
    bench: number;
    children: number;
    hosts: number;
}

interface CpuSnapshot {
    bench: number;
    children: number;
    hosts: Map<string, number>;
}

function sshdPid(lab: BenchLab, host: string): number | undefined {
    try {
        return Number(readFileSync(join(labLayout(lab.name).hostRootOf(host), "sshd.pid"), "utf8").trim()) || undefined;
    } catch {
        return undefined;
    }
}

export function cpuSnapshot(lab: BenchLab): CpuSnapshot {
    const usage = process.cpuUsage();
    const hosts = new Map<string, number>();
    for (const h of benchHosts(lab)) {
        const pid = sshdPid(lab, h);
        const cpu = pid === undefined ? undefined : processCpu(pid);
        if (cpu) hosts.set(h, cpu.own + cpu.children);
    }
    return { bench: (usage.user + usage.system) / 1000, children: processCpu("self")?.children ?? 0, hosts };
}

/** What was used between two snapshots; a host made in between started from nothing, one removed is not counted. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
    let hosts = 0;
    for (const [h, v] of after.hosts) hosts += v - (before.hosts.get(h) ?? 0);
    return { bench: after.bench - before.bench, children: after.children - before.children, hosts };
}

const now = () => performance.timeOrigin + performance.now();
const nameOf = (urn: string) => urn.split("::").pop()!;

export class BenchStack {
    private programMs = 0;

    private constructor(readonly lab: BenchLab, readonly stack: Stack, private readonly dir: string, private readonly traceFile: string) {}

    static async create(lab: BenchLab): Promise<BenchStack> {
        const dir = mkdtempSync(join(tmpdir(), `zt-bench-${lab.name}-`)); // mode 0700
        const traceFile = join(dir, "drivers.jsonl");
        const marks = join(dir, "marks");
        execFileSync("mkdir", ["-m", "700", marks]);
        writeFileSync(traceFile, "", { mode: 0o600 });
        const hook = join(__dirname, "deploy-trace-hook.js");
        if (/\s/.test(hook)) throw new Error(`the trace hook's path has a space, which NODE_OPTIONS cannot carry: ${hook}`);
        const backend = `file://${join(dir, "state")}`;
        execFileSync("mkdir", ["-m", "700", join(dir, "state"), join(dir, "tmp")]);
        const envVars = {
            PULUMI_BACKEND_URL: backend,
            PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"),
            PULUMI_SKIP_UPDATE_CHECK: "true",
            NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${hook}`.trim(),
            ZT_BENCH_TRACE: traceFile,
            ZT_BENCH_MARKS: marks,
            // The drivers' key files too: a driver ended by an interruption leaves its own here, removed with the run.
            TMPDIR: join(dir, "tmp"),
        };
        const stack = await LocalWorkspace.createOrSelectStack({ projectName: `zt-${lab.name}`, stackName: lab.name, program: async () => ({}) }, {
            workDir: dir, envVars,
            projectSettings: { name: `zt-${lab.name}`, runtime: "nodejs", backend: { url: backend } },
        });
        return new BenchStack(lab, stack, dir, traceFile);
    }

    private program(settings: StackSettings) {
        return async () => {
            const begun = now();
            // As stacks/index.ts: the last allocation, so that no member is renumbered.
            const previousAddresses = await previousStackOutput<Record<string, string>>("meshAddresses");
            const built = zeroTrustStack(this.lab.name, { ...settings, previousAddresses });
            this.programMs = now() - begun;
            return { hosts: built.hosts, meshAddresses: built.meshAddresses, labInterfaces: built.labInterfaces };
        };
    }

    private takeTraces(): DriverTrace[] {
        const traces = parseTraces(readFileSync(this.traceFile, "utf8"));
        writeFileSync(this.traceFile, "");
        return traces;
    }

    private async run(kind: "up" | "destroy", settings?: StackSettings): Promise<OpResult> {
        const changed: string[] = [];
        const errors: string[] = [];
        const creating = new Map<string, number>();
        const hostCreations: [number, number][] = [];
        const onEvent = (e: EngineEvent) => {
            const pre = e.resourcePreEvent?.metadata;
            if (pre?.op === "create" && pre.urn.endsWith("-namespace")) creating.set(pre.urn, now());
            const done = e.resOutputsEvent ?? e.resOpFailedEvent;
            // A replacement reports several steps of one resource; the read is the program's StackReference to itself.
            if (done && !["same", "read"].includes(done.metadata.op) && !changed.includes(nameOf(done.metadata.urn))) changed.push(nameOf(done.metadata.urn));
            if (done && creating.has(done.metadata.urn)) hostCreations.push([creating.get(done.metadata.urn)!, now()]);
            if (e.diagnosticEvent?.severity === "error") errors.push(e.diagnosticEvent.message.trim());
        };
        this.programMs = 0;
        this.takeTraces();
        const cpuBefore = cpuSnapshot(this.lab);
        const begun = now();
        let summary: Record<string, number> | undefined;
        try {
            if (kind === "up") {
                (this.stack.workspace as LocalWorkspace).program = this.program(settings!);
                summary = (await this.stack.up({ color: "never", onEvent })).summary.resourceChanges;
            } else {
                summary = (await this.stack.destroy({ color: "never", onEvent })).summary.resourceChanges;
            }
        } catch (e) {
            throw new Error(`${this.lab.name}: pulumi ${kind} failed: ${errors.join("\n") || String(e)}`);
        }
        const wallMs = now() - begun;
        const cpu = cpuBetween(cpuBefore, cpuSnapshot(this.lab));
        const outputs = kind === "up" ? Object.fromEntries(Object.entries(await this.stack.outputs()).map(([k, v]) => [k, v.value])) : {};
        return { wallMs, programMs: this.programMs, resourceChanges: summary ?? {}, changed, drivers: this.takeTraces(), outputs, hostCreations, cpu };
    }

    up(settings: StackSettings): Promise<OpResult> {
        return this.run("up", settings);
    }

    destroy(): Promise<OpResult> {
        return this.run("destroy");
    }

    /** The deployer's key and each host's pinned key, from the stack's state (in memory only). */
    async keys(): Promise<{ deployerKey: string; hostKeys: Map<string, string> }> {
        const resources: { urn: string; outputs?: Record<string, unknown> }[] = (await this.stack.exportStack()).deployment.resources ?? [];
        const plain = (v: unknown): string => (typeof v === "object" && v !== null && "plaintext" in v ? JSON.parse(String((v as { plaintext: string }).plaintext)) : String(v));
        const deployer = resources.find((r) => nameOf(r.urn) === "deployer-key");
        if (!deployer?.outputs?.privateKeyOpenssh) throw new Error(`${this.lab.name}: the state has no deployer key`);
        const hostKeys = new Map(resources.filter((r) => nameOf(r.urn).endsWith("-host-key") && r.outputs?.publicKeyOpenssh)
            .map((r) => [nameOf(r.urn).replace(/-host-key$/, ""), plain(r.outputs!.publicKeyOpenssh).trim()]));
        return { deployerKey: plain(deployer.outputs.privateKeyOpenssh), hostKeys };
    }

    /** Destroys what is left, removes the stack and every file of this run. */
    async dispose(): Promise<void> {
        await this.stack.destroy({ color: "never" }).catch(() => undefined);
        await this.stack.workspace.removeStack(this.stack.name, { force: true }).catch(() => undefined);
        rmSync(this.dir, { recursive: true, force: true });
    }

    /** Removes this run's files only (after an interruption, when the engine cannot be asked). */
    removeFiles(): void {
        rmSync(this.dir, { recursive: true, force: true });
    }
}

/** Removes a lab's hosts (and their processes), operator interface, bridge and directory, by name. */
export function removeBenchLab(lab: BenchLab): void {
    removeLabLeftovers(lab.name, benchHosts(lab));
}

/** What of a lab is still on this machine: namespaces, interfaces, its directory (empty: nothing). */
export function labLeftovers(lab: BenchLab): string[] {
    const layout = labLayout(lab.name);
    const namespaces = readdirSync("/run/netns").filter((n) => n.startsWith(`zt-${lab.name}-`));
    const links = execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" }).split("\n")
        .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).filter((l): l is string => l !== undefined);
    const own = new Set([layout.bridge, layout.operatorInterface, ...benchHosts(lab).map(layout.vethOf)]);
    return [
        ...namespaces.map((n) => `namespace ${n}`),
        ...links.filter((l) => own.has(l)).map((l) => `interface ${l}`),
        ...(existsSync(layout.root) ? [`directory ${layout.root}`] : []),
    ];
}

/** Resident memory of the lab's hosts' processes (sshd, wireguard-go, nginx, sessions), in bytes. */
export function labHostsRss(lab: BenchLab): number {
    let total = 0;
    for (const host of benchHosts(lab)) {
        const ns = labLayout(lab.name).namespaceOf(host);
        if (!existsSync(`/run/netns/${ns}`)) continue;
        const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).split("\n").filter(Boolean);
        for (const pid of pids) {
            try { total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024; } catch { /* gone */ }
        }
    }
    return total;
}

/** Every process below this one (the CLI, its plugins, drivers, ssh), deepest first. */
export function descendants(root: number): number[] {
    const parent = new Map<number, number>();
    for (const d of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
        try { parent.set(Number(d), Number(readFileSync(`/proc/${d}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[1])); } catch { /* gone */ }
    }
    // How many generations below the root (0: not below it).
    const depthBelow = (pid: number): number => {
        let n = 0;
        for (let p = parent.get(pid); p !== undefined && n < 256; p = parent.get(p)) {
            n++;
            if (p === root) return n;
        }
        return 0;
    };
    return [...parent.keys()].map((pid) => [pid, depthBelow(pid)]).filter(([, d]) => d > 0).sort((a, b) => b[1] - a[1]).map(([pid]) => pid);
}
