// A host with 1,000 allowed peers: its firewall is one transaction whose peers are set elements,
// not rules, checked and loaded by the real nft inside a throwaway namespace.
import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { firewallSpecFor } from "../../components/enforcement";
import { planMesh } from "../../components/mesh-plan";
import { renderFirewall } from "../../components/render/nftables";
import { NFT, inNamespace, scratchNamespace } from "../helpers/netns";

const options = { wgInterface: "wg0", wgPort: 51820, sshPort: 22, sshBootstrapSources: [] as string[], meshPing: true, forwardPolicy: "drop" as const, logDrops: true };

/** The database's firewall in a star of `apps` app servers that reach it on two ports. */
function dbFirewall(apps: number): { text: string; addresses: Map<string, string> } {
    const plan = planMesh({
        cidr: "10.80.0.0/16",
        nodes: [...Array.from({ length: apps }, (_, i) => ({ name: `app-${i}`, tags: ["app"] })), { name: "db" }],
        rules: [{ from: "tag:app", to: "db", ports: ["tcp/5432", "tcp/9100-9110"] }],
    });
    const addresses = new Map(plan.members.map((m) => [m.name, m.address]));
    return { text: renderFirewall(firewallSpecFor(plan.policy, "db", addresses, options)), addresses };
}

function load(t: any, ns: string, text: string, check = false): void {
    const dir = mkdtempSync(join(tmpdir(), "zt-nft-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "rules.nft"), text);
    inNamespace(ns, NFT, [...(check ? ["-c"] : []), "-f", join(dir, "rules.nft")]);
}

const inputRules = (ns: string) => inNamespace(ns, NFT, ["-a", "list", "chain", "inet", "zerotrust", "input"])
    .split("\n").filter((l) => /# handle \d+/.test(l)).length;

test("1,000 allowed peers on two ports: nft -c accepts it, one nft -f loads 2,000 set elements, and the chain has as many rules as with 2 peers", (t) => {
    const ns = scratchNamespace(t);
    const small = dbFirewall(2);
    load(t, ns, small.text);
    const rulesWithTwo = inputRules(ns);

    const big = dbFirewall(1000);
    t.notThrows(() => load(t, ns, big.text, true));
    load(t, ns, big.text);
    t.is(inputRules(ns), rulesWithTwo, "no rule per peer");
    const set = JSON.parse(inNamespace(ns, NFT, ["-j", "list", "set", "inet", "zerotrust", "mesh_allow"])).nftables.find((x: any) => x.set).set;
    t.is(set.elem.length, 2000);
    // Every app server is an element on both ports; the set is matched by one rule.
    const sources = new Set(set.elem.map((e: any) => e.concat[0]));
    t.is(sources.size, 1000);
    t.true([...big.addresses].filter(([n]) => n !== "db").every(([, a]) => sources.has(a)));
    t.regex(big.text, /ip saddr \. meta l4proto \. th dport @mesh_allow accept/);
    t.is((big.text.match(/@mesh_allow/g) ?? []).length, 1);
});
