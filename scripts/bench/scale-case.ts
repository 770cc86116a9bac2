// One case of the scale benchmark, in a process of its own so that its heap is its own:
//   node scale-case.js mocks   <star|full> <N>   construct the program under Pulumi's mocks
//   node scale-case.js preview <star|full> <N>   `pulumi preview` of it with the real engine
// Prints one JSON line of figures.
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { randomBytes } from "crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { getHeapStatistics } from "v8";
import type { Shape } from "./scale-program";

/** The largest heap this process used, sampled every 100 ms (v8's own figure: cheaper than memoryUsage()). */
function heapPeak(): () => number {
    let peak = 0;
    const sample = () => { peak = Math.max(peak, getHeapStatistics().used_heap_size); };
    setInterval(sample, 100).unref();
    return () => { sample(); return peak; };
}

/** Peak of the summed resident memory of this process's descendants (the CLI and its plugins). */
function childrenRssPeak(): () => number {
    let peak = 0;
    const sample = () => {
        const parent = new Map<number, number>();
        for (const d of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
            try { parent.set(Number(d), Number(readFileSync(`/proc/${d}/stat`, "utf8").replace(/^.*\) /, "").split(" ")[1])); } catch { /* gone */ }
        }
        const mine = (pid: number): boolean => { for (let p = parent.get(pid); p; p = parent.get(p)) if (p === process.pid) return true; return false; };
        let total = 0;
        for (const pid of parent.keys()) {
            if (!mine(pid)) continue;
            try { total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024; } catch { /* gone */ }
        }
        peak = Math.max(peak, total);
    };
    setInterval(sample, 250).unref();
    return () => peak;
}

async function underMocks(shape: Shape, n: number) {
    let resources = 0;
    pulumi.runtime.setMocks({
        newResource(args) {
            resources++;
            const outputs = args.type === "random:index/randomBytes:RandomBytes" ? { base64: randomBytes(32).toString("base64") } : {};
            return { id: `${args.name}-id`, state: { ...args.inputs, ...outputs } };
        },
        call: (args) => args.inputs,
    }, "zerotrust", "bench", false);
    // Imported after the mocks are installed.
    const { benchKeys, scaleProgram } = await import("./scale-program");
    const keys = benchKeys();
    const peak = heapPeak();
    const start = process.hrtime.bigint();
    const { mesh, nodes } = scaleProgram(shape, n, keys);
    const configs = await Promise.all(Object.keys(mesh.members).map((m) => new Promise<number>((ok) => mesh.configOf(m).apply((c) => ok(c.length)))));
    await Promise.all(nodes.map((node) => new Promise((ok) => node.configured.urn.apply(ok))));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const peers = Object.values(mesh.plan.policy.peers).reduce((sum, p) => sum + p.length, 0);
    const { firewallFor } = await import("./scale-program");
    const firewalls = Object.keys(mesh.members).map((m) => firewallFor(mesh.plan, m).length);
    return {
        resources: resources + 1 /* the stack */, seconds, heapPeak: peak(), peerEntries: peers,
        largestWireGuard: Math.max(...configs), largestFirewall: Math.max(...firewalls),
    };
}

async function preview(shape: Shape, n: number) {
    const { benchKeys, scaleProgram } = await import("./scale-program");
    const keys = benchKeys();
    const backend = mkdtempSync(join(tmpdir(), "zt-bench-scale-"));
    const heap = heapPeak();
    const rss = childrenRssPeak();
    try {
        const stack = await LocalWorkspace.createOrSelectStack({
            projectName: "zt-scale", stackName: "bench",
            program: async () => { scaleProgram(shape, n, keys); },
        }, {
            workDir: backend,
            envVars: { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"), PULUMI_SKIP_UPDATE_CHECK: "true" },
            projectSettings: { name: "zt-scale", runtime: "nodejs", backend: { url: `file://${backend}` } },
        });
        let steps = 0;
        const start = process.hrtime.bigint();
        await stack.preview({ color: "never", onEvent: (e) => { if (e.resourcePreEvent) steps++; } });
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        return { resources: steps, seconds, programHeapPeak: heap(), engineRssPeak: rss() };
    } finally {
        rmSync(backend, { recursive: true, force: true });
    }
}

(async () => {
    const [mode, shape, nText] = process.argv.slice(2);
    if (!["mocks", "preview"].includes(mode) || !["star", "full"].includes(shape) || !(Number(nText) > 1)) {
        throw new Error("usage: scale-case.js mocks|preview star|full N");
    }
    const run = mode === "mocks" ? underMocks : preview;
    console.log(JSON.stringify(await run(shape as Shape, Number(nText))));
    process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
