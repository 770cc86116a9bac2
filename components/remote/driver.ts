// The apply driver: run by a local.Command on the machine that runs pulumi, with its request
// (including secrets) on stdin. It applies one concern over one SSH connection, then confirms it
// over a NEW connection on the management path; if that cannot be opened, the host rolls itself
// back and this fails, so the resource fails and the next `pulumi up` tries again.
import { CrlRequest, buildCrl } from "./crl";
import { ANSWERS } from "./protocol";
import { Action, Concern, composeHostProgram, payloadToken } from "./script";
import { SshTarget, runOverSsh } from "./ssh";
import { connectionFailure, failureMessage } from "./ssh-failure";

export interface DriverRequest {
    action: "apply" | "teardown" | "cutover";
    concern: Concern;
    vars: Record<string, string | number>;
    files: Record<string, string>;
    /** Where the change is made. */
    connection: SshTarget;
    /** Where the management path is after the change (default: the connection's host). */
    confirmHost?: string;
    rollbackSeconds: number;
    /** CRLs to make here, at apply time, and ship as one file (the CA keys stay on this machine). */
    crl?: { file: string; lists: CrlRequest[] };
    /**
     * apply only: when a key cut-over made on this host switches its WireGuard key (seconds since
     * the epoch, the host's clock). The apply waits for it and retries a connection that fails
     * while the tunnel comes back, until the cut-over's rollback would begin.
     */
    keySwitchAt?: number;
}

function lastLine(s: string): string {
    return s.trim().split("\n").pop() ?? "";
}

/** The host program for one action of a request (the CRL, if any, made here and added to the files). */
export function hostProgramFor(req: DriverRequest, action: Action): string {
    const files = req.crl && (action === "apply" || action === "check") ? { ...req.files, [req.crl.file]: req.crl.lists.map(buildCrl).join("") } : req.files;
    // The token names the payload as the stack has it: a CRL remade at another time is the same change.
    const token = payloadToken(req.concern, req.files);
    return composeHostProgram({ concern: req.concern, action, token, rollbackSeconds: req.rollbackSeconds, vars: req.vars, files });
}

async function run(req: DriverRequest, action: Action, host: string): Promise<{ ok: boolean; code: number; out: string; err: string }> {
    const r = await runOverSsh({ ...req.connection, host }, hostProgramFor(req, action));
    return { ok: r.code === 0, code: r.code, out: lastLine(r.stdout), err: r.stderr.trim() };
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

/** Seconds from now until `epochSeconds` (negative once past). */
const secondsUntil = (epochSeconds: number) => epochSeconds - Date.now() / 1000;

/** The apply, made once the host's key switch (if one is pending) has happened and its tunnel is back. */
async function applyAfterKeySwitch(req: DriverRequest): Promise<Awaited<ReturnType<typeof run>>> {
    const switchAt = req.keySwitchAt;
    if (switchAt === undefined || secondsUntil(switchAt + req.rollbackSeconds) < 0) return run(req, "apply", req.connection.host);
    // Before the switch the old tunnel still works, and the switch would cut this session.
    if (secondsUntil(switchAt) > 0) await sleep(secondsUntil(switchAt) + 0.5);
    for (;;) {
        const r = await run(req, "apply", req.connection.host);
        // Stop retrying early enough for the apply to confirm the switch before the host rolls it back.
        if (r.ok || !connectionFailure(r) || secondsUntil(switchAt + req.rollbackSeconds) < 3) return r;
        await sleep(1);
    }
}

export async function drive(req: DriverRequest): Promise<string> {
    const where = `${req.concern} on ${req.connection.host}`;
    if (req.action === "cutover") {
        const r = await run(req, "cutover", req.connection.host);
        if (!r.ok) throw new Error(failureMessage("staging the key switch of", req.concern, req.connection.host, r));
        if (r.out !== ANSWERS.unchanged) {
            // The answer is here, so the stack will record the new key: the host must keep it from now on.
            const committed = await run(req, "commit", req.connection.host);
            if (!committed.ok) {
                throw new Error(`${where}: the key switch was staged but could not be committed (${committed.err || "connection failed"}); ` +
                    `the host puts its old key back ${req.rollbackSeconds} s after the switch. Run pulumi up again.`);
            }
        }
        return `${req.concern}: ${r.out}`;
    }
    if (req.action === "teardown") {
        const r = await run(req, "teardown", req.connection.host);
        if (!r.ok) throw new Error(failureMessage("removing", req.concern, req.connection.host, r));
        return `${req.concern}: ${r.out}`;
    }
    const applied = await applyAfterKeySwitch(req);
    if (!applied.ok) throw new Error(failureMessage("applying", req.concern, req.connection.host, applied));
    if (applied.out === ANSWERS.unchanged) return `${req.concern}: ${ANSWERS.unchanged}`;

    const confirmHost = req.confirmHost ?? req.connection.host;
    const confirmed = await run(req, "confirm", confirmHost);
    if (confirmed.ok) return `${req.concern}: applied and confirmed over a new connection to ${confirmHost}`;

    // Locked out, or nearly: the host restores its previous state when the window ends.
    await sleep(req.rollbackSeconds + 5);
    const probe = await runOverSsh({ ...req.connection, host: confirmHost }, "echo reachable\n", 30);
    const after = probe.code === 0 ? "it rolled back and answers again" : "it still does not answer";
    throw new Error(`${where}: the change could not be confirmed over a new SSH connection to ${confirmHost} ` +
        `(${confirmed.err || "connection failed"}); the host restored its previous ${req.concern} state after ` +
        `${req.rollbackSeconds} s and ${after}. The change would have cut the management path: check bootstrapSshSources, sshOverMeshOnly and the policy's management peers.`);
}

async function main(): Promise<void> {
    let input = "";
    for await (const chunk of process.stdin) input += chunk;
    // The command line names the action: create runs apply, delete runs teardown, with the same stdin
    // (a key cut-over's update runs cutover).
    const action = process.argv[2];
    if (action !== "apply" && action !== "teardown" && action !== "cutover") throw new Error("usage: driver.js apply|teardown|cutover < request.json");
    process.stdout.write(`${await drive({ ...(JSON.parse(input) as DriverRequest), action })}\n`);
}

if (require.main === module) {
    main().catch((e: Error) => {
        process.stderr.write(`zerotrust: ${e.message}\n`);
        process.exit(1);
    });
}
