// Two checkouts of one project share a backend (two operators, or a CI clone): what the engine
// stores must not depend on where the project is. The real stack program (build/stacks/index.js) is
// run as a Pulumi project from two copies at different paths, with one file backend and passphrase.
// The stack is deployed from copy A with every command excluded (no lab host), so commands are not
// in the state; the preview from copy B must then plan exactly what A's plans, with every command's
// inputs identical, and nothing but those commands (which A would create too) changed.
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import test from "ava";
import { randomBytes } from "crypto";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "fs";
import { tmpdir } from "os";
import { join, resolve } from "path";

const STACK = "cpt";
const SETTINGS = {
    "zerotrust:hostKind": "lab", "zerotrust:meshCidr": "10.184.0.0/24", "zerotrust:labSubnet": "10.213.184.0/24",
    "zerotrust:sshOverMeshOnly": "true", "zerotrust:rollbackSeconds": "15", "zerotrust:extraAppServers": "0",
};
const NO_COMMANDS = ["**command:local:Command::**"];
/** A command's URN: its type follows "::" (top level) or its parents' types and "$". */
const isCommand = (urn: string) => /[:$]command:local:Command::[^:]+$/.test(urn);
// build/test/engine -> the checkout's root.
const ROOT = resolve(__dirname, "..", "..", "..");

const scratch = mkdtempSync(join(tmpdir(), "zt-paths-"));
mkdirSync(join(scratch, "backend"));
const envVars = {
    PULUMI_BACKEND_URL: `file://${join(scratch, "backend")}`,
    PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
};

/** A copy of the project at `dir`: what `pulumi up` reads (Pulumi.yaml, build output, shell assets). */
function copyProject(dir: string): string {
    mkdirSync(dir, { recursive: true });
    for (const f of ["Pulumi.yaml", "package.json"]) cpSync(join(ROOT, f), join(dir, f));
    for (const d of ["build/components", "build/stacks", "components"]) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
    mkdirSync(join(dir, "stacks"), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    return dir;
}

async function stackIn(dir: string): Promise<Stack> {
    const ws = await LocalWorkspace.create({ workDir: dir, envVars });
    return Stack.createOrSelect(STACK, ws);
}

interface Step { op: string; urn: string; inputs?: Record<string, unknown> }
async function previewSteps(stack: Stack, exclude?: string[]): Promise<Step[]> {
    const events: EngineEvent[] = [];
    await stack.preview({ color: "never", onEvent: (e) => events.push(e), ...(exclude ? { exclude } : {}) });
    return events.flatMap((e) => e.resourcePreEvent ? [{ op: e.resourcePreEvent.metadata.op, urn: e.resourcePreEvent.metadata.urn,
        inputs: e.resourcePreEvent.metadata.new?.inputs }] : []);
}

let a: Stack;
let b: Stack;
test.before(async () => {
    const dirA = copyProject(join(scratch, "operator-a", "zerotrust"));
    const dirB = copyProject(join(scratch, "ci", "clone", "of", "zerotrust"));
    a = await stackIn(dirA);
    await a.setAllConfig(Object.fromEntries(Object.entries(SETTINGS).map(([k, v]) => [k, { value: v }])));
    // The stack file (its secrets salt and settings) is shared, as a committed stack file is.
    cpSync(join(dirA, "stacks", `Pulumi.${STACK}.yaml`), join(dirB, "stacks", `Pulumi.${STACK}.yaml`));
    await a.up({ color: "never", exclude: NO_COMMANDS });
    b = await stackIn(dirB);
});
test.after.always(async () => {
    await a?.destroy({ color: "never" }).catch(() => undefined);
    await a?.workspace.removeStack(STACK, { force: true }).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
});

test.serial("a preview from a second checkout at another path changes nothing but what the first would", async (t) => {
    // A StackReference is read on every preview: not a change.
    const changed = (steps: Step[]) => steps.filter((s) => s.op !== "same" && s.op !== "read").map((s) => `${s.op} ${s.urn}`).sort();
    // Without the commands (all the state holds), the second copy sees no change at all.
    t.deepEqual(changed(await previewSteps(b, NO_COMMANDS)), []);
    const fromA = await previewSteps(a);
    const fromB = await previewSteps(b);
    t.deepEqual(changed(fromB), changed(fromA), "the same steps from either copy");
    t.deepEqual(changed(fromB).filter((s) => !(s.startsWith("create ") && isCommand(s.slice("create ".length)))), [], "only the commands the deploy left out");
    // Each command as the engine would store it: the same text from either copy.
    const commands = (steps: Step[]) => Object.fromEntries(steps.filter((s) => isCommand(s.urn))
        .map((s) => [s.urn, { create: s.inputs?.create, update: s.inputs?.update, delete: s.inputs?.delete, environment: s.inputs?.environment,
            dir: s.inputs?.dir, triggers: s.inputs?.triggers }]));
    const inA = commands(fromA);
    t.true(Object.keys(inA).length > 0);
    t.deepEqual(commands(fromB), inA);
    t.false(JSON.stringify(inA).includes(scratch), "no command names the checkout's path");
});
