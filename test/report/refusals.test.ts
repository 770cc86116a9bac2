// The report's refused attempts from what hosts print (access-record.sh): each source named by
// its identity, records kept at firewall reloads added up, a cut-short answer refused.
import test from "ava";
import { auditMarkdown, parseAccessRecord, portRanges, refusalRows, refusalWindow, refusalsSection } from "../../components/report";

const set = (name: string, elems: [string, string, string, string | number, number, number, number?][]) => JSON.stringify({
    nftables: [{ metainfo: { version: "1.0.6" } }, {
        set: { family: "inet", name, table: "zerotrust", timeout: 86400,
            elem: elems.map(([i, s, d, p, port, expires, packets]) => ({ elem: { val: { concat: [i, s, d, p, port] }, expires, ...(packets ? { counter: { packets, bytes: 60 } } : {}) } })) },
    }],
});

const NOW = 1_800_000_000;
const access = (o: Record<string, unknown>) => JSON.stringify({ time: "2027-01-15T08:00:00+00:00", client: "10.213.111.50", subject: "", fingerprint: "", verify: "NONE",
    verdict: "no-certificate", method: "GET", status: 400, upstream: "", upstream_status: "", bytes_in: 80, bytes_out: 300, ...o });

const dbOutput = [
    "=== wireguard", "wg0",
    "=== drops live", `now ${NOW}`,
    // dev-box over the mesh, twice 60 s apart; a stranger on the underlay; a mesh address nobody has.
    set("drops4", [["wg0", "10.111.0.14", "10.111.0.13", "tcp", 5432, 86400 - 120, 2], ["eth0", "10.213.111.200", "10.213.111.13", 6, 22, 86400 - 30, 1],
        ["wg0", "10.111.0.99", "10.111.0.13", "icmp", 0, 86400 - 10, 1],
        // dev-box's underlay address, on three ports (and 23, 24: a range).
        ...[22, 23, 24, 5432, 8080].map((p): [string, string, string, string, number, number, number] => ["eth0", "10.213.111.14", "10.213.111.13", "tcp", p, 86400 - 40, 1])]),
    set("drops4_last", [["wg0", "10.111.0.14", "10.111.0.13", "tcp", 5432, 86400 - 60], ["eth0", "10.213.111.200", "10.213.111.13", 6, 22, 86400 - 30]]),
    set("drops6", []), set("drops6_last", []),
    // Kept at a reload an hour before: the same flow from dev-box, 3 packets.
    "=== drops archive", `now ${NOW - 3600}`,
    set("drops4", [["wg0", "10.111.0.14", "10.111.0.13", "tcp", 5432, 86400 - 100, 3]]),
    set("drops4_last", [["wg0", "10.111.0.14", "10.111.0.13", "tcp", 5432, 86400 - 50]]),
    "=== end", "",
].join("\n");

const gatewayOutput = [
    "=== wireguard", "wg0", "=== drops live", `now ${NOW}`,
    "=== access allowed 7", "=== access refused",
    access({ subject: "CN=carol,O=zerotrust", fingerprint: "ab".repeat(20), verify: "SUCCESS", verdict: "forbidden", status: 403 }),
    access({ subject: "CN=carol,O=zerotrust", fingerprint: "ab".repeat(20), verify: "SUCCESS", verdict: "forbidden", status: 403, time: "2027-01-15T08:05:00+00:00" }),
    access({ subject: "CN=bob,O=zerotrust", fingerprint: "cd".repeat(20), verify: "FAILED:certificate revoked", verdict: "revoked" }),
    access({}),
    access({ subject: "CN=alice,O=zerotrust", fingerprint: "ef".repeat(20), verify: "FAILED:unable to get local issuer certificate", verdict: "failed-certificate" }),
    "{\"time\":\"2027-01-15T08:06:00", // a line cut by a write in progress
    "=== end", "",
].join("\n");

const members = [{ name: "dev-box", address: "10.111.0.14", underlay: ["10.213.111.14"] }, { name: "db", address: "10.111.0.13", underlay: ["10.213.111.13"] }, { name: "carol" }];

test("each refused attempt is named: a mesh member, an underlay address, a certificate's name, a client address", (t) => {
    const rows = refusalRows({ db: parseAccessRecord(dbOutput), gateway: parseAccessRecord(gatewayOutput) }, members);
    const brief = rows.map((r) => [r.source, r.identifiedBy.split(" (")[0].replace(/ CN=.*/, ""), r.host, r.destination, r.refusedBy, r.attempts]);
    t.deepEqual(brief, [
        ["10.111.0.99", "mesh address", "db", "icmp", "firewall", 1],
        ["10.213.111.14", "underlay address", "db", "tcp/22-24, 5432, 8080", "firewall", 5],
        ["10.213.111.200", "underlay address", "db", "tcp/22", "firewall", 1],
        ["10.213.111.50", "client address", "gateway", "https (gateway)", "gateway", 1],
        ["alice (unverified)", "unverified certificate", "gateway", "https (gateway)", "gateway", 1],
        ["bob", "certificate", "gateway", "https (gateway)", "gateway", 1],
        ["carol", "certificate", "gateway", "https (gateway)", "gateway", 2],
        ["dev-box", "mesh member", "db", "tcp/5432", "firewall", 5],
    ]);
    t.is(rows.find((r) => r.source === "10.213.111.14")!.identifiedBy, "underlay address (dev-box's; not authenticated)", "whose host has the address, but no identity");
    t.deepEqual(rows.find((r) => r.source === "10.213.111.14")!.ports, [22, 23, 24, 5432, 8080]);
    const devBox = rows.find((r) => r.source === "dev-box")!;
    t.is(devBox.first, new Date((NOW - 3600 - 100) * 1000).toISOString().replace(".000Z", "Z"), "the first drop is the archived record's");
    t.is(devBox.last, new Date((NOW - 60) * 1000).toISOString().replace(".000Z", "Z"), "the last is the live one's");
    const carol = rows.find((r) => r.source === "carol")!;
    t.is(carol.reason, "403: valid certificate, not on the allowlist");
    t.deepEqual([carol.first, carol.last], ["2027-01-15T08:00:00Z", "2027-01-15T08:05:00Z"]);
    t.regex(rows.find((r) => r.source === "bob")!.reason, /^400: certificate revoked/);
    t.deepEqual(refusalWindow(rows), { from: devBox.first, to: "2027-01-15T08:05:00Z" });
});

test("the section lists every row, says where nothing could be read, and appears in the report", (t) => {
    const rows = refusalRows({ db: parseAccessRecord(dbOutput), gateway: parseAccessRecord(gatewayOutput) }, members);
    const report = { readAt: "2027-01-15T09:00:00Z", hosts: [{ node: "db", state: "read" }, { node: "gateway", state: "read" }, { node: "app-1", state: "unreachable: no route" }], rows, allowedRequests: 7 };
    const s = refusalsSection(report);
    t.is(s.tables[0].rows.length, rows.length);
    t.true(s.text.some((p) => /from 2 of 3 hosts/.test(p)));
    t.true(s.text.some((p) => p === "Not read from app-1: unreachable: no route."));
    t.true(s.text.some((p) => /let 7 requests through/.test(p)));
    t.regex(refusalsSection(undefined).text[0], /Not read/);
    const md = auditMarkdown({
        stack: "s", generatedAt: "g", members: [], rules: [], allowed: [], drift: { checkedAt: "c", concerns: [] }, hosts: [], certificates: [], scanners: [], refusals: report,
    }, "s.svg");
    t.regex(md, /Refused attempts: who tried to reach what/);
    t.regex(md, /\| dev-box \| mesh member \| firewall \| db \| tcp\/5432 \|/);
});

test("ports read as short ranges, and a long list says how much more there is", (t) => {
    t.is(portRanges([8080, 1, 2, 3, 5432, 2]), "1-3, 5432, 8080");
    t.is(portRanges(Array.from({ length: 30 }, (_, i) => i * 2)), "0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22 and 18 more ranges");
});

test("an answer cut short is refused, not read as 'nothing refused'", (t) => {
    t.throws(() => parseAccessRecord(dbOutput.replace("=== end\n", "")), { message: /cut short/ });
    t.throws(() => parseAccessRecord("=== drops live\nnow x\n=== end\n"), { message: /now <seconds>/ });
});
