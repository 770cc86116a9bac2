// The proof on nft's own JSON, as each release's nft prints it (0.9.8, 1.0.6 and 1.1.3 differ): the
// seed scenario's rendered firewalls, loaded in a scratch namespace by the release's nft in its own
// file tree and listed back, prove equal to the policy; injected holes are named; an expression the
// evaluator does not know fails the proof, naming it.
import test from "ava";
import { firewallSpecFor } from "../../components/enforcement";
import { MeshPlan, planMesh } from "../../components/mesh-plan";
import { ProofError, formatProof, proofHolds, proveMesh, readNftTable } from "../../components/proof";
import { Difference, ProofInput } from "../../components/proof/prove";
import { planAddresses, renderedPeerEntries } from "../../components/proof/rendered";
import { listInScratchNamespace } from "../../components/proof/scratch";
import { ProofFailed, proveBeforeApply } from "../../components/proof/gate";
import { renderFirewall } from "../../components/render/nftables";
import { SUPPORTED_RELEASES } from "../../components/render/releases";
import { SEED_CLIENTS, SEED_NODES, SEED_OPERATOR, SEED_RULES } from "../../stacks/seed-scenario";
import { inTree, releaseTree } from "../helpers/release-tree";
import { auditMarkdown } from "../../components/report";
import { seedAuditData } from "../report/fixture";

const plan: MeshPlan = planMesh({
    cidr: "10.101.0.0/24", cidr6: "fd12:3456:789a:2::/64", nodes: SEED_NODES,
    operators: [{ name: SEED_OPERATOR, tags: ["admin"], management: true }], clients: SEED_CLIENTS, rules: SEED_RULES,
});
const addr = (m: string) => plan.members.find((x) => x.name === m)!.address;
const v4 = new Map(plan.members.map((m) => [m.name, m.address]));
const v6 = new Map(plan.members.map((m) => [m.name, m.address6!]));

function firewallOf(node: string): string {
    return renderFirewall(firewallSpecFor(plan.policy, node, v4, {
        wgInterface: plan.interfaceName, wgPort: 51820, sshPort: 22, sshBootstrapSources: ["10.213.101.1", "fd12:3456:789a:1::1"],
        meshPing: true, forwardPolicy: "drop", logDrops: true, publicTcpPorts: node === "gateway" ? [443] : [],
    }, v6));
}

const files: Record<string, string> = Object.fromEntries(SEED_NODES.map((n) => [n.name, firewallOf(n.name)]));
const beforePing = '\t\tiifname "wg0" icmp type echo-request';
// An extra accept rule: a port range from any mesh source, and a UDP range by source prefix and concatenation.
files["db-extra-accept"] = files.db.replace(beforePing,
    `\t\tiifname "wg0" tcp dport 1000-2000 accept\n\t\tiifname "wg0" ip saddr . udp dport { ${addr("app-1")}/32 . 53, 10.101.0.0/24 . 60000-60010 } accept\n${beforePing}`);
// Something the evaluator does not model: packet marks.
files["db-unknown"] = files.db.replace(beforePing, `\t\tiifname "wg0" meta mark 0x00000001 accept\n${beforePing}`);

/** Each file loaded by the release's own nft in a scratch namespace in its tree, listed back as JSON. */
function listedBy(t: any, release: string): Record<string, string> {
    const script = 'for f in *.nft; do echo "=== ${f%.nft}"; nft -f "$f" && nft -j list table inet zerotrust; done';
    const out = inTree(t, releaseTree(release), script, { net: true, files: Object.fromEntries(Object.entries(files).map(([k, v]) => [`${k}.nft`, v])) });
    return Object.fromEntries(out.split(/^=== /m).slice(1).map((b) => [b.slice(0, b.indexOf("\n")), b.slice(b.indexOf("\n") + 1)]));
}

function input(listed: Record<string, string>, dbFile = "db", wireguard = renderedPeerEntries(plan)): ProofInput {
    const firewalls = Object.fromEntries(SEED_NODES.map((n) => [n.name, readNftTable(listed[n.name === "db" ? dbFile : n.name])]));
    return { policy: plan.policy, addresses: planAddresses(plan), wgInterface: plan.interfaceName, firewalls, wireguard };
}

const brief = (ds: Difference[]) => ds.map((d) => `${d.from}>${d.to} ${d.proto}/${d.ports} v${d.family} ${d.reaches ? "reaches" : "blocked"}`).sort();

for (const release of SUPPORTED_RELEASES) {
    test(`${release}: nft's JSON of the seed firewalls proves equal to the policy; an extra accept rule and a wide AllowedIPs are named`, (t) => {
        const listed = listedBy(t, release);
        const version = JSON.parse(listed.db).nftables[0].metainfo.version;
        t.log(`${release}: nft ${version}`);

        const clean = proveMesh(input(listed));
        t.log(formatProof(clean).join("\n"));
        t.true(proofHolds(clean), formatProof(clean).join("\n"));
        t.is(clean.pairs, 25); // 6 members into 5 nodes, less each node to itself
        t.deepEqual(clean.families, [4, 6]);

        // The extra rule: only db's WireGuard peers (app-1, app-2, operator) get through it, and only on IPv4 for the concatenation.
        const holed = proveMesh(input(listed, "db-extra-accept"));
        t.log(formatProof(holed).join("\n"));
        t.deepEqual(brief(holed.differences), [
            "app-1>db tcp/1000-2000 v4 reaches", "app-1>db tcp/1000-2000 v6 reaches", "app-1>db udp/53, 60000-60010 v4 reaches",
            "app-2>db tcp/1000-2000 v4 reaches", "app-2>db tcp/1000-2000 v6 reaches", "app-2>db udp/60000-60010 v4 reaches",
            "operator>db tcp/1000-2000 v4 reaches", "operator>db tcp/1000-2000 v6 reaches", "operator>db udp/60000-60010 v4 reaches",
        ]);
        t.regex(holed.differences[0].cause, /accepted by rule handle \d+ of chain input from app-1's own address/);

        // db's peer entry for app-1 lets in the whole mesh range: app-1 can speak as the operator, so SSH to db reaches.
        const wide = renderedPeerEntries(plan);
        wide.db = wide.db.map((e) => (e.peer === "app-1" ? { ...e, allowedIps: ["10.101.0.0/24", ...e.allowedIps.slice(1)] } : e));
        const spoofed = proveMesh(input(listed, "db", wide));
        t.log(formatProof(spoofed).join("\n"));
        t.deepEqual(brief(spoofed.differences), ["app-1>db tcp/22 v4 reaches"]);
        t.regex(spoofed.differences[0].cause, new RegExp(`from source ${addr(SEED_OPERATOR).replace(/\./g, "\\.")}, which db's WireGuard entry for app-1 lets in`));
        t.deepEqual(spoofed.findings.length, 1);
        t.regex(spoofed.findings[0], /db's WireGuard entry for app-1 lets in 10\.101\.0\.0-/);

        // A peer entry gone: what the policy allows through it is named as blocked, both ways (db no longer routes to app-2).
        const gone = renderedPeerEntries(plan);
        gone.db = gone.db.filter((e) => e.peer !== "app-2");
        const missing = proveMesh(input(listed, "db", gone));
        t.deepEqual(brief(missing.differences), ["app-2>db icmp/echo v4 blocked", "app-2>db icmp/echo v6 blocked", "app-2>db tcp/5432 v4 blocked", "app-2>db tcp/5432 v6 blocked",
            "db>app-2 icmp/echo v4 blocked", "db>app-2 icmp/echo v6 blocked"]);
        t.regex(missing.differences.find((d) => d.from === "app-2")!.cause, /db has no WireGuard peer entry for app-2/);
        t.regex(missing.differences.find((d) => d.from === "db")!.cause, /db has no WireGuard route to app-2's address/);

        // An expression it does not know stops the proof, naming it.
        const e = t.throws(() => proveMesh(input(listed, "db-unknown")), { instanceOf: ProofError });
        t.regex(e!.message, /"meta":\{"key":"mark"\}/);
    });
}

test("this machine's nft in a scratch namespace (the preview's path) lists what proves equal to the policy", (t) => {
    const listed = listInScratchNamespace(Object.fromEntries(SEED_NODES.map((n) => [n.name, files[n.name]])));
    const r = proveMesh(input(listed));
    t.true(proofHolds(r), formatProof(r).join("\n"));
    t.throws(() => listInScratchNamespace({ db: files.db.replace("policy drop;", "policy maybe;") }), { message: /nft refused db's rendered firewall/ });
});

test("the report's proof section: the headline when equal, each difference by pair, family, protocol and ports otherwise", (t) => {
    const listed = listInScratchNamespace({ ...Object.fromEntries(SEED_NODES.map((n) => [n.name, files[n.name]])), "db-extra-accept": files["db-extra-accept"] });
    const data = seedAuditData();
    const equal = auditMarkdown({ ...data, proof: proveMesh(input(listed)) }, "reach.svg");
    t.regex(equal, /25 pairs x 131,070 ports and ICMP echo, over IPv4 and IPv6: equal to the policy/);
    const holed = auditMarkdown({ ...data, proof: proveMesh(input(listed, "db-extra-accept")) }, "reach.svg");
    t.regex(holed, /9 differences from the policy/);
    t.regex(holed, /\| app-1 \| db \| IPv4 \| udp \| 53, 60000-60010 \| REACHES, not allowed by the policy \| accepted by rule handle \d+ of chain input from app-1's own address \|/);
    t.regex(auditMarkdown({ ...data, proof: { error: "stack dev does not export proofPolicy" } }, "reach.svg"), /Not computed: stack dev does not export proofPolicy/);
});

test("the preview's gate: equal files pass with the headline; a hole fails before anything is applied, naming it", (t) => {
    const nodes = SEED_NODES.map((n) => ({ member: n.name, firewallFile: files[n.name], meshPing: true }));
    t.regex(proveBeforeApply(plan, nodes), /25 pairs x 131,070 ports and ICMP echo, over IPv4 and IPv6: equal to the policy/);
    const holed = nodes.map((n) => (n.member === "db" ? { ...n, firewallFile: files["db-extra-accept"] } : n));
    const e = t.throws(() => proveBeforeApply(plan, holed), { instanceOf: ProofFailed });
    t.regex(e!.message, /nothing was applied/);
    t.regex(e!.message, /app-2 -> db udp\/60000-60010 \(IPv4\): REACHES, the policy does not allow it/);
});
