// The operations an interrupted `pulumi up` left pending in a stack's state (`pulumi stack export
// --show-secrets`), each with what settles it on its host. Pure: the I/O is scripts/pending-operations.ts.
//
// Why this is safe to clear: every change to a host goes through the apply protocol, so an
// interrupted apply is on its host either not made, or made and armed to roll back unless a new
// connection confirms it (lib.sh). Settling confirms it over the management path, as the driver
// would have, or finds it already rolled back. The state then forgets the operation and the next
// update applies the resource again: an apply whose change is in place answers "unchanged".
import { DriverRequest } from "../remote/driver";
import { COMMAND_TYPE as COMMAND, DRIVER_COMMAND as DRIVER } from "../remote/protocol";
import { stateValue, StateResource } from "./applied";

export interface PendingOperation {
    resource: StateResource;
    /** "creating", "updating", "deleting", "reading", ... as the engine wrote it. */
    type: string;
}

export type Settlement =
    /** An apply: confirm it on its host over a new connection to the management path. */
    | { kind: "confirm"; request: DriverRequest }
    /** A key cut-over: the host switches and keeps or rolls back by itself within this many seconds. */
    | { kind: "cutover-window"; request: DriverRequest; seconds: number }
    /** A teardown: it either ran or not; the next update runs it again (it is idempotent). */
    | { kind: "teardown"; request: DriverRequest }
    /** Nothing on a host: state only (keys, certificates) or this machine's lab, made again idempotently. */
    | { kind: "none"; why: string };

export interface ClassifiedOperation {
    name: string;
    urn: string;
    type: string;
    resourceType: string;
    settlement: Settlement;
}

const nameOf = (urn: string) => urn.split("::").pop()!;

function driverRequest(name: string, stdin: unknown): DriverRequest | undefined {
    const text = stateValue(`${name}.stdin`, stdin);
    if (typeof text !== "string") return undefined;
    try { return JSON.parse(text) as DriverRequest; } catch { return undefined; }
}

/** Which driver action an interrupted operation of a command was running. */
function driverAction(op: PendingOperation): string | undefined {
    const inputs = op.resource.inputs ?? {};
    const field = op.type === "deleting" ? inputs.delete : op.type === "updating" && typeof inputs.update === "string" ? inputs.update : inputs.create;
    return typeof field === "string" ? DRIVER.exec(field)?.[1] : undefined;
}

export function classifyPending(ops: PendingOperation[]): ClassifiedOperation[] {
    return ops.map((op) => {
        const name = nameOf(op.resource.urn);
        const base = { name, urn: op.resource.urn, type: op.type, resourceType: op.resource.type };
        const action = op.resource.type === COMMAND ? driverAction(op) : undefined;
        const request = action ? driverRequest(name, op.resource.inputs?.stdin) : undefined;
        if (action && request) {
            if (action === "apply") return { ...base, settlement: { kind: "confirm", request } };
            if (action === "teardown") return { ...base, settlement: { kind: "teardown", request } };
            const switchSeconds = Number(request.vars.ZT_SWITCH_SECONDS ?? 0);
            return { ...base, settlement: { kind: "cutover-window", request, seconds: switchSeconds + request.rollbackSeconds + 2 } };
        }
        const why = op.resource.type === COMMAND
            ? "a command on this machine (the lab's own resources), made again by the next update"
            : "state only (nothing on a host), made again by the next update";
        return { ...base, settlement: { kind: "none", why } };
    });
}

/** The deployment without its pending operations (the next update makes those resources again). */
export function withoutPending<T extends { pending_operations?: unknown[] }>(deployment: T): T {
    const { pending_operations: _dropped, ...rest } = deployment;
    return rest as T;
}
