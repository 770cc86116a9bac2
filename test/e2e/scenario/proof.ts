// The exhaustive proof on a running lab, checked against the network itself: the live proof (nft -j,
// wg, ss over the pinned SSH path) holds; with a hole made by hand on one host it names exactly the
// hole, a full TCP scan of 65,535 ports of a few pairs finds exactly the ports it computes, and every
// UDP port it says is open answers a probe (with a port next to them as the control); deleting the
// host's own file closes the hole and the proof holds again. Registered by seed-scenario.ts, so
// lab-mesh and the release labs all run it.
import test from "ava";
import { spawnSync } from "child_process";
import { ChildProcess } from "child_process";
import { formatProof, proofHolds, proveMesh } from "../../../components/proof";
import { formatPorts, size } from "../../../components/proof/intervals";
import { readLive } from "../../../components/proof/live";
import { reachBetween } from "../../../components/proof/prove";
import { proveDeployment, publicKeysFromState } from "../../../components/proof/stack";
import { ProofPolicy } from "../../../components/proof/stack-policy";
import { StateResource, appliedConcerns } from "../../../components/verify";
import { inLabHost, probeUdp, startTool } from "../../../scripts/lab/lab-probe";
import { SEED_NODES, SEED_OPERATOR } from "../../../stacks/seed-scenario";
import { EngineStack } from "../../helpers/engine";

export interface ProofLab {
    engine: () => EngineStack;
    /** The outputs of the last successful up (proofPolicy, hosts). */
    outputs: () => Record<string, any>;
    labRoot: string;
    namespaceOf: (host: string) => string;
    labInterfaces: string[];
}

/** The ports a full TCP connect scan from `ns` finds not filtered (open or closed: the firewall let the SYN in). */
function tcpScan(ns: string, target: string): string {
    const r = spawnSync("ip", ["netns", "exec", ns, "nmap", "-Pn", "-n", "-sT", "-T4", "--max-retries", "1", "--min-rate", "5000", "--max-rtt-timeout", "300ms", "-p", "1-65535", "-oG", "-", target], { encoding: "utf8", timeout: 600_000 });
    if (r.status !== 0) throw new Error(`nmap failed: ${r.stdout}${r.stderr}`);
    const line = r.stdout.split("\n").find((l) => l.includes("Ports:"));
    const ports = line ? [...line.matchAll(/(\d+)\/(open|closed|unfiltered)\//g)].map((m) => BigInt(m[1])) : [];
    return formatPorts(ports.sort((a, b) => (a < b ? -1 : 1)).map((p) => [p, p] as [bigint, bigint]).reduce<[bigint, bigint][]>((acc, [p]) => {
        const last = acc[acc.length - 1];
        if (last && last[1] + 1n === p) last[1] = p; else acc.push([p, p]);
        return acc;
    }, []));
}

const HOLE_HOST = "db";
const HOLE = "5000-5003";

/**
 * Deletes the hand-made rule by its handle. Not a reload of the host's file: that would empty the
 * drop record's sets, which the access-log checks that come later read.
 */
function closeHole(root: string): void {
    const listing = inLabHost(root, ["nft", "-a", "list", "chain", "inet", "zerotrust", "input"]);
    for (const m of listing.matchAll(new RegExp(`th dport ${HOLE} accept # handle (\\d+)`, "g"))) {
        inLabHost(root, ["nft", "delete", "rule", "inet", "zerotrust", "input", "handle", m[1]]);
    }
}

export function proofLabTests(lab: ProofLab): void {
    const read = async () => {
        const resources = (await lab.engine().stack.exportStack()).deployment.resources as StateResource[];
        const { input, unread } = await readLive(lab.outputs().proofPolicy as ProofPolicy, appliedConcerns(resources), publicKeysFromState(resources));
        return { input, unread, result: proveMesh(input) };
    };

    test.serial("the exhaustive proof of the live hosts: equal to the policy; a hole made by hand is named, and nmap and UDP probes find exactly what it computes", async (t) => {
        // As `npm run verify` and `npm run report` make it: from the stack's state and its proofPolicy output.
        const resources = (await lab.engine().stack.exportStack()).deployment.resources as StateResource[];
        const clean = await proveDeployment(resources, lab.outputs().proofPolicy as ProofPolicy, "lab");
        t.log(formatProof(clean).join("\n"));
        t.true(proofHolds(clean), formatProof(clean).join("\n"));
        t.is(clean.pairs, SEED_NODES.length * SEED_NODES.length); // 6 members into 5 nodes, less each to itself
        t.regex(formatProof(clean)[0], /^25 pairs x 131,070 ports and ICMP echo: equal to the policy$/);

        // The hole: TCP and UDP 5000-5003 from anything that arrives over the mesh, inserted on one host by hand.
        const root = `${lab.labRoot}/${HOLE_HOST}`;
        inLabHost(root, ["nft", "insert", "rule", "inet", "zerotrust", "input", "iifname", "wg0", "meta", "l4proto", "{", "tcp,", "udp", "}", "th", "dport", HOLE, "accept"]);
        t.teardown(() => { try { closeHole(root); } catch { /* the host is gone */ } });
        const holed = await read();
        t.log(formatProof(holed.result).join("\n"));
        // Only db's WireGuard peers get through it: the app servers and the operator, never the dev box or the gateway.
        t.deepEqual(holed.result.differences.map((d) => `${d.from}>${d.to} ${d.proto}/${d.ports} ${d.reaches ? "reaches" : "blocked"}`).sort(),
            ["app-1", "app-2", SEED_OPERATOR].flatMap((f) => [`${f}>${HOLE_HOST} tcp/${HOLE} reaches`, `${f}>${HOLE_HOST} udp/${HOLE} reaches`]).sort());

        // A full TCP scan of two pairs finds exactly the ports the proof computes (with the hole): not filtered = let in.
        for (const from of ["app-1", "dev-box"]) {
            const computed = formatPorts(reachBetween(holed.input, from, HOLE_HOST, 4).tcp);
            const started = Date.now();
            const scanned = tcpScan(lab.namespaceOf(from), lab.outputs().hosts[HOLE_HOST].mesh);
            t.log(`${from} -> ${HOLE_HOST}: proof ${computed || "(nothing)"}, nmap of 65,535 ports ${scanned || "(nothing)"} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
            t.is(scanned, computed, `${from} -> ${HOLE_HOST}`);
        }

        // Every UDP port the proof says is open, of every pair, answers a datagram; the port below each range, echoed too, does not.
        const udpOpen = new Map<string, number[]>();
        for (const to of Object.keys(holed.input.firewalls)) {
            const ports = [...new Set([SEED_OPERATOR, ...SEED_NODES.map((n) => n.name)].filter((f) => f !== to)
                .flatMap((f) => reachBetween(holed.input, f, to, 4).udp.flatMap(([a, b]) => Array.from({ length: Number(b - a + 1n) }, (_, i) => Number(a) + i))))];
            if (ports.length) udpOpen.set(to, ports);
        }
        t.deepEqual([...udpOpen.keys()], [HOLE_HOST], "the only UDP the mesh lets in is the hole");
        const echoes: ChildProcess[] = [];
        t.teardown(() => echoes.forEach((e) => e.kill()));
        for (const [to, ports] of udpOpen) echoes.push(await startTool({ namespace: lab.namespaceOf(to) }, ["udp-echo", ...[...ports, Math.min(...ports) - 1].map(String)]));
        let probed = 0;
        for (const from of [SEED_OPERATOR, ...SEED_NODES.map((n) => n.name)]) {
            for (const [to] of udpOpen) {
                if (from === to) continue;
                const open = reachBetween(holed.input, from, to, 4).udp;
                const ports = open.flatMap(([a, b]) => Array.from({ length: Number(b - a + 1n) }, (_, i) => Number(a) + i));
                const control = Math.min(...udpOpen.get(to)!) - 1;
                const mesh = lab.outputs().hosts[to].mesh;
                const src = from === SEED_OPERATOR ? { labInterfaces: lab.labInterfaces } : { namespace: lab.namespaceOf(from) };
                const answers = probeUdp(src, [...ports, control].map((p) => `${mesh}:${p}`));
                t.deepEqual(answers, Object.fromEntries([...ports.map((p) => [`${mesh}:${p}`, "answered"]), [`${mesh}:${control}`, "silent"]]), `${from} -> ${to}`);
                probed += ports.length;
                t.is(BigInt(ports.length), size(open));
            }
        }
        t.log(`UDP: ${probed} datagrams to every port the proof says is open answered; each control port stayed silent`);
        t.is(probed, 3 * 4, "app-1, app-2 and the operator, 4 ports each");

        // Deleting the rule closes the hole: the proof holds again.
        closeHole(root);
        const again = await read();
        t.deepEqual(again.unread, []);
        t.true(proofHolds(again.result), formatProof(again.result).join("\n"));
    });
}
