// Runs the local.Command resources a program registered under mocks, the way the command
// provider would: `create` through /bin/sh -c with the resource's stdin and environment. It stands
// in for the engine where the command plugin cannot be had, so the components' real commands,
// scripts and payloads still reach real lab hosts. Only resources whose inputs changed since the
// last run are run again (the engine's diff), and deletes run in reverse order.
import { spawnSync } from "child_process";
import { Recorded, plain } from "./mocks";

export const LOCAL_COMMAND = "command:local:Command";

// The order the components' dependsOn chains impose (lab first, then each host's concerns).
const PHASES = ["-p12", "-bridge", "-vm", "-namespace", "-tunnel", "-bootstrap", "-wireguard", "-firewall", "-ssh", "-gateway"];

function phaseOf(name: string): number {
    const i = PHASES.findIndex((suffix) => name.endsWith(suffix));
    if (i < 0) throw new Error(`no phase known for command ${name}`);
    return i;
}

export interface CommandSpec {
    name: string;
    create: string;
    delete?: string;
    stdin?: string;
    environment: Record<string, string>;
    ignoreStdinChanges: boolean;
    /** What the provider may print of a run: "none" keeps stdout (a bundle, say) out of every log. */
    logging: string;
}

export function commandsOf(recorded: Recorded[]): CommandSpec[] {
    return recorded
        .filter((r) => r.type === LOCAL_COMMAND)
        .map((r) => ({
            name: r.name,
            create: plain(r.inputs.create),
            delete: plain(r.inputs.delete),
            stdin: plain(r.inputs.stdin),
            environment: Object.fromEntries(Object.entries(plain(r.inputs.environment) ?? {}).map(([k, v]) => [k, String(plain(v))])),
            ignoreStdinChanges: r.name.endsWith("-bootstrap"),
            logging: plain(r.inputs.logging) ?? "stdoutAndStderr",
        }))
        .sort((a, b) => phaseOf(a.name) - phaseOf(b.name));
}

export interface RunResult {
    name: string;
    logging: string;
    code: number;
    stdout: string;
    stderr: string;
}

function runOne(cmd: string, spec: CommandSpec): RunResult {
    const r = spawnSync("/bin/sh", ["-c", cmd], {
        input: spec.stdin ?? "",
        env: { ...process.env, ...spec.environment },
        encoding: "utf8",
        timeout: 600_000,
    });
    return { name: spec.name, logging: spec.logging, code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
}

function sameInputs(a: CommandSpec, b: CommandSpec): boolean {
    return a.create === b.create && a.delete === b.delete &&
        (a.ignoreStdinChanges || a.stdin === b.stdin) && JSON.stringify(a.environment) === JSON.stringify(b.environment);
}

/** Deploys `next` over `current` (the state); returns what ran. Stops at the first failure, like the engine. */
export function deploy(current: Map<string, CommandSpec>, next: CommandSpec[]): { ran: RunResult[]; failed?: RunResult } {
    const ran: RunResult[] = [];
    for (const spec of next) {
        const old = current.get(spec.name);
        if (old && sameInputs(spec, old)) continue;
        const result = runOne(spec.create, spec);
        ran.push(result);
        if (result.code !== 0) return { ran, failed: result };
        current.set(spec.name, spec);
    }
    const wanted = new Set(next.map((s) => s.name));
    const gone = [...current.values()].filter((s) => !wanted.has(s.name)).reverse();
    for (const spec of gone) {
        if (spec.delete) ran.push(runOne(spec.delete, spec));
        current.delete(spec.name);
    }
    return { ran };
}

/** Runs every delete in reverse order; keeps going past failures and returns them. */
export function destroy(current: Map<string, CommandSpec>): RunResult[] {
    const failures: RunResult[] = [];
    for (const spec of [...current.values()].sort((a, b) => phaseOf(b.name) - phaseOf(a.name))) {
        if (spec.delete) {
            const r = runOne(spec.delete, spec);
            if (r.code !== 0) failures.push(r);
        }
        current.delete(spec.name);
    }
    return failures;
}
