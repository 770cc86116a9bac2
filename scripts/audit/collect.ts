// Gathers an audit report's material for a stack of this project: its outputs and state, the
// drift check, and on lab hosts the measured access matrix and the scanners' verdicts.
import { Stack } from "@pulumi/pulumi/automation";
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { formatIPv6, parseIPv6 } from "../../components/ipv6";
import { assertRoutedVia } from "../../components/remote/route-guard";
import { AuditData, LegacyReportPolicy, ReportPolicy, ScannerVerdict, certificatesFromState, hostViews, policyRows } from "../../components/report";
import { StateResource, appliedConcerns, stateValue, verifyDeployment } from "../../components/verify";
import { ipFamily, joinHostPort } from "../../components/validate";
import { SEED_PROBE_PORTS } from "../../stacks/seed-scenario";
import { proveDeployment } from "../../components/proof/stack";
import { ProofPolicy } from "../../components/proof/stack-policy";
import { labInterfaceList, namespaceOf } from "../lab/lab-outputs";
import { LabNode, measureMatrix, startListeners } from "../lab/report";
import { collectRefusals } from "./refusals";
import { nmapAnswering, sshAudit, testssl } from "./scanners";
import { strangerOnUnderlay } from "./stranger";
import { nmapVerdict, sshAuditVerdict, testsslVerdict } from "./verdicts";

interface StackOutputs {
    /** Lists, not maps, in stacks last deployed before the outputs were keyed by name. */
    auditPolicy: ReportPolicy | LegacyReportPolicy;
    /** Absent in stacks deployed before the proof: the report says so. */
    proofPolicy?: ProofPolicy;
    /** release: absent in stacks deployed before releases were named (they are debian-12). */
    hosts: Record<string, { underlay: string; underlay6?: string; mesh: string; release?: string }>;
    labNamespaces: Record<string, string> | string[];
    labInterfaces: Record<string, string> | string[];
    gatewayEndpoint: { serverName: string; address: string; address6?: string; port: number };
    gatewayClients: Record<string, { caPem: string }>;
}

const MESH_NETWORK = "zerotrust:index:MeshNetwork";

function publicKeysOf(resources: StateResource[]): Record<string, string> {
    const mesh = resources.find((r) => r.type === MESH_NETWORK);
    return (stateValue("MeshNetwork.publicKeys", mesh?.outputs?.publicKeys) as Record<string, string> | undefined) ?? {};
}

function labNodes(out: StackOutputs): LabNode[] {
    return Object.entries(out.hosts).map(([name, h]) => ({
        name, mesh: h.mesh, underlay: h.underlay, underlay6: h.underlay6, namespace: namespaceOf(out.labNamespaces, name),
    }));
}

/** A free address for the stranger in a dual-stack lab's IPv6 range (the lab's hosts count up from ::10). */
function freeUnderlayAddress6(bridge: string): string {
    const info = JSON.parse(spawnSync("ip", ["-j", "-6", "addr", "show", "dev", bridge, "scope", "global"], { encoding: "utf8" }).stdout || "[]");
    const a = info[0]?.addr_info?.[0];
    if (!a) throw new Error(`the lab bridge ${bridge} has no IPv6 address`);
    return `${formatIPv6(parseIPv6(a.local)! + 0xfff0n - 1n)}/${a.prefixlen}`;
}

/** A free address on the lab bridge's range (counting down from the top) for the stranger. */
function freeUnderlayAddress(bridge: string, taken: string[]): string {
    const info = JSON.parse(spawnSync("ip", ["-j", "-4", "addr", "show", "dev", bridge], { encoding: "utf8" }).stdout || "[]");
    const a = info[0]?.addr_info?.[0];
    if (!a) throw new Error(`the lab bridge ${bridge} has no IPv4 address`);
    const toInt = (s: string) => s.split(".").reduce((n, o) => n * 256 + Number(o), 0);
    const toText = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
    const size = 2 ** (32 - a.prefixlen);
    const network = toInt(a.local) - (toInt(a.local) % size);
    for (let n = network + size - 2; n > network; n--) {
        if (![a.local, ...taken].includes(toText(n))) return `${toText(n)}/${a.prefixlen}`;
    }
    throw new Error(`no free address on ${bridge}`);
}

async function measure(out: StackOutputs) {
    const nodes = labNodes(out);
    const ports = SEED_PROBE_PORTS.map((p) => Number(p.split("/")[1]));
    const listeners = await startListeners(nodes, ports);
    try {
        const m = measureMatrix(nodes, "operator", ports, labInterfaceList(out.labInterfaces));
        const probes = (nodes.length * (nodes.length - 1) + nodes.length) * ports.length;
        return { ports: SEED_PROBE_PORTS, probes, open: m.meshOpen, underlayAnswered: m.underlayAnswered };
    } finally {
        listeners.forEach((l) => l.kill());
    }
}

function scan(out: StackOutputs): ScannerVerdict[] {
    const verdicts: ScannerVerdict[] = [];
    const nodes = labNodes(out);
    const interfaces = labInterfaceList(out.labInterfaces);
    for (const n of nodes) {
        assertRoutedVia(n.mesh, interfaces);
        const release = out.hosts[n.name].release ?? "debian-12";
        verdicts.push(sshAuditVerdict(`${n.name} sshd (${n.mesh}:22, over the mesh, ${release})`, sshAudit(n.mesh, 22), release));
    }
    const bridge = interfaces[0];
    // nmap scans one family per run; an IPv6-only host's underlay is its IPv6 address.
    const v4 = nodes.map((n) => n.underlay).filter((a) => ipFamily(a) === 4);
    const v6 = [...new Set(nodes.flatMap((n) => [n.underlay, n.underlay6 ?? ""]).filter((a) => a !== "" && ipFamily(a) === 6))];
    const stranger = strangerOnUnderlay(bridge, freeUnderlayAddress(bridge, v4), v6.length ? freeUnderlayAddress6(bridge) : undefined);
    try {
        const gw = out.gatewayEndpoint;
        const scanned = nmapAnswering(v4, "1-1024,5432,8080", stranger.wrap);
        verdicts.push(nmapVerdict(`every host's underlay address, TCP 1-1024, 5432, 8080`, scanned.answering,
            ipFamily(gw.address) === 4 ? [`${gw.address}:${gw.port}/open`] : []));
        if (v6.length) {
            const scanned6 = nmapAnswering(v6, "1-1024,5432,8080", stranger.wrap);
            const gw6 = gw.address6 ?? (ipFamily(gw.address) === 6 ? gw.address : undefined);
            verdicts.push(nmapVerdict(`every host's IPv6 underlay address, TCP 1-1024, 5432, 8080`, scanned6.answering, gw6 ? [`${joinHostPort(gw6, gw.port)}/open`] : []));
        }
    } finally {
        stranger.remove();
    }
    const gw = out.gatewayEndpoint;
    const dir = mkdtempSync(join(tmpdir(), "zt-report-"));
    try {
        const ca = join(dir, "ca.pem");
        writeFileSync(ca, Object.values(out.gatewayClients)[0].caPem, { mode: 0o600 });
        assertRoutedVia(gw.address, interfaces);
        verdicts.push(testsslVerdict(`${gw.serverName} (${gw.address}:${gw.port})`, testssl(gw.serverName, gw.address, ca, join(dir, "testssl.json"))));
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
    return verdicts;
}

export interface CollectOptions {
    /** Run ssh-audit, nmap and testssl (lab stacks only). Default: true. */
    scan?: boolean;
}

export async function collectAuditData(stack: Stack, opts: CollectOptions = {}): Promise<AuditData> {
    const generatedAt = new Date().toISOString();
    const raw = await stack.outputs();
    const out = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.value])) as StackOutputs;
    if (!out.auditPolicy) throw new Error(`stack ${stack.name} does not export auditPolicy: run \`pulumi up\` with this version first`);
    const resources = ((await stack.exportStack()).deployment as { resources?: StateResource[] }).resources ?? [];
    const [last] = await stack.history(1).catch(() => []);
    const drift = await verifyDeployment(resources);
    const revoked = appliedConcerns(resources).flatMap((a) => a.request.crl?.lists.flatMap((l) => l.revokedSerials) ?? []);
    const lab = Object.keys(out.labNamespaces ?? {}).length > 0;
    const policy = policyRows(out.auditPolicy);
    return {
        stack: stack.name,
        generatedAt,
        lastUpdate: last?.endTime ? new Date(last.endTime).toISOString() : undefined,
        ...policy,
        measured: lab ? await measure(out) : undefined,
        drift: { ...drift, stack: stack.name },
        proof: await proveDeployment(resources, out.proofPolicy, stack.name).catch((e: Error) => ({ error: e.message })),
        hosts: hostViews(drift, publicKeysOf(resources)),
        certificates: certificatesFromState(resources, revoked),
        scanners: lab && (opts.scan ?? true) ? scan(out) : [],
        // After the scans: what they were refused is in it too.
        refusals: await collectRefusals(resources, policy.members.map((m) => ({
            ...m, underlay: [out.hosts[m.name]?.underlay, out.hosts[m.name]?.underlay6].filter((a): a is string => !!a),
        }))),
    };
}
