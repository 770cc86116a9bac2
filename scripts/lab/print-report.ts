// Prints what a lab stack built (hosts, mesh addresses) and its measured access matrix.
// Reads `pulumi stack output --json` on stdin when run directly.
import { labInterfaceList, namespaceOf } from "./lab-outputs";
import { LabNode, measureMatrix, startListeners } from "./report";

export interface LabOutputs {
    hosts: Record<string, { underlay: string; underlay6?: string; mesh: string }>;
    /** Each host's namespace by node (a list in stacks last deployed before the outputs were keyed by name). */
    labNamespaces: Record<string, string> | string[];
    sshMode: string;
    policyMatrix: Record<string, string[]>;
    /** Each client the policy admits through the gateway: "admitted" or "revoked" (a list of names before). */
    gatewayAllowlist: Record<string, string> | string[];
    operatorAddress: string;
    /** This machine's lab interfaces by role: the only way the operator's probes may leave. */
    labInterfaces: Record<string, string> | string[];
}

const PROBE_PORTS = [22, 5432, 8080];

/** "alice, bob (revoked)" (pure). */
export function gatewayClientList(allowlist: Record<string, string> | string[]): string {
    if (Array.isArray(allowlist)) return allowlist.join(", ");
    return Object.entries(allowlist).map(([client, state]) => (state === "admitted" ? client : `${client} (${state})`)).join(", ");
}

export async function printReport(out: LabOutputs): Promise<void> {
    const missing = (["hosts", "labNamespaces", "sshMode", "policyMatrix", "gatewayAllowlist", "operatorAddress", "labInterfaces"] as const)
        .filter((k) => out[k] === undefined);
    if (missing.length > 0) throw new Error(`the stack does not export ${missing.join(", ")}: is it a lab stack built by this version?`);
    const nodes: LabNode[] = Object.entries(out.hosts).map(([name, h]) => ({
        name, mesh: h.mesh, underlay: h.underlay, underlay6: h.underlay6, namespace: namespaceOf(out.labNamespaces, name),
    }));
    const lines = ["", "hosts (namespace, underlay, mesh):"];
    for (const n of nodes) lines.push(`  ${n.name.padEnd(9)} ${n.namespace.padEnd(18)} ${n.underlay.padEnd(14)} ${n.mesh}`);
    lines.push(`  operator  (this machine)       ${"".padEnd(14)} ${out.operatorAddress}`, `ssh: ${out.sshMode}`, "", "policy (compiled):");
    for (const [pair, ports] of Object.entries(out.policyMatrix)) lines.push(`  ${pair}: ${ports.join(", ")}`);
    lines.push(`  gateway's clients (HTTPS, by certificate): ${gatewayClientList(out.gatewayAllowlist) || "(none)"}`);
    process.stdout.write(lines.join("\n") + "\n");

    const listeners = await startListeners(nodes, PROBE_PORTS);
    try {
        const m = measureMatrix(nodes, "operator", PROBE_PORTS, labInterfaceList(out.labInterfaces));
        process.stdout.write(`\nmeasured access over the mesh (TCP ${PROBE_PORTS.join(", ")}):\n  ${m.rows.join("\n  ")}\n`);
        process.stdout.write(m.underlayAnswered.length === 0
            ? `measured on the underlay (TCP ${PROBE_PORTS.join(", ")}): every probe filtered; open by design: WireGuard's UDP port, and HTTPS on the gateway\n`
            : `measured on the underlay: ANSWERED ${m.underlayAnswered.join(", ")}\n`);
    } finally {
        listeners.forEach((l) => l.kill());
    }
}

if (require.main === module) {
    let input = "";
    process.stdin.on("data", (d) => { input += d; });
    process.stdin.on("end", () => {
        printReport(JSON.parse(input)).catch((e: Error) => { process.stderr.write(`${e.message}\n`); process.exit(1); });
    });
}
