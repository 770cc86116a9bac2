// The rendered ruleset, checked and loaded by the real nft inside a throwaway namespace.
import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { firewallSpecFor } from "../../components/enforcement";
import { compilePolicy } from "../../components/policy";
import { FirewallSpec, renderFirewall, renderFirewallRemoval } from "../../components/render/nftables";
import { SEED_NODES, SEED_RULES, seedPolicyMembers } from "../../stacks/seed-scenario";
import { NFT, inNamespace, scratchNamespace } from "../helpers/netns";

const members = seedPolicyMembers();
const addresses = new Map(members.filter((m) => m.kind !== "client").map((m, i) => [m.name, `10.77.0.${i + 2}`]));
const options = { wgInterface: "wg0", wgPort: 51820, sshPort: 22, sshBootstrapSources: [] as string[], meshPing: true, forwardPolicy: "drop" as const, logDrops: true };

function file(t: any, content: string): string {
    const dir = mkdtempSync(join(tmpdir(), "zt-nft-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "rules.nft"), content);
    return join(dir, "rules.nft");
}

test("every seed node's ruleset passes `nft -c` and loads", (t) => {
    const ns = scratchNamespace(t);
    for (const node of SEED_NODES) {
        const rules = file(t, renderFirewall(firewallSpecFor(compilePolicy(members, SEED_RULES), node.name, addresses, options)));
        t.notThrows(() => inNamespace(ns, NFT, ["-c", "-f", rules]), node.name);
        t.notThrows(() => inNamespace(ns, NFT, ["-f", rules]), node.name);
    }
});

test("db's loaded set holds exactly the app servers on 5432, and SSH only from the operator", (t) => {
    const ns = scratchNamespace(t);
    const spec = firewallSpecFor(compilePolicy(members, SEED_RULES), "db", addresses, options);
    inNamespace(ns, NFT, ["-f", file(t, renderFirewall(spec))]);
    const allow = JSON.parse(inNamespace(ns, NFT, ["-j", "list", "set", "inet", "zerotrust", "mesh_allow"]));
    const elems = allow.nftables.find((x: any) => x.set).set.elem.map((e: any) => e.concat.map((c: any) => (typeof c === "object" ? JSON.stringify(c) : c)).join(" "));
    t.deepEqual(elems.sort(), [`${addresses.get("app-1")} tcp 5432`, `${addresses.get("app-2")} tcp 5432`]);
    const ssh = JSON.parse(inNamespace(ns, NFT, ["-j", "list", "set", "inet", "zerotrust", "ssh_mesh"]));
    t.deepEqual(ssh.nftables.find((x: any) => x.set).set.elem, [addresses.get("operator")]);
});

test("loading replaces only our table: another tool's table survives, twice over, and removal leaves it", (t) => {
    const ns = scratchNamespace(t);
    inNamespace(ns, NFT, ["add", "table", "ip", "docker_like"]);
    inNamespace(ns, NFT, ["add", "chain", "ip", "docker_like", "forward", "{ type filter hook forward priority 0; policy accept; }"]);
    const spec: FirewallSpec = { ...firewallSpecFor(compilePolicy(members, SEED_RULES), "gateway", addresses, options) };
    const rules = file(t, renderFirewall(spec));
    inNamespace(ns, NFT, ["-f", rules]);
    inNamespace(ns, NFT, ["-f", rules]);
    const tables = () => inNamespace(ns, NFT, ["list", "tables"]);
    t.regex(tables(), /table ip docker_like/);
    t.regex(tables(), /table inet zerotrust/);
    inNamespace(ns, NFT, ["-f", file(t, renderFirewallRemoval())]);
    t.regex(tables(), /table ip docker_like/);
    t.notRegex(tables(), /zerotrust/);
});

test("a broken ruleset is refused by `nft -c` and the loaded one stays", (t) => {
    const ns = scratchNamespace(t);
    const good = renderFirewall(firewallSpecFor(compilePolicy(members, SEED_RULES), "db", addresses, options));
    inNamespace(ns, NFT, ["-f", file(t, good)]);
    const broken = good.replace("policy drop;", "policy maybe;");
    t.throws(() => inNamespace(ns, NFT, ["-c", "-f", file(t, broken)]));
    t.throws(() => inNamespace(ns, NFT, ["-f", file(t, broken)]));
    t.regex(inNamespace(ns, NFT, ["list", "chain", "inet", "zerotrust", "input"]), /policy drop/);
});

test("bootstrap SSH sources and forward policy appear when asked for", (t) => {
    const ns = scratchNamespace(t);
    const spec = firewallSpecFor(compilePolicy(members, SEED_RULES), "app-1", addresses,
        { ...options, sshBootstrapSources: ["10.99.0.1"], forwardPolicy: "accept" });
    inNamespace(ns, NFT, ["-f", file(t, renderFirewall(spec))]);
    t.regex(inNamespace(ns, NFT, ["list", "set", "inet", "zerotrust", "ssh_bootstrap"]), /10\.99\.0\.1/);
    t.regex(inNamespace(ns, NFT, ["list", "chain", "inet", "zerotrust", "forward"]), /policy accept/);
});
