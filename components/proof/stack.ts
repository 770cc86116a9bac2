// I/O: the live proof of a stack of this project, from its outputs (proofPolicy), its state (which
// hosts it configured, over which pinned SSH path, and every member's public key) and the hosts.
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { StateResource, appliedConcerns, stateValue } from "../verify/applied";
import { StackLocation } from "../verify/verify";
import { proveLive } from "./live";
import { ProofResult } from "./prove";
import { ProofPolicy } from "./stack-policy";

const MESH_NETWORK = "zerotrust:index:MeshNetwork";

export function publicKeysFromState(resources: StateResource[]): Record<string, string> {
    const mesh = resources.find((r) => r.type === MESH_NETWORK);
    return (stateValue("MeshNetwork.publicKeys", mesh?.outputs?.publicKeys) as Record<string, string> | undefined) ?? {};
}

/** The live proof from a stack's state and its proofPolicy output (undefined: the stack predates the proof). */
export async function proveDeployment(resources: StateResource[], policy: ProofPolicy | undefined, stackName: string): Promise<ProofResult> {
    if (!policy) throw new Error(`stack ${stackName} does not export proofPolicy: run \`pulumi up\` with this version first`);
    return proveLive(policy, appliedConcerns(resources), publicKeysFromState(resources));
}

export async function proveStack(where: StackLocation): Promise<ProofResult> {
    const stack = await LocalWorkspace.selectStack({ stackName: where.stackName, workDir: where.workDir }, { envVars: where.envVars });
    const outputs = await stack.outputs();
    const resources = ((await stack.exportStack()).deployment as { resources?: StateResource[] })?.resources ?? [];
    return proveDeployment(resources, outputs.proofPolicy?.value as ProofPolicy | undefined, where.stackName);
}
