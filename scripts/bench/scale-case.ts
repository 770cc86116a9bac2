// One case of the scale benchmark, in a process of its own so that its heap is its own:
//   node scale-case.js <star|full> <N>   `pulumi preview` of the program with the real engine
// Prints one JSON line of figures: the preview's time and steps, how long the program took to
// construct its resources inside it, the program's peak heap and the engine's peak memory.
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { randomBytes } from "crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { getHeapStatistics } from "v8";
import { Shape, benchKeys, scaleProgram } from "./scale-program";

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

async function preview(shape: Shape, n: number) {
    const keys = benchKeys();
    const backend = mkdtempSync(join(tmpdir(), "zt-bench-scale-"));
    let constructSeconds = 0;
    const heap = heapPeak();
    const rss = childrenRssPeak();
    try {
        const stack = await LocalWorkspace.createOrSelectStack({
            projectName: "zt-scale", stackName: "bench",
            program: async () => {
                const begun = process.hrtime.bigint();
                scaleProgram(shape, n, keys);
                constructSeconds = Number(process.hrtime.bigint() - begun) / 1e9;
            },
        }, {
            workDir: backend,
            envVars: { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"), PULUMI_SKIP_UPDATE_CHECK: "true" },
            projectSettings: { name: "zt-scale", runtime: "nodejs", backend: { url: `file://${backend}` } },
        });
        let steps = 0;
        const start = process.hrtime.bigint();
        await stack.preview({ color: "never", onEvent: (e) => { if (e.resourcePreEvent) steps++; } });
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        return { resources: steps, seconds, constructSeconds, programHeapPeak: heap(), engineRssPeak: rss() };
    } finally {
        rmSync(backend, { recursive: true, force: true });
    }
}

(async () => {
    const [shape, nText] = process.argv.slice(2);
    if (!["star", "full"].includes(shape) || !(Number(nText) > 1)) throw new Error("usage: scale-case.js star|full N");
    console.log(JSON.stringify(await preview(shape as Shape, Number(nText))));
    process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
