// Prints what a lab stack built (hosts, mesh addresses) and its measured access matrix.
// Reads `pulumi stack output --json` on stdin when run directly.
import { LabNode, measureMatrix, startListeners } from "./report";

export interface LabOutputs {
    hosts: Record<string, { underlay: string; underlay6?: string; mesh: string }>;
    labNamespaces: string[];
    sshMode: string;
    policyMatrix: Record<string, string[]>;
    gatewayAllowlist: string[];
    operatorAddress: string;
    /** This machine's lab interfaces: the only way the operator's probes may leave. */
    labInterfaces: string[];
}

const PROBE_PORTS = [22, 5432, 8080];

export async function printReport(out: LabOutputs): Promise<void> {
    const missing = (["hosts", "labNamespaces", "sshMode", "policyMatrix", "gatewayAllowlist", "operatorAddress", "labInterfaces"] as const)
        .filter((k) => out[k] === undefined);
    if (missing.length > 0) throw new Error(`the stack does not export ${missing.join(", ")}: is it a lab stack built by this version?`);
    const nodes: LabNode[] = Object.entries(out.hosts).map(([name, h]) => ({
        name, mesh: h.mesh, underlay: h.underlay, underlay6: h.underlay6, namespace: out.labNamespaces.find((n) => n.endsWith(`-${name}`))!,
    }));
    const lines = ["", "hosts (namespace, underlay, mesh):"];
    for (const n of nodes) lines.push(`  ${n.name.padEnd(9)} ${n.namespace.padEnd(18)} ${n.underlay.padEnd(14)} ${n.mesh}`);
    lines.push(`  operator  (this machine)       ${"".padEnd(14)} ${out.operatorAddress}`, `ssh: ${out.sshMode}`, "", "policy (compiled):");
    for (const [pair, ports] of Object.entries(out.policyMatrix)) lines.push(`  ${pair}: ${ports.join(", ")}`);
    lines.push(`  gateway's clients (HTTPS, by certificate): ${out.gatewayAllowlist.join(", ") || "(none)"}`);
    process.stdout.write(lines.join("\n") + "\n");

    const listeners = await startListeners(nodes, PROBE_PORTS);
    try {
        const m = measureMatrix(nodes, "operator", PROBE_PORTS, out.labInterfaces);
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
