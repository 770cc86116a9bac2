// A team on a shared backend: Debian's PostgreSQL server (started by the test, its own data
// directory, port 55432 on loopback) holds the stack, and two operators work on it from two
// checkouts of the project at different paths, through the project's command (scripts/pulumi.sh)
// and the real stack program. One deploys the dev scenario on lab hosts; the other previews no
// changes, verifies every concern in sync, and revokes a client, which changes only the gateway.
// No WireGuard key is in the clear in the database. Destroy leaves no lab namespace.
import test from "ava";
import { execFileSync, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "fs";
import * as yaml from "js-yaml";
import { tmpdir } from "os";
import { join } from "path";
import { labLayout } from "../../components/hosts/lab";
import { exitCodeOf, formatVerifyReport, verifyStack } from "../../components/verify";
import { inLabHost } from "../../scripts/lab/lab-probe";
import { SEED_NODES } from "../../stacks/seed-scenario";
import { removeLabLeftovers } from "../helpers/lab";
import { PostgresServer, startPostgres } from "../helpers/postgres";

const LAB = "tbk";
const LAYOUT = labLayout(LAB);
const ROOT = join(__dirname, "..", "..", "..");
const HOSTS = SEED_NODES.map((n) => n.name);
const work = mkdtempSync(join(tmpdir(), "zt-team-"));
/** Two operators' checkouts, at paths of different depth. */
const CHECKOUTS = { alice: join(work, "alice", "zerotrust"), bob: join(work, "ci", "clone", "of", "zerotrust") };
let pg: PostgresServer | undefined;
let env: NodeJS.ProcessEnv = {};
let deployed = false;

/** The project as a checkout has it (the build shared: the same code, another path). */
function makeCheckout(dir: string): void {
    mkdirSync(dir, { recursive: true });
    const manifest = yaml.load(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
    delete manifest.stackConfigDir; // the stack's settings file is this checkout's own
    writeFileSync(join(dir, "Pulumi.yaml"), yaml.dump(manifest));
    for (const f of ["build", "node_modules", "package.json"]) symlinkSync(join(ROOT, f), join(dir, f));
}

function setConfig(dir: string, settings: Record<string, unknown>): void {
    const file = join(dir, `Pulumi.${LAB}.yaml`);
    const current = yaml.load(readFileSync(file, "utf8")) as Record<string, any>;
    current.config = { ...current.config, ...settings };
    writeFileSync(file, yaml.dump(current));
}

function command(dir: string, args: string[]): { status: number | null; out: string } {
    const r = spawnSync("bash", [join(ROOT, "scripts", "pulumi.sh"), ...args, "--stack", LAB], { cwd: dir, env, encoding: "utf8", timeout: 900_000 });
    return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

test.before(async () => {
    removeLabLeftovers(LAB, HOSTS);
    pg = await startPostgres(55432);
    env = { ...process.env, PULUMI_BACKEND_URL: pg.url, PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"), PULUMI_SKIP_UPDATE_CHECK: "true" };
    for (const dir of Object.values(CHECKOUTS)) makeCheckout(dir);
    execFileSync("pulumi", ["stack", "init", LAB, "--non-interactive"], { cwd: CHECKOUTS.alice, env });
    setConfig(CHECKOUTS.alice, {
        "zerotrust:labSubnet": "10.213.181.0/24", "zerotrust:meshCidr": "10.181.0.0/24", "zerotrust:rollbackSeconds": 15, "zerotrust:extraAppServers": 0,
    });
    // The stack's settings travel with the code (its encryption salt among them), as a team's repository has them.
    copyFileSync(join(CHECKOUTS.alice, `Pulumi.${LAB}.yaml`), join(CHECKOUTS.bob, `Pulumi.${LAB}.yaml`));
});

test.after.always(async () => {
    if (deployed) command(CHECKOUTS.alice, ["destroy", "--yes"]);
    await pg?.stop();
    removeLabLeftovers(LAB, HOSTS);
    rmSync(work, { recursive: true, force: true });
});

test.serial("alice deploys the dev scenario onto lab hosts, with the state in PostgreSQL", (t) => {
    const r = command(CHECKOUTS.alice, ["up", "--yes", "--skip-preview"]);
    deployed = true;
    t.is(r.status, 0, r.out);
    t.regex(r.out, /^ +\+ \d+ created$/m);
});

test.serial("bob, from another checkout, previews no changes and finds every concern in sync", async (t) => {
    const preview = command(CHECKOUTS.bob, ["preview", "--expect-no-changes"]);
    t.is(preview.status, 0, preview.out);
    const report = await verifyStack({ stackName: LAB, workDir: CHECKOUTS.bob, envVars: env as Record<string, string> });
    t.log(formatVerifyReport(report).trim().split("\n").pop());
    t.true(report.concerns.length >= HOSTS.length * 3, `${report.concerns.length} concerns checked`);
    t.is(exitCodeOf(report), 0, formatVerifyReport(report));
});

test.serial("bob revokes a client: only the gateway changes, alice then sees no changes", (t) => {
    setConfig(CHECKOUTS.bob, { "zerotrust:revokedClients": ["bob"] });
    const planned = JSON.parse(spawnSync("pulumi", ["preview", "--json", "--stack", LAB, "--non-interactive"], { cwd: CHECKOUTS.bob, env, encoding: "utf8" }).stdout) as
        { steps: { op: string; urn: string }[] };
    const changed = planned.steps.filter((s) => s.op !== "same" && !s.urn.includes("pulumi:pulumi:Stack")).map((s) => `${s.op} ${s.urn.split("::").pop()}`);
    t.deepEqual(changed, ["update gateway-gateway"], "the revocation is the gateway's CRL and allowlist, nothing else");
    const r = command(CHECKOUTS.bob, ["up", "--yes", "--skip-preview"]);
    t.is(r.status, 0, r.out);
    const allowlist = JSON.parse(execFileSync("pulumi", ["stack", "output", "gatewayAllowlist", "--json", "--stack", LAB], { cwd: CHECKOUTS.alice, env, encoding: "utf8" }));
    t.is(allowlist.bob, "revoked", "alice reads bob's revocation from the shared state");
    copyFileSync(join(CHECKOUTS.bob, `Pulumi.${LAB}.yaml`), join(CHECKOUTS.alice, `Pulumi.${LAB}.yaml`)); // she pulls the settings
    const again = command(CHECKOUTS.alice, ["preview", "--expect-no-changes"]);
    t.is(again.status, 0, again.out);
});

test.serial("no WireGuard private key of a host is in the clear in the database", (t) => {
    // Searched in the server (the state is megabytes): each blob is {"data": <base64 of the file>}.
    const rowsWith = (needle: string) => Number(pg!.sql("\\c zerotrust\nSELECT count(*) FROM pulumi_state WHERE key LIKE '%.json' AND " +
        `position('${needle}' in convert_from(decode(data::jsonb->>'data', 'base64'), 'UTF8')) > 0;\n`).trim());
    t.true(rowsWith("gateway-gateway") > 0, "the stack's state is in the rows searched");
    for (const h of HOSTS) {
        const key = inLabHost(LAYOUT.hostRootOf(h), ["wg", "show", "wg0", "private-key"]).trim();
        t.regex(key, /^[A-Za-z0-9+/]{43}=$/, h);
        t.is(rowsWith(key), 0, `${h}'s private key is not in the clear in the database`);
    }
});

test.serial("destroy through the project's command leaves no namespace of the lab", (t) => {
    const r = command(CHECKOUTS.alice, ["destroy", "--yes"]);
    t.is(r.status, 0, r.out);
    deployed = false;
    t.notRegex(execFileSync("ip", ["netns", "list"], { encoding: "utf8" }), new RegExp(`zt-${LAB}-`));
});
