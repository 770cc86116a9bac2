// Run by scripts/pulumi.sh before `pulumi up`/`destroy`: settles the operations an interrupted
// update left pending in the stack's state, on their hosts, then removes them from the state
// (`pulumi stack export` / `import`: `pulumi refresh` clears pending creates only interactively,
// and its --clear-pending-creates refreshes every resource of the stack to do it), so the
// "pending operations" warning does not come back in every later update. Prints what it did.
// Usage: node pending-operations.js [pulumi arguments: --stack/-s NAME, --cwd/-C DIR are read].
import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { hostProgramFor } from "../components/remote/driver";
import { ANSWERS, CUTOVER_FILES, REFUSALS } from "../components/remote/protocol";
import { runOverSsh } from "../components/remote/ssh";
import { ClassifiedOperation, classifyPending, PendingOperation, withoutPending } from "../components/verify/pending";
import { publicKeyOf } from "../components/wireguard-keys";
import { stackArgs } from "./stack-args";

function pulumi(args: string[], cwd: string | undefined): string {
    const r = spawnSync("pulumi", [...args, "--non-interactive"], { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`pulumi ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
const say = (line: string) => process.stdout.write(`zerotrust: ${line}\n`);

/** Settles one interrupted operation on its host; returns what was found and done. */
async function settle(op: ClassifiedOperation): Promise<string> {
    const s = op.settlement;
    if (s.kind === "none") return `nothing to settle: ${s.why}`;
    if (s.kind === "teardown") return `a teardown on ${s.request.connection.host}: it runs again in the next update`;
    if (s.kind === "confirm") {
        const host = s.request.confirmHost ?? s.request.connection.host;
        const r = await runOverSsh({ ...s.request.connection, host }, hostProgramFor(s.request, "confirm"), 30);
        const out = r.stdout.trim().split("\n").pop() ?? "";
        if (r.code === 0 && out === ANSWERS.confirmed) return `its ${s.request.concern} change was in place and armed on ${host}: confirmed over a new connection`;
        if (r.code === 0) return `no ${s.request.concern} change pending on ${host} (never made, or confirmed before the interruption)`;
        if (r.stderr.includes(REFUSALS.alreadyRolledBack)) return `its ${s.request.concern} change was not confirmed in time: the host rolled it back`;
        if (r.stderr.includes(REFUSALS.differentChange)) return `another ${s.request.concern} change is armed on ${host}; the next apply there rolls it back first`;
        return `${host} did not answer (${r.stderr.trim().split("\n").pop()}): an unconfirmed change there rolls back by itself within ${s.request.rollbackSeconds} s`;
    }
    // A key cut-over: before its switch the old tunnel works, after it only the host knows. Its own
    // rule settles it (kept once a peer uses the new key, else the old key back), within its window.
    say(`${op.name}: waiting ${s.seconds} s for the key switch pending on ${s.request.connection.host} to settle on the host`);
    await sleep(s.seconds);
    const iface = String(s.request.vars.ZT_IFACE ?? "wg0");
    const r = await runOverSsh(s.request.connection, `wg show ${iface} public-key\n`, 30);
    const staged = s.request.files[CUTOVER_FILES.key] ? publicKeyOf(s.request.files[CUTOVER_FILES.key]) : undefined;
    if (r.code !== 0) {
        return `${s.request.connection.host} does not answer over its old key (${r.stderr.trim().split("\n").pop()}): it may have kept the new key ` +
            "(the cut-over was committed before the interruption); if the next update cannot reach it either, see the README, \"Interrupted updates\"";
    }
    return r.stdout.trim() === staged ? "the host kept the new key (a peer uses it)" : "the host is on its old key (the switch was rolled back or never made); the next update stages it again";
}

async function main(): Promise<void> {
    const { stack, cwd } = stackArgs(process.argv.slice(2));
    const exported = JSON.parse(pulumi(["stack", "export", "--show-secrets", ...stack], cwd));
    const pending: PendingOperation[] = exported.deployment?.pending_operations ?? [];
    if (pending.length === 0) return;
    say(`the last update was interrupted: ${pending.length} operation(s) pending in the state; settling each on its host`);
    for (const op of classifyPending(pending)) say(`${op.name} (${op.resourceType}, interrupted while ${op.type}): ${await settle(op)}`);

    // Edited without secrets in the clear: the export keeps them encrypted, as the state has them.
    const dir = mkdtempSync(join(tmpdir(), "zt-pending-"));
    try {
        const file = join(dir, "state.json");
        pulumi(["stack", "export", ...stack, "--file", file], cwd);
        const state = JSON.parse(readFileSync(file, "utf8"));
        state.deployment = withoutPending(state.deployment);
        writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
        pulumi(["stack", "import", ...stack, "--file", file], cwd);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
    say(`removed the ${pending.length} pending operation(s) from the state: this update makes those resources again`);
}

main().catch((e: Error) => {
    process.stderr.write(`zerotrust: settling the interrupted update's pending operations failed: ${e.message}\n`);
    process.exit(1);
});
