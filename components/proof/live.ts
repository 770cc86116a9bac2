// I/O: the proof of live hosts. Over the same pinned SSH path the deployer and the drift check use,
// each configured node prints its table as nft lists it (`nft -j`), its WireGuard peers' AllowedIPs
// (`wg show IFACE allowed-ips`) and its listening sockets (`ss`); the proof then runs on what they print.
import { SshTarget, runOverSsh } from "../remote/ssh";
import { connectionFailure } from "../remote/ssh-failure";
import { AppliedConcern } from "../verify/applied";
import { Listener, ProofInput, ProofResult, proveMesh } from "./prove";
import { readNftTable } from "./ruleset";
import { ProofPolicy, compiledFrom } from "./stack-policy";
import { PeerEntry, peersOfWgShow } from "./wireguard";

/** The program each host runs: read only, three sections. The interface name arrives checked (an interface name). */
export function collectProgram(iface: string): string {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(iface)) throw new Error(`not an interface name: ${JSON.stringify(iface)}`);
    return [
        "set -euo pipefail",
        "echo '=== nft'",
        "nft -j list table inet zerotrust",
        "echo '=== wg'",
        `wg show ${iface} allowed-ips`,
        "echo '=== ss'",
        "ss -Hlntu",
        "",
    ].join("\n");
}

/** `ss -Hlntu`: "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*" per socket. */
export function parseListeners(text: string): Listener[] {
    const out: Listener[] = [];
    for (const line of text.split("\n")) {
        const cols = line.trim().split(/\s+/);
        if (cols.length < 5 || (cols[0] !== "tcp" && cols[0] !== "udp")) continue;
        const local = cols[4];
        const i = local.lastIndexOf(":");
        const port = Number(local.slice(i + 1));
        if (i < 0 || !Number.isInteger(port)) continue;
        out.push({ proto: cols[0], port, address: local.slice(0, i) });
    }
    return out;
}

export function splitSections(stdout: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const block of stdout.split(/^=== /m).slice(1)) {
        const nl = block.indexOf("\n");
        out[block.slice(0, nl).trim()] = nl < 0 ? "" : block.slice(nl + 1);
    }
    return out;
}

export interface LiveReading {
    nft: string;
    wg: string;
    ss: string;
}

async function readHost(target: SshTarget, iface: string): Promise<LiveReading> {
    const r = await runOverSsh(target, collectProgram(iface), 120);
    const unreachable = connectionFailure({ code: r.code, err: r.stderr });
    if (unreachable) throw new Error(`${unreachable} [${r.stderr.trim().split("\n").pop()}]`);
    if (r.code !== 0) throw new Error(r.stderr.trim().split("\n").pop() || `exit ${r.code}`);
    const s = splitSections(r.stdout);
    if (s.nft === undefined || s.wg === undefined || s.ss === undefined) throw new Error("the host printed no nft/wg/ss sections");
    return { nft: s.nft, wg: s.wg, ss: s.ss };
}

/** What the proof reads of the live hosts the stack configured; `unread`: the hosts that could not be read, and why. */
export async function readLive(policy: ProofPolicy, concerns: AppliedConcern[], publicKeys: Record<string, string>): Promise<{ input: ProofInput; unread: string[] }> {
    const members = Object.fromEntries(Object.entries(publicKeys).map(([name, key]) => [key, name]));
    const byNode = new Map<string, SshTarget>();
    for (const c of concerns) if (c.concern === "firewall") byNode.set(c.node, c.request.connection);
    const readings = await Promise.all([...byNode].map(async ([node, target]) => {
        try {
            return { node, reading: await readHost(target, policy.wgInterface) };
        } catch (e) {
            return { node, error: (e as Error).message };
        }
    }));
    const firewalls: Record<string, ReturnType<typeof readNftTable>> = {};
    const wireguard: Record<string, PeerEntry[] | undefined> = {};
    const listening: Record<string, Listener[]> = {};
    const unread: string[] = [];
    for (const r of readings) {
        if (!r.reading) { unread.push(`${r.node} (${r.error})`); continue; }
        firewalls[r.node] = readNftTable(r.reading.nft);
        wireguard[r.node] = peersOfWgShow(r.reading.wg, members);
        listening[r.node] = parseListeners(r.reading.ss);
    }
    return { input: { policy: compiledFrom(policy), addresses: policy.addresses, wgInterface: policy.wgInterface, firewalls, wireguard, meshPing: policy.meshPing, listening }, unread };
}

/** Proves the live hosts the stack configured; a host that cannot be read is named in the notes and left out. */
export async function proveLive(policy: ProofPolicy, concerns: AppliedConcern[], publicKeys: Record<string, string>): Promise<ProofResult> {
    const { input, unread } = await readLive(policy, concerns, publicKeys);
    const result = proveMesh(input);
    return { ...result, ...(unread.length ? { unread } : {}) };
}
