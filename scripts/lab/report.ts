// Measures a lab's access matrix: from every host (and from this machine, the operator peer) to
// every other host's mesh and underlay addresses on the given ports.
import { ChildProcess } from "child_process";
import { joinHostPort } from "../../components/validate";
import { LabSource, listen, probe } from "./lab-probe";

export interface LabNode {
    name: string;
    namespace: string;
    mesh: string;
    /** Its IPv6 mesh address, when the mesh has an IPv6 range (probed too). */
    mesh6?: string;
    underlay: string;
    /** A dual-stack host's IPv6 underlay address (probed too). */
    underlay6?: string;
}

export interface MeasuredMatrix {
    /** "from -> to tcp/port" for every connection that opened over the mesh (to IPv4 mesh addresses). */
    meshOpen: string[];
    /** The same, to IPv6 mesh addresses (empty when the mesh has no IPv6 range). */
    meshOpen6: string[];
    /** "from -> address:port" for anything that answered on the underlay (should be nothing). */
    underlayAnswered: string[];
    /** One printable line per source. */
    rows: string[];
}

/** Starts listeners for the probed ports that no service holds yet (SSH is sshd's own). */
export async function startListeners(nodes: LabNode[], ports: number[]): Promise<ChildProcess[]> {
    const free = ports.filter((p) => p !== 22);
    return Promise.all(nodes.map((n) => listen(n.namespace, free)));
}

/** `labInterfaces`: this machine's lab interfaces, the only way its probes (as the operator peer) may leave. */
export function measureMatrix(nodes: LabNode[], operator: string, ports: number[], labInterfaces: string[]): MeasuredMatrix {
    const sources: { name: string; src: LabSource }[] = [
        ...nodes.map((n) => ({ name: n.name, src: { namespace: n.namespace } })),
        { name: operator, src: { labInterfaces } },
    ];
    const result: MeasuredMatrix = { meshOpen: [], meshOpen6: [], underlayAnswered: [], rows: [] };
    for (const src of sources) {
        const others = nodes.filter((n) => n.name !== src.name);
        const mesh = others.flatMap((n) => ports.map((p) => ({ to: n.name, port: p, target: `${n.mesh}:${p}` })));
        const mesh6 = others.flatMap((n) => (n.mesh6 ? ports.map((p) => ({ to: n.name, port: p, target: joinHostPort(n.mesh6!, p) })) : []));
        const underlay = others.flatMap((n) => [...new Set([n.underlay, ...(n.underlay6 ? [n.underlay6] : [])])]
            .flatMap((address) => ports.map((p) => joinHostPort(address, p))));
        // A first round makes every tunnel hand-shake (a busy machine can take seconds); the second counts.
        probe(src.src, [...mesh, ...mesh6].map((m) => m.target), 2000);
        const answers = probe(src.src, [...mesh.map((m) => m.target), ...mesh6.map((m) => m.target), ...underlay]);
        const open = mesh.filter((m) => answers[m.target] === "open");
        result.meshOpen.push(...open.map((m) => `${src.name} -> ${m.to} tcp/${m.port}`));
        const open6 = mesh6.filter((m) => answers[m.target] === "open");
        result.meshOpen6.push(...open6.map((m) => `${src.name} -> ${m.to} tcp/${m.port}`));
        result.underlayAnswered.push(...underlay.filter((u) => answers[u] !== "filtered").map((u) => `${src.name} -> ${u}`));
        const list = (ms: typeof mesh) => (ms.length ? ms.map((m) => `${m.to}:${m.port}`).join(", ") : "(nothing)");
        result.rows.push(`${src.name.padEnd(9)} -> ${list(open)}${mesh6.length ? `   | over IPv6: ${list(open6)}` : ""}`);
    }
    return result;
}
