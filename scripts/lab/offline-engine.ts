// The lab's stand-in for the Pulumi engine, for machines where the resource plugins (command, tls,
// random) cannot be obtained. It builds the very same program (stacks/program.ts) from the
// stack's config file, with providers replaced by mocks that return real keys and certificates,
// and runs the program's local commands as the command provider would, keeping both in a private
// state directory. It is not the engine: no preview, no diff display, lab stacks only.
//
//   node build/scripts/lab/offline-engine.js up|destroy STACK
import { load } from "js-yaml";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import { CommandSpec, RunResult, commandsOf, deploy, destroy } from "./command-runner";
import { installMocks } from "./mocks";
import { printReport } from "./print-report";

const ROOT = join(__dirname, "..", "..", "..");

function settingsOf(stack: string): any {
    const file = join(ROOT, "stacks", `Pulumi.${stack}.yaml`);
    const config = ((load(readFileSync(file, "utf8")) as any)?.config ?? {}) as Record<string, unknown>;
    const get = (key: string) => config[`zerotrust:${key}`];
    if (get("hostKind") !== "lab") throw new Error(`${file}: the offline engine runs lab stacks only (zerotrust:hostKind: lab)`);
    return {
        hostKind: "lab",
        meshCidr: get("meshCidr"),
        labSubnet: get("labSubnet"),
        sshOverMeshOnly: get("sshOverMeshOnly") === true,
        rollbackSeconds: Number(get("rollbackSeconds") ?? 60),
        extraAppServers: Number(get("extraAppServers") ?? 0),
        bootstrapSshSources: get("bootstrapSshSources"),
    };
}

async function main(): Promise<void> {
    const [action, stack] = process.argv.slice(2);
    if (!["up", "destroy"].includes(action) || !stack) throw new Error("usage: offline-engine up|destroy STACK");
    const stateDir = join(ROOT, ".state", stack);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    chmodSync(stateDir, 0o700);
    const commandsFile = join(stateDir, "commands.json");
    const state = new Map<string, CommandSpec>(existsSync(commandsFile) ? Object.entries(JSON.parse(readFileSync(commandsFile, "utf8"))) : []);
    const save = () => writeFileSync(commandsFile, JSON.stringify(Object.fromEntries(state)), { mode: 0o600 });

    if (action === "destroy") {
        const failures = destroy(state);
        for (const f of failures) process.stderr.write(`${f.name}: ${f.stderr}\n`);
        if (failures.length > 0) { save(); process.exit(1); }
        rmSync(stateDir, { recursive: true, force: true });
        process.stdout.write(`stack ${stack}: destroyed\n`);
        return;
    }

    const recorded = installMocks(join(stateDir, "resources.json"));
    // Loaded after the mocks are installed, as the engine would load the program.
    const { zeroTrustStack } = require("../../stacks/program") as typeof import("../../stacks/program");
    const built = zeroTrustStack(stack, settingsOf(stack));
    let last = -1;
    while (recorded.length !== last) {
        last = recorded.length;
        await new Promise((r) => setTimeout(r, 500));
    }
    const result = deploy(state, commandsOf(recorded));
    save();
    for (const r of result.ran) process.stdout.write(`  ${r.code === 0 ? "ran" : "FAILED"} ${r.name}${lastLoggedLine(r)}\n`);
    if (result.failed) {
        process.stderr.write(`${result.failed.name} failed:\n${result.failed.stderr}\n`);
        process.exit(1);
    }
    if (result.ran.length === 0) process.stdout.write("  no changes: nothing ran\n");
    // Lab underlay addresses are plain strings (LabNetwork picks them during preview).
    const hosts = Object.fromEntries(Object.entries(built.hosts).map(([name, h]) => [name, { underlay: String(h.underlay), mesh: h.mesh }]));
    await printReport({ hosts, labNamespaces: built.labNamespaces, sshMode: built.sshMode, policyMatrix: built.policyMatrix, gatewayAllowlist: built.gatewayAllowlist, operatorAddress: built.operatorAddress });
}

/** The last line of what the command's `logging` lets the provider print, as the engine would show it. */
function lastLoggedLine(r: RunResult): string {
    const shown = r.logging === "none" ? "" : r.logging === "stderr" ? r.stderr : r.logging === "stdout" ? r.stdout : r.stdout || r.stderr;
    const line = shown.trim().split("\n").pop();
    return line ? `: ${line}` : "";
}

main().catch((e: Error) => {
    process.stderr.write(`offline engine: ${e.message}\n`);
    process.exit(1);
});
