// Drift of a whole stack: every concern the stack applied, checked on its host; hosts in
// parallel, one concern at a time on each (as the apply protocol runs them).
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { AppliedConcern, StateResource, appliedConcerns } from "./applied";
import { ConcernStatus, checkConcern, repairConcern } from "./check";

export interface VerifyReport {
    stack?: string;
    /** When the checks ran (ISO 8601). */
    checkedAt: string;
    /** When the stack was last updated, if known (ISO 8601). */
    lastUpdate?: string;
    concerns: ConcernStatus[];
}

export interface VerifyOptions {
    /** Re-apply the drifted concerns through the apply protocol. Default: false (read only). */
    repair?: boolean;
}

async function checkNode(concerns: AppliedConcern[], repair: boolean): Promise<ConcernStatus[]> {
    const out: ConcernStatus[] = [];
    for (const a of concerns) {
        // One unreachable concern means the host is: the rest are not tried (each try waits for ssh's timeout).
        const unreachable = out.find((s) => s.state === "unreachable");
        if (unreachable) {
            out.push({ ...unreachable, resource: a.resource, concern: a.concern, repair: undefined, live: undefined });
            continue;
        }
        const status = await checkConcern(a);
        out.push(repair && status.state === "drifted" ? await repairConcern(a, status) : status);
    }
    return out;
}

/** Checks (and with `repair`, repairs) what a deployment's state says was applied. */
export async function verifyDeployment(resources: StateResource[], opts: VerifyOptions = {}): Promise<VerifyReport> {
    const checkedAt = new Date().toISOString();
    const byNode = new Map<string, AppliedConcern[]>();
    for (const a of appliedConcerns(resources)) byNode.set(a.node, [...(byNode.get(a.node) ?? []), a]);
    const results = await Promise.all([...byNode.values()].map((c) => checkNode(c, opts.repair ?? false)));
    return { checkedAt, concerns: results.flat() };
}

export interface StackLocation {
    stackName: string;
    /** The Pulumi project's directory. */
    workDir: string;
    /** Backend and passphrase settings (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE_FILE, ...). */
    envVars?: Record<string, string>;
}

/** Verifies a stack as `pulumi stack export --show-secrets` has it. */
export async function verifyStack(where: StackLocation, opts: VerifyOptions = {}): Promise<VerifyReport> {
    const stack = await LocalWorkspace.selectStack({ stackName: where.stackName, workDir: where.workDir }, { envVars: where.envVars });
    const exported = await stack.exportStack();
    const resources = ((exported.deployment as { resources?: StateResource[] })?.resources) ?? [];
    const [last] = await stack.history(1).catch(() => []);
    const report = await verifyDeployment(resources, opts);
    return { ...report, stack: where.stackName, lastUpdate: last?.endTime ? new Date(last.endTime).toISOString() : undefined };
}

/** 0: every concern in sync; 1: drift; 2: no drift, but a concern could not be checked. */
export function exitCodeOf(report: VerifyReport): number {
    if (report.concerns.some((c) => c.state === "drifted")) return 1;
    return report.concerns.some((c) => c.state !== "in sync") ? 2 : 0;
}
