// The main command as a newcomer runs it: `npm run dev` on a fresh state (pulumi up of the dev
// stack, then the summary from `pulumi stack output`, without pulumi's listing of every output), a
// second run that changes nothing (with `--outputs`, which lists them),
// `npm run verify` that finds every host in sync, a revocation that touches only the gateway, and
// `npm run dev -- destroy` that leaves nothing behind; the work tree's git status is the same
// before and after.
import test from "ava";
import { execFileSync, spawnSync } from "child_process";
import { existsSync, readFileSync } from "fs";
import { join } from "path";
import { labLayout } from "../../components/hosts/lab";
import { stillRunning } from "../helpers/processes";

const ROOT = join(__dirname, "..", "..", "..");
const DEV_LAB = labLayout("dev");
const DEV_STATE = join(ROOT, ".pulumi", ".pulumi", "stacks", "zerotrust", "dev.json");

function npmRunDev(...args: string[]): string {
    const r = spawnSync("npm", ["run", "--silent", "dev", ...(args.length ? ["--", ...args] : [])], { cwd: ROOT, encoding: "utf8", timeout: 900_000 });
    if (r.status !== 0) throw new Error(`npm run dev ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
}

/** The engine's closing summary (the last one: `up` prints the preview's first), e.g. ["~ 1 updated", "88 unchanged"]. */
function summaryOf(upOutput: string): string[] {
    const blocks = [...upOutput.matchAll(/^Resources:\n((?:[ \t]+.+\n)+)/gm)];
    if (blocks.length === 0) throw new Error(`no "Resources:" summary in:\n${upOutput}`);
    return blocks[blocks.length - 1][1].trim().split("\n").map((l) => l.trim());
}

const gitStatus = () => execFileSync("git", ["status", "--porcelain", "--untracked-files=all"], { cwd: ROOT, encoding: "utf8" });
const namespaces = () => execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(DEV_LAB.namespaceOf("")));

test.serial("npm run dev: up on a fresh state, a no-op second run, a revocation that touches only the gateway, a clean destroy", async (t) => {
    // Never destroy someone's dev stack: refuse, and name what was found.
    const found = [...(existsSync(DEV_STATE) ? [DEV_STATE] : []), ...namespaces().map((n) => `namespace ${n}`)];
    if (found.length > 0) {
        t.fail(`the dev stack is already deployed on this machine (${found.join(", ")}): run \`npm run dev -- destroy\` in the checkout that deployed it first (this test deploys and destroys it)`);
        return;
    }
    const statusBefore = gitStatus();
    t.teardown(() => { if (existsSync(DEV_STATE)) spawnSync("npm", ["run", "--silent", "dev", "--", "destroy"], { cwd: ROOT, stdio: "ignore" }); });

    const first = npmRunDev();
    const created = /^\+ (\d+) created$/.exec(summaryOf(first)[0]);
    t.truthy(created, summaryOf(first).join(", "));
    t.regex(first, /^ {2}gateway +zt-dev-gateway +10\.213\.7\.\d+ +10\.77\.0\.\d+$/m, "hosts with their namespaces and addresses");
    t.regex(first, /gateway's clients \(HTTPS, by certificate\): alice, bob/);
    t.regex(first, /measured access over the mesh/);
    t.regex(first, /^ {2}app-1 +-> db:5432$/m, "app-1 reaches the database and nothing else");
    t.regex(first, /every probe filtered/);
    t.notRegex(first, /^Outputs:$/m, "pulumi's listing of every raw output is left out");
    t.log(first.slice(first.indexOf("Resources:")));

    // One flag away: the raw outputs, keyed by name.
    const second = npmRunDev("--outputs");
    t.deepEqual(summaryOf(second), [`${created![1]} unchanged`], "a second run changes nothing");
    t.regex(second, /^Outputs:$/m, "--outputs lists the raw outputs");
    t.regex(second, /labNamespaces\s*: \{[^}]*gateway\s*: "zt-dev-gateway"/, "keyed by name");

    // The drift check of the same stack: every concern of every host in sync, exit status 0.
    const verify = spawnSync("npm", ["run", "--silent", "verify"], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
    t.is(verify.status, 0, verify.stdout + verify.stderr);
    t.regex(verify.stdout, /^16 concerns: 16 in sync, 0 drifted, 0 unreachable, 0 failed$/m, verify.stdout);

    execFileSync("pulumi", ["config", "set", "--path", "zerotrust:revokedClients[0]", "bob", "--stack", "dev"],
        { cwd: ROOT, env: { ...process.env, PULUMI_BACKEND_URL: `file://${join(ROOT, ".pulumi")}`, PULUMI_CONFIG_PASSPHRASE_FILE: join(ROOT, ".pulumi", "dev-passphrase") } });
    const preview = npmRunDev("preview");
    t.regex(preview, /~ +command:local:Command +gateway-gateway +update/);
    // The preview's outputs: bob's entry, and no other client's.
    t.regex(preview, /bob\s*: "admitted" => "revoked"/, preview);
    t.notRegex(preview, /(alice|carol)\s*: "[^"]*" =>/);
    const revoked = npmRunDev();
    t.is(summaryOf(revoked)[0], "~ 1 updated", revoked);
    t.regex(revoked, /gateway-gateway +updated/);

    const sshdPids = namespaces().map((n) => Number(readFileSync(join(DEV_LAB.hostRootOf(n.slice(DEV_LAB.namespaceOf("").length)), "sshd.pid"), "utf8")));
    npmRunDev("destroy");
    t.deepEqual(namespaces(), []);
    t.notRegex(execFileSync("ip", ["-o", "link"], { encoding: "utf8" }), new RegExp(DEV_LAB.interfaces.join("|")));
    t.false(existsSync(DEV_LAB.root), `${DEV_LAB.root} is removed`);
    t.false(existsSync(DEV_STATE), "the stack is removed");
    for (const pid of sshdPids) t.false(await stillRunning(pid), `sshd ${pid} is gone`);
    t.is(gitStatus(), statusBefore, "running the main job leaves the work tree as it was");
});
