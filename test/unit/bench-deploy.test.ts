// The deployment benchmark's arithmetic (scripts/bench/deploy-trace.ts) and the pure parts of its
// trace hook and labs: what the figures in the README are computed by.
import test from "ava";
import { benchHosts, benchLabs, benchSettings } from "../../scripts/bench/deploy-lab";
import { DriverTrace, formatChanges, groupChanged, hostTimes, peakConcurrency, splitDriver, sshCountsByHost, unionLength } from "../../scripts/bench/deploy-trace";
import { markedSshArguments, programLabel } from "../../scripts/bench/deploy-trace-hook";
import { LabRun, Op, printGoals, printHostTable, printLab } from "../../scripts/bench/deploy-report";
import { composeHostProgram } from "../../components/remote/script";

/** A driver that applies and confirms on `host` from t0: 40 ms node, 10 ms load, 5 ms route check, two connections. */
function driver(pid: number, t0: number, host: string, confirmHost = host): DriverTrace {
    return {
        pid, action: "apply", start: t0, loaded: t0 + 40,
        routeChecks: [{ address: host, began: t0 + 50, ended: t0 + 55 }, { address: confirmHost, began: t0 + 300, ended: t0 + 305 }],
        ssh: [
            { host, spawned: t0 + 55, connected: t0 + 155, closed: t0 + 255, code: 0, concern: "firewall", action: "apply" },
            { host: confirmHost, spawned: t0 + 305, connected: t0 + 385, closed: t0 + 405, code: 0, concern: "firewall", action: "confirm" },
        ],
        exit: t0 + 420,
    };
}

test("a driver's time splits into node's start, loading, route checks, SSH set-up, the host's work and the rest, which add up", (t) => {
    const split = splitDriver(driver(1, 1000, "10.213.171.10"));
    t.deepEqual(split, { total: 420, nodeStart: 40, driverLoad: 10, routeChecks: 10, sshConnect: 180, onHost: 120, other: 60 });
    // A connection that never authenticated is all set-up.
    const refused = { ...driver(2, 0, "h"), ssh: [{ host: "h", spawned: 55, closed: 10055, code: 255 }], routeChecks: [] };
    t.is(splitDriver(refused).sshConnect, 10000);
    t.is(splitDriver(refused).driverLoad, 15, "up to the first ssh when there is no route check");
});

test("a host's drivers are found by the address they dial, underlay or mesh; the engine's time between its steps is the span's gaps", (t) => {
    const nodeOf = new Map([["10.213.171.10", "db"], ["10.171.0.5", "db"], ["10.213.171.11", "app-1"]]);
    const drivers = [driver(1, 0, "10.213.171.10", "10.171.0.5"), driver(2, 1000, "10.171.0.5"), driver(3, 200, "10.213.171.11")];
    const [app1, db] = hostTimes(drivers, nodeOf);
    t.is(db.host, "db");
    t.is(db.drivers, 2);
    t.is(db.ssh, 4);
    t.is(db.span, 1420);
    t.is(db.betweenSteps, 1420 - 840);
    t.is(db.total, 840);
    t.is(app1.host, "app-1");
    t.deepEqual([...sshCountsByHost(drivers, nodeOf)].sort(), [["app-1", 2], ["db", 4]]);
    t.is(peakConcurrency(drivers), 2);
});

test("the union of intervals counts overlaps once", (t) => {
    t.is(unionLength([[0, 10], [5, 15], [20, 30], [21, 22]]), 25);
    t.is(unionLength([]), 0);
});

test("the engine's summary and the changed resources read as people read them", (t) => {
    t.is(formatChanges({ create: 7, update: 4, same: 80 }), "7 created, 4 updated");
    t.is(formatChanges({ same: 91 }), "no changes");
    t.is(groupChanged(["app-3-firewall", "db-wireguard", "app-3-bootstrap", "operator-tunnel", "app-30-ssh"], ["app-3", "app-30", "db", "operator"]),
        "app-3: bootstrap, firewall; app-30: ssh; db: wireguard; operator: tunnel");
});

test("the trace hook reads only the concern and action of a real host program, and marks ssh without touching its own arguments", (t) => {
    const program = composeHostProgram({ concern: "wireguard", action: "apply", token: "t", rollbackSeconds: 15, vars: { ZT_IFACE: "wg0" }, files: { "wg.conf": "PrivateKey = x\n" } });
    t.deepEqual(programLabel(program), { concern: "wireguard", action: "apply" });
    const args = ["-F", "/dev/null", "-l", "root", "10.0.0.1", "/bin/bash -s"];
    const marked = markedSshArguments(args, "/tmp/zt-bench-x/marks/12-0");
    t.deepEqual(marked.slice(4), args, "the driver's arguments follow unchanged, host and command last");
    t.is(marked[3], "LocalCommand=date +%%s.%%N >/tmp/zt-bench-x/marks/12-0");
    t.throws(() => markedSshArguments(args, "/tmp/a b; rm -rf /"), { message: /unsafe mark file/ });
});

test("each size has a lab of its own in the benchmark's ranges, with the dev stack's settings", (t) => {
    const labs = benchLabs([5, 25, 50]);
    t.deepEqual(labs.map((l) => [l.name, l.labSubnet, l.meshCidr]), [
        ["bdp5", "10.213.171.0/24", "10.171.0.0/24"], ["bdp25", "10.213.172.0/24", "10.172.0.0/24"], ["bdp50", "10.213.173.0/24", "10.173.0.0/24"],
    ]);
    t.is(benchSettings(labs[1]).extraAppServers, 20);
    t.true(benchSettings(labs[0]).sshOverMeshOnly);
    t.is(benchHosts(labs[0]).length, 6, "the five and the one it adds");
    t.throws(() => benchLabs([4]), { message: /BENCH_SIZES: 4 / });
    t.throws(() => benchLabs([5, 6, 7, 8, 9, 10]), { message: /at most 5 sizes/ });
});

test("the goals are printed as ratios of the sizes' figures: a one-node change at 50 hosts against 5, a host against its floor", (t) => {
    const labs = benchLabs([5, 50]);
    const driverAt = (host: string) => driver(1, 0, host);
    const run = (i: number, scale: number): LabRun => ({
        lab: labs[i], leftovers: [], loadBefore: 1, loadAfter: 1, rssPerHost: 17e6,
        ops: ["deploy from nothing", "no-op update", "add a node", "rotate a key", "revoke a client", "remove a node", "destroy"].map((name): Op => {
            const drivers = name === "destroy" ? [] : [driverAt("10.0.0.1")];
            const floor = { wall: 100, perHost: new Map([["db", 210]]), ssh: drivers[0]?.ssh ?? [], failed: [], cpu: { clients: 10, hosts: 5 } };
            return {
                name, detail: "", driversRunning: 420, load: 1, hosts: hostTimes(drivers, new Map([["10.0.0.1", "db"]])), floor: drivers.length ? floor : undefined,
                r: {
                    wallMs: (name === "deploy from nothing" ? 1000 * labs[i].n : 10_000) * scale, programMs: 5, resourceChanges: { create: 1 }, changed: ["db-firewall"],
                    drivers, outputs: {}, hostCreations: [], cpu: { bench: 100 * scale, children: 900 * scale, hosts: 0 },
                },
            };
        }),
    });
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => { lines.push(line); };
    try {
        printLab(run(0, 1), 8);
        printHostTable([run(0, 1), run(1, 1.5)]);
        printGoals([run(0, 1), run(1, 1.5)]);
    } finally {
        console.log = log;
    }
    const text = lines.join("\n");
    t.regex(text, /\| deploy from nothing \| 5\.0 s \| 1 created \| 1 \| 2 \| 0\.1 s \| 50\.0x \|/);
    t.regex(text, /50 against 5 hosts \(10\.0x the hosts\): 15\.0x the time, 1\.5x the CPU/);
    t.regex(text, /a one-node change at 50 hosts against 5 \(goal: within 2x\), time and CPU: add a node 1\.5x and 1\.5x, rotate a key 1\.5x/);
    // The host's drivers took 420 ms against 210 ms of round trips in sequence.
    t.regex(text, /5: median 2\.0x, max 2\.0x; the whole deployment 50\.0x its floor/);
});
