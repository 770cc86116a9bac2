// The real Pulumi engine for tests, as a user's program drives it: the Automation API with an
// inline program, a LocalWorkspace on a file backend in a temporary directory, and the CLI and
// plugins that scripts/setup-pulumi.sh installed. `up` reports which commands ran and what failed.
import { EngineEvent, LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { SpawnSyncReturns, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

export interface UpResult {
    /** Names of the local.Command resources the engine created, updated, replaced or deleted. */
    ran: string[];
    /** Every resource operation other than "same", as "op name". */
    changes: string[];
    /** The engine's error diagnostics (empty when the update succeeded). */
    error?: string;
    outputs: OutputMap;
}

const COMMAND_TYPE = "command:local:Command";
const nameOf = (urn: string) => urn.split("::").pop()!;

export class EngineStack {
    private constructor(readonly stack: Stack, readonly backendDir: string, private readonly envVars: Record<string, string>,
        private readonly ownsBackend = true) {}

    /** A stack of a project made for this test, on its own file backend. */
    static async create(project: string, stackName: string, program: () => Promise<Record<string, unknown> | void>): Promise<EngineStack> {
        const backendDir = mkdtempSync(join(tmpdir(), `zt-${project}-`));
        const envVars = {
            PULUMI_BACKEND_URL: `file://${backendDir}`,
            PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"),
            PULUMI_SKIP_UPDATE_CHECK: "true",
        };
        const stack = await LocalWorkspace.createOrSelectStack({ projectName: project, stackName, program }, {
            workDir: backendDir,
            envVars,
            projectSettings: { name: project, runtime: "nodejs", backend: { url: `file://${backendDir}` } },
        });
        return new EngineStack(stack, backendDir, envVars);
    }

    /**
     * Another stack of the same project, on the same backend and passphrase: a StackReference from
     * one reaches the other. The first stack's dispose removes the backend.
     */
    async sibling(stackName: string, program: () => Promise<Record<string, unknown> | void>): Promise<EngineStack> {
        const project = this.stack.workspace.projectSettings ? (await this.stack.workspace.projectSettings()).name : "";
        const stack = await LocalWorkspace.createOrSelectStack({ projectName: project, stackName, program }, {
            workDir: this.backendDir,
            envVars: this.envVars,
            projectSettings: { name: project, runtime: "nodejs", backend: { url: `file://${this.backendDir}` } },
        });
        return new EngineStack(stack, this.backendDir, this.envVars, false);
    }

    /** Swaps the program (an inline program is fixed per stack object: settings change per up). */
    withProgram(program: () => Promise<Record<string, unknown> | void>): void {
        (this.stack.workspace as LocalWorkspace).program = program;
    }

    /**
     * `continueOnError`: as `pulumi up --continue-on-error` (a failed resource stops only its
     * dependents). `onEvent`: sees every engine event as it happens (to act in the middle of an up).
     */
    async up(opts: { continueOnError?: boolean; onEvent?: (e: EngineEvent) => void; exclude?: string[] } = {}): Promise<UpResult> {
        const changes: string[] = [];
        const errors: string[] = [];
        const onEvent = (e: EngineEvent) => {
            const done = e.resOutputsEvent ?? e.resOpFailedEvent;
            if (done && done.metadata.op !== "same") changes.push(`${done.metadata.op} ${done.metadata.type} ${nameOf(done.metadata.urn)}`);
            if (e.diagnosticEvent?.severity === "error") errors.push(`${e.diagnosticEvent.urn ? nameOf(e.diagnosticEvent.urn) + ": " : ""}${e.diagnosticEvent.message.trim()}`);
            opts.onEvent?.(e);
        };
        const ran = () => changes.filter((c) => c.split(" ")[1] === COMMAND_TYPE).map((c) => c.split(" ")[2]);
        try {
            const r = await this.stack.up({ onEvent, color: "never", continueOnError: opts.continueOnError, ...(opts.exclude ? { exclude: opts.exclude } : {}) });
            return { ran: ran(), changes, outputs: r.outputs };
        } catch (e) {
            return { ran: ran(), changes, error: errors.join("\n") || String(e), outputs: {} };
        }
    }

    /** The resource operations a preview plans, as "op name" (empty: no changes). */
    async preview(): Promise<string[]> {
        return (await this.previewWithWarnings()).planned;
    }

    /** The operations a preview plans and the warnings it prints. */
    async previewWithWarnings(): Promise<{ planned: string[]; warnings: string[] }> {
        const planned: string[] = [];
        const warnings: string[] = [];
        await this.stack.preview({
            color: "never",
            onEvent: (e) => {
                const p = e.resourcePreEvent?.metadata;
                if (p && p.op !== "same") planned.push(`${p.op} ${nameOf(p.urn)}`);
                if (e.diagnosticEvent?.severity === "warning") warnings.push(e.diagnosticEvent.message.trim());
            },
        });
        return { planned, warnings };
    }

    /**
     * Every event of a preview, as the engine sent it (its structured steps and diagnostics), and
     * the error it ended with, if any. `exclude`: URNs or globs the preview leaves out, as `--exclude`.
     */
    async previewEvents(opts: { exclude?: string[] } = {}): Promise<{ events: EngineEvent[]; error?: string }> {
        const events: EngineEvent[] = [];
        try {
            await this.stack.preview({ color: "never", onEvent: (e) => events.push(e), ...(opts.exclude ? { exclude: opts.exclude } : {}) });
            return { events };
        } catch (e) {
            const errors = events.flatMap((ev) => ev.diagnosticEvent?.severity === "error" ? [ev.diagnosticEvent.message.trim()] : []);
            return { events, error: errors.join("\n") || String(e) };
        }
    }

    async destroy(): Promise<void> {
        await this.stack.destroy({ color: "never" });
    }

    /** The pulumi CLI on this stack, as an operator runs it (`pulumi state delete ...`, say). */
    cli(args: string[]): SpawnSyncReturns<string> {
        return spawnSync("pulumi", [...args, "--stack", this.stack.name, "--non-interactive"],
            { cwd: this.backendDir, env: { ...process.env, ...this.envVars }, encoding: "utf8" });
    }

    /** Every state file's text (checked for secrets in the clear). */
    stateText(): string {
        return readdirSync(this.backendDir, { recursive: true }).map(String).filter((f) => f.endsWith(".json"))
            .map((f) => readFileSync(join(this.backendDir, f), "utf8")).join("\n");
    }

    /** Destroys what is left (a failed run) and removes the backend. */
    async dispose(): Promise<void> {
        await this.stack.destroy({ color: "never" }).catch(() => undefined);
        await this.stack.workspace.removeStack(this.stack.name, { force: true }).catch(() => undefined);
        if (this.ownsBackend) rmSync(this.backendDir, { recursive: true, force: true });
    }
}
