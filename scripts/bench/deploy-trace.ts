// Where the time of one update goes, from the apply drivers' traces (deploy-trace-hook.ts) and the
// floor's round trips (deploy-floor.ts). Pure: every time is in ms since the epoch.

export interface SshTrace {
    /** The address ssh dialled. */
    host: string;
    spawned: number;
    /** When OpenSSH had connected and authenticated (its LocalCommand ran); undefined if it never did. */
    connected?: number;
    closed: number;
    code: number;
    /** What the host program was for (its ZT_CONCERN and ZT_ACTION); the floor's have none. */
    concern?: string;
    action?: string;
}

export interface DriverTrace {
    pid: number;
    /** apply, teardown or cutover (the driver's command line). */
    action: string;
    /** When the process began (node's timeOrigin) and when the trace hook, the first module, loaded. */
    start: number;
    loaded: number;
    routeChecks: { address: string; began: number; ended: number }[];
    ssh: SshTrace[];
    exit: number;
    code?: number;
    /** CPU (ms): the driver's own, and its ssh and ip children's. */
    cpu?: { own: number; children: number };
}

/** One driver's time, split (ms). `startUp` is node's own start plus loading the driver and reading its request. */
export interface DriverSplit {
    total: number;
    nodeStart: number;
    driverLoad: number;
    routeChecks: number;
    sshConnect: number;
    onHost: number;
    /** The rest: building the program, CRLs, waiting for a key switch, exiting. */
    other: number;
}

export function parseTraces(text: string): DriverTrace[] {
    return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as DriverTrace);
}

/** The SSH set-up and the session of one connection (ms); a connection that never authenticated is all set-up. */
export function sshSplit(s: SshTrace): { connect: number; onHost: number } {
    if (s.connected === undefined) return { connect: s.closed - s.spawned, onHost: 0 };
    return { connect: s.connected - s.spawned, onHost: s.closed - s.connected };
}

export function splitDriver(d: DriverTrace): DriverSplit {
    const firstAction = Math.min(d.exit, ...d.routeChecks.map((r) => r.began), ...d.ssh.map((s) => s.spawned));
    const routeChecks = d.routeChecks.reduce((sum, r) => sum + (r.ended - r.began), 0);
    const ssh = d.ssh.map(sshSplit);
    const sshConnect = ssh.reduce((sum, s) => sum + s.connect, 0);
    const onHost = ssh.reduce((sum, s) => sum + s.onHost, 0);
    const total = d.exit - d.start;
    const nodeStart = d.loaded - d.start;
    const driverLoad = firstAction - d.loaded;
    return { total, nodeStart, driverLoad, routeChecks, sshConnect, onHost, other: total - nodeStart - driverLoad - routeChecks - sshConnect - onHost };
}

/** The length of the union of intervals (ms): how long at least one of them was running. */
export function unionLength(intervals: [number, number][]): number {
    const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
    let total = 0;
    let end = -Infinity;
    for (const [s, e] of sorted) {
        if (e <= end) continue;
        total += e - Math.max(s, end);
        end = e;
    }
    return total;
}

/** The node a driver worked on: the one whose address its first connection dialled. */
export function driverHost(d: DriverTrace, nodeOf: Map<string, string>): string {
    const address = d.ssh[0]?.host ?? d.routeChecks[0]?.address;
    return (address && nodeOf.get(address)) ?? address ?? "?";
}

export interface HostTime extends DriverSplit {
    host: string;
    drivers: number;
    ssh: number;
    /** First driver's start to last driver's end. */
    span: number;
    /** Within the span, while none of the host's drivers ran: the engine between its steps, waiting for slots and dependencies. */
    betweenSteps: number;
}

/** Each host's drivers, summed, and its span. */
export function hostTimes(drivers: DriverTrace[], nodeOf: Map<string, string>): HostTime[] {
    const byHost = new Map<string, DriverTrace[]>();
    for (const d of drivers) {
        const h = driverHost(d, nodeOf);
        byHost.set(h, [...(byHost.get(h) ?? []), d]);
    }
    return [...byHost.entries()].map(([host, ds]) => {
        const splits = ds.map(splitDriver);
        const sum = (k: keyof DriverSplit) => splits.reduce((s, x) => s + x[k], 0);
        const span = Math.max(...ds.map((d) => d.exit)) - Math.min(...ds.map((d) => d.start));
        return {
            host, drivers: ds.length, ssh: ds.reduce((s, d) => s + d.ssh.length, 0), span,
            betweenSteps: span - unionLength(ds.map((d) => [d.start, d.exit])),
            total: sum("total"), nodeStart: sum("nodeStart"), driverLoad: sum("driverLoad"), routeChecks: sum("routeChecks"),
            sshConnect: sum("sshConnect"), onHost: sum("onHost"), other: sum("other"),
        };
    }).sort((a, b) => a.host.localeCompare(b.host));
}

/** How many SSH connections each node got (what the floor repeats). */
export function sshCountsByHost(drivers: DriverTrace[], nodeOf: Map<string, string>): Map<string, number> {
    const counts = new Map<string, number>();
    for (const d of drivers) for (const s of d.ssh) {
        const h = nodeOf.get(s.host) ?? s.host;
        counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    return counts;
}

/** The most drivers that ran at the same moment. */
export function peakConcurrency(drivers: DriverTrace[]): number {
    const edges = drivers.flatMap((d) => [[d.start, 1], [d.exit, -1]] as [number, number][]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let peak = 0;
    for (const [, delta] of edges) peak = Math.max(peak, (running += delta));
    return peak;
}

/** Mean of a field over hosts (0 for none). */
export function meanOf<T>(xs: T[], f: (x: T) => number): number {
    return xs.length === 0 ? 0 : xs.reduce((s, x) => s + f(x), 0) / xs.length;
}

export function median(xs: number[]): number {
    if (xs.length === 0) return 0;
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The engine's summary of an update as people read it: "12 created, 3 updated" (pure; "same" left out). */
export function formatChanges(resourceChanges: Record<string, number> | undefined): string {
    const words: Record<string, string> = { create: "created", update: "updated", delete: "deleted", replace: "replaced" };
    const parts = Object.entries(resourceChanges ?? {}).filter(([op, n]) => op !== "same" && n > 0)
        .map(([op, n]) => `${n} ${words[op] ?? op}`);
    return parts.length ? parts.join(", ") : "no changes";
}

/** Changed resource names grouped by node ("app-3: bootstrap, firewall; db: wireguard"), for a short list (pure). */
export function groupChanged(names: string[], nodes: string[]): string {
    const groups = new Map<string, string[]>();
    for (const name of names) {
        const node = nodes.filter((n) => name.startsWith(`${n}-`)).sort((a, b) => b.length - a.length)[0];
        const key = node ?? "";
        groups.set(key, [...(groups.get(key) ?? []), node ? name.slice(node.length + 1) : name]);
    }
    return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))
        .map(([node, parts]) => (node ? `${node}: ${parts.sort().join(", ")}` : parts.sort().join(", "))).join("; ");
}
