// The scenario's access-log checks (seed-scenario.ts registers them): what the earlier steps were
// refused (carol's 403 and revoked bob at the gateway, dev-box's probe of db:5432 in the measured
// matrix, the other members' probes over the mesh, the stranger's nmap scan on the underlay) read from the hosts as `npm run report` reads
// them (over the pinned SSH path), each attempt named by its source; no key or secret in any log the
// hosts wrote; a rotation of the gateway's log as logrotate makes it; and, after a later firewall
// reload on db, dev-box's probe still in the report (kept at the reload).
import test from "ava";
import { existsSync, readFileSync, readdirSync, renameSync, statSync } from "fs";
import { join } from "path";
import { GATEWAY_LOGROTATE_PATH, postrotateCommand } from "../../../components/render/gateway-log";
import { RefusalReport, RefusalRow, refusalsSection } from "../../../components/report";
import { StateResource } from "../../../components/verify";
import { inLabHost } from "../../../scripts/lab/lab-probe";
import { collectRefusals } from "../../../scripts/audit/refusals";
import { CurlResult } from "../gateway-clients";

export interface AccessLogScenario {
    /** The lab's root directory on this machine: one directory per host. */
    labRoot: string;
    hosts: string[];
    /** The stack's exported state. */
    resources: () => Promise<StateResource[]>;
    /** Each host's mesh and underlay addresses (the last `up`'s outputs). */
    hostAddresses: () => Record<string, { mesh: string; underlay: string }>;
    /** The stranger that scanned the underlay from the scanners' test. */
    strangerAddress: string;
    /** PEM private keys of the gateway's clients (the last `up`'s outputs). */
    clientKeys: () => string[];
    /** One request through the gateway as a client of the stack (alice), answered by nginx (the upstream may be down). */
    allowedRequest: () => Promise<CurlResult>;
}

async function report(s: AccessLogScenario): Promise<RefusalReport> {
    const members = Object.entries(s.hostAddresses()).map(([name, a]) => ({ name, address: a.mesh, underlay: [a.underlay] }));
    return collectRefusals(await s.resources(), members);
}

const find = (rows: RefusalRow[], match: Partial<RefusalRow>) =>
    rows.find((r) => Object.entries(match).every(([k, v]) => r[k as keyof RefusalRow] === v));

/** Every file under a directory (the logs and drop records a host wrote). */
function filesUnder(dir: string): string[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir).flatMap((n) => {
        const p = join(dir, n);
        return statSync(p).isDirectory() ? filesUnder(p) : [p];
    });
}

/** The lines of key material: PEM bodies, WireGuard private and pre-shared keys. */
function secretsOf(s: AccessLogScenario): string[] {
    const pemBody = (pem: string) => pem.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----"));
    const wg = s.hosts.flatMap((h) => {
        const conf = readFileSync(join(s.labRoot, h, "etc/wireguard/wg0.conf"), "utf8");
        return [...conf.matchAll(/^(?:PrivateKey|PresharedKey) = (\S+)$/gm)].map((m) => m[1]);
    });
    const serverKey = readFileSync(join(s.labRoot, "gateway", "etc/zerotrust/gateway/server.key"), "utf8");
    return [...wg, ...pemBody(serverKey), ...s.clientKeys().flatMap(pemBody)];
}

/** Registers the checks that follow the gateway's revocation step. */
export function accessLogTests(s: AccessLogScenario): void {
    test.serial("the report names every refused attempt by its source: carol's 403, revoked bob, dev-box's probe of db:5432, the stranger on the underlay", async (t) => {
        const r = await report(s);
        t.log(refusalsSection(r).tables[0]?.rows.map((row) => row.join(" | ")).join("\n"));
        t.deepEqual(r.hosts.filter((h) => h.state !== "read"), [], "every host was read");
        // dev-box has no WireGuard peer but the operator (the policy lets it reach nothing): its probe of
        // db's mesh address ends in its own WireGuard; the one db sees comes over the underlay.
        const devBox = s.hostAddresses()["dev-box"].underlay;
        const probe = r.rows.find((row) => row.source === devBox && row.host === "db" && row.ports.includes(5432) && row.refusedBy === "firewall");
        t.is(probe?.identifiedBy, "underlay address (dev-box's; not authenticated)", "dev-box -> db:5432, named by its address and whose it is");
        const carol = find(r.rows, { source: "carol", host: "gateway", refusedBy: "gateway" });
        t.regex(carol?.reason ?? "", /^403: valid certificate, not on the allowlist/);
        t.regex(carol?.identifiedBy ?? "", /^certificate CN=carol,O=zerotrust \(SHA-1 [0-9a-f]{16}/);
        t.regex(find(r.rows, { source: "bob", host: "gateway" })?.reason ?? "", /^400: certificate revoked/);
        // app-2, not db: the proof's full TCP scan of db over the mesh has filled db's record (65,536
        // flows at most), so later drops there go unrecorded, as the cap intends.
        const scan = find(r.rows, { source: s.strangerAddress, identifiedBy: "underlay address", host: "app-2" });
        t.true(scan !== undefined && [1, 22, 1024, 5432, 8080].every((p) => scan.ports.includes(p)), "the stranger's scan, named by its address, one row");
        t.regex(scan?.destination ?? "", /^tcp\/1-/);
        // Mesh sources are named by their member: the matrix's app-1 -> db:22 came through WireGuard.
        t.true(find(r.rows, { source: "app-1", identifiedBy: "mesh member", host: "db" })?.ports.includes(22));
        t.truthy(find(r.rows, { identifiedBy: "client address", reason: "400: no client certificate" }), "the request without a certificate, by its address");
        t.truthy(find(r.rows, { source: "alice (unverified)", reason: "400: certificate failed verification" }), "the foreign and expired certificates that claim alice's name");
        t.false(r.rows.some((row) => row.source === "alice"), "alice herself was never refused");
        t.true(r.rows.every((row) => Date.parse(row.first) <= Date.parse(row.last) && Date.parse(row.last) <= Date.parse(r.readAt) + 1000), "every attempt in the window, in order");
        t.true(r.allowedRequests > 20, "the load test's requests were let through, and counted");
        const section = refusalsSection(r);
        t.true(section.tables[0].rows.some((row) => row[0] === devBox && /dev-box/.test(row[1]) && row[3] === "db" && /5432/.test(row[4])), "the report's section has it");
    });

    test.serial("no key or secret reaches the logs and drop records the hosts wrote", (t) => {
        const files = s.hosts.flatMap((h) => [...filesUnder(join(s.labRoot, h, "var-log-zerotrust")), ...filesUnder(join(s.labRoot, h, "var-lib-zerotrust/firewall/drops"))]);
        const text = files.map((f) => readFileSync(f, "utf8")).join("\n");
        t.true(files.some((f) => f.endsWith("gateway-access.log")), files.join(" "));
        t.regex(text, /"verdict":"forbidden"/, "the logs were read");
        const secrets = secretsOf(s);
        t.true(secrets.length > 2 * s.hosts.length, `${secrets.length} key lines to look for`);
        t.deepEqual(secrets.filter((k) => text.includes(k)), [], "no private key, pre-shared key or client key line");
        t.notRegex(text, /PRIVATE KEY|PresharedKey|PrivateKey/);
    });

    test.serial("a rotation of the gateway's log as logrotate makes it: nginx writes a new file, and the report still reads the old one", async (t) => {
        const logs = join(s.labRoot, "gateway", "var-log-zerotrust");
        const rule = inLabHost(join(s.labRoot, "gateway"), ["cat", GATEWAY_LOGROTATE_PATH]);
        renameSync(join(logs, "gateway-access.log"), join(logs, "gateway-access.log.1"));
        inLabHost(join(s.labRoot, "gateway"), ["sh", "-c", postrotateCommand(rule)]);
        // Each worker reopens when its turn comes: a request may still land in the old file.
        const lines = () => existsSync(join(logs, "gateway-access.log")) ? readFileSync(join(logs, "gateway-access.log"), "utf8").split("\n").filter((l) => l).length : 0;
        for (let i = 0; i < 30 && lines() === 0; i++) {
            t.not((await s.allowedRequest()).status, "000");
            await new Promise((r) => setTimeout(r, 100));
        }
        t.true(lines() > 0, "the gateway writes the new file");
        t.truthy(find((await report(s)).rows, { source: "carol", host: "gateway" }), "carol's 403 is read from the rotated file");
    });
}

/** Registers the check that follows a step that reloads db's firewall. */
export function dropRecordKeptTest(s: AccessLogScenario): void {
    test.serial("a firewall reload keeps the drop record: dev-box's probe of db:5432 is still in the report", async (t) => {
        const kept = filesUnder(join(s.labRoot, "db", "var-lib-zerotrust/firewall/drops"));
        t.true(kept.length > 0, "db's firewall was reloaded, and kept its record");
        const devBox = s.hostAddresses()["dev-box"].underlay;
        t.truthy((await report(s)).rows.find((row) => row.source === devBox && row.host === "db" && row.ports.includes(5432)));
    });
}
