// What the stack last applied to its hosts, read from its state (`pulumi stack export
// --show-secrets`): the apply driver's request of every concern, with the node it belongs to. Pure.
import { DriverRequest } from "../remote/driver";
import { COMMAND_TYPE as COMMAND, DRIVER_COMMAND, NODE_TYPE as NODE } from "../remote/protocol";
import { Concern } from "../remote/script";

export interface AppliedConcern {
    /** The resource's name in the stack, e.g. "db-firewall". */
    resource: string;
    /** The ZeroTrustNode the concern is on. */
    node: string;
    concern: Concern;
    /** The request the driver ran: payload, connection, rollback window (holds secrets). */
    request: DriverRequest;
}

/** The parts of a state file's resource that are read here. */
export interface StateResource {
    urn: string;
    type: string;
    parent?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

// How `pulumi stack export --show-secrets` writes a secret: its value as JSON in "plaintext".
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

const nameOf = (urn: string) => urn.split("::").pop()!;

/** A value of the exported state, with a secret (exported with --show-secrets) in the clear. */
export function stateValue(field: string, value: unknown): unknown {
    if (typeof value === "object" && value !== null && SECRET_SIG in value) {
        const secret = value as { plaintext?: string };
        if (secret.plaintext === undefined) {
            throw new Error(`${field} is encrypted in this export: export the stack with --show-secrets (the deployer needs the SSH key it holds)`);
        }
        return JSON.parse(secret.plaintext);
    }
    return value;
}

/** The management host of each node, to name the node a request goes to. */
function nodesByHost(resources: StateResource[]): Map<string, string> {
    const byHost = new Map<string, string>();
    for (const r of resources) {
        if (r.type !== NODE) continue;
        const host = stateValue(`${nameOf(r.urn)}.managementHost`, r.outputs?.managementHost);
        if (typeof host === "string") byHost.set(host, nameOf(r.urn));
    }
    return byHost;
}

/**
 * A first-contact request (made once over the underlay, then confirmed over the mesh) is not the
 * concern's current state: the concern's own resource, on the management path, is.
 */
function isFirstContact(req: DriverRequest): boolean {
    return req.confirmHost !== undefined && req.confirmHost !== req.connection.host;
}

export function appliedConcerns(resources: StateResource[]): AppliedConcern[] {
    const nodes = nodesByHost(resources);
    const applied: AppliedConcern[] = [];
    for (const r of resources) {
        if (r.type !== COMMAND || typeof r.inputs?.create !== "string" || DRIVER_COMMAND.exec(r.inputs.create)?.[1] !== "apply") continue;
        const resource = nameOf(r.urn);
        const stdin = stateValue(`${resource}.stdin`, r.inputs.stdin);
        if (typeof stdin !== "string") throw new Error(`${resource}: its stdin is not an apply request`);
        const request = JSON.parse(stdin) as DriverRequest;
        if (isFirstContact(request)) continue;
        const host = request.confirmHost ?? request.connection.host;
        applied.push({ resource, node: nodes.get(host) ?? (r.parent ? nameOf(r.parent) : host), concern: request.concern, request });
    }
    return applied;
}
