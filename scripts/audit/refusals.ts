// Reads what every host refused (components/remote/access-record.sh) over the deployer's pinned
// SSH path: one connection per host, hosts in parallel, read only. The connection is the one the
// stack last applied the host's firewall with (every node has one).
import { readFileSync } from "fs";
import { assetPath } from "../../components/assets";
import { runOverSsh } from "../../components/remote/ssh";
import { connectionFailure } from "../../components/remote/ssh-failure";
import { HostRecord, NamedAddresses, RefusalReport, parseAccessRecord, refusalRows } from "../../components/report";
import { StateResource, appliedConcerns } from "../../components/verify";

/** Each node's record, or why it could not be read. */
export async function readAccessRecords(resources: StateResource[]): Promise<Record<string, HostRecord | string>> {
    const program = readFileSync(assetPath("remote/access-record.sh"), "utf8");
    const firewalls = appliedConcerns(resources).filter((a) => a.concern === "firewall");
    const read = await Promise.all(firewalls.map(async (a): Promise<[string, HostRecord | string]> => {
        const r = await runOverSsh(a.request.connection, program, 120);
        const unreachable = connectionFailure({ code: r.code, err: r.stderr });
        if (unreachable) return [a.node, `unreachable: ${unreachable}`];
        if (r.code !== 0) return [a.node, `failed: ${r.stderr.trim().split("\n").pop() || `exit ${r.code}`}`];
        try {
            return [a.node, parseAccessRecord(r.stdout)];
        } catch (e) {
            return [a.node, `failed: ${(e as Error).message}`];
        }
    }));
    return Object.fromEntries(read);
}

/** The report's refusals: every host's records, named by the members' mesh addresses (and the hosts' underlay addresses). */
export async function collectRefusals(resources: StateResource[], members: NamedAddresses[]): Promise<RefusalReport> {
    const readAt = new Date().toISOString();
    const records = await readAccessRecords(resources);
    const read = Object.fromEntries(Object.entries(records).filter((e): e is [string, HostRecord] => typeof e[1] !== "string"));
    return {
        readAt,
        hosts: Object.entries(records).map(([node, r]) => ({ node, state: typeof r === "string" ? r : "read" })).sort((a, b) => a.node.localeCompare(b.node)),
        rows: refusalRows(read, members),
        allowedRequests: Object.values(read).reduce((n, r) => n + (r.allowedRequests ?? 0), 0),
    };
}
