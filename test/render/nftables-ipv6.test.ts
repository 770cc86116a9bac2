// The firewall on an IPv6 and dual-stack underlay: rendered, checked by the real `nft -c`, loaded
// in a scratch namespace, and then tested with packets from a second namespace over a veth with
// ULA (and IPv4) addresses: what is open by design answers on both families, nothing else does.
import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { SUPPORTED_RELEASES } from "../../components/render/releases";
import { inTree, releaseTree } from "../helpers/release-tree";
import { tmpdir } from "os";
import { join } from "path";
import { FirewallSpec, renderFirewall } from "../../components/render/nftables";
import { nmapAnswering } from "../../scripts/audit/scanners";
import { probe, probeUdp, startTool } from "../../scripts/lab/lab-probe";
import { NFT, inNamespace, pairNamespaces, scratchNamespace, scratchUlaPrefix } from "../helpers/netns";

const spec = (bootstrap: string[]): FirewallSpec => ({
    wgInterface: "wg0", wgPort: 51820, sshPort: 22, sshMeshSources: ["10.77.0.9"], sshBootstrapSources: bootstrap,
    meshAllows: [{ source: "10.77.0.5", port: { proto: "tcp", first: 5432, last: 5432 } }],
    publicTcpPorts: [443], meshPing: true, forwardPolicy: "drop", logDrops: false,
});

function load(t: any, ns: string, text: string, check = true): void {
    const dir = mkdtempSync(join(tmpdir(), "zt-nft6-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "rules.nft"), text);
    if (check) inNamespace(ns, NFT, ["-c", "-f", join(dir, "rules.nft")]);
    inNamespace(ns, NFT, ["-f", join(dir, "rules.nft")]);
}

test("IPv6 bootstrap sources get a set of their own; IPv6 gets nothing else but neighbour discovery and the family-blind ports", (t) => {
    const ns = scratchNamespace(t);
    const text = renderFirewall(spec(["10.99.0.1", "fd12:3456:789a:1::99", "2001:db8:5::/48"]));
    load(t, ns, text);
    t.regex(inNamespace(ns, NFT, ["list", "set", "inet", "zerotrust", "ssh_bootstrap6"]), /elements = \{ 2001:db8:5::\/48,\s+fd12:3456:789a:1::99 \}/);
    t.regex(inNamespace(ns, NFT, ["list", "set", "inet", "zerotrust", "ssh_bootstrap"]), /elements = \{ 10\.99\.0\.1 \}/);
    // Every input rule, by what it can match: IPv4 only (ip/icmp), IPv6 only (ip6/icmpv6), or both.
    const input = text.slice(text.indexOf("chain input"), text.indexOf("chain forward")).split("\n").map((l) => l.trim()).filter((l) => /accept$|drop$/.test(l));
    const v6 = input.filter((l) => /\bip6\b|icmpv6/.test(l));
    const both = input.filter((l) => !/\bip6?\b|icmpv6|\bicmp\b/.test(l) && !l.startsWith("iifname \"lo\"") && !l.startsWith("ct state"));
    t.deepEqual(v6, [
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } ip6 hoplimit 255 accept",
        "iifname != \"wg0\" ip6 saddr @ssh_bootstrap6 tcp dport 22 accept",
    ]);
    t.deepEqual(both, ["iifname != \"wg0\" udp dport 51820 accept", "iifname != \"wg0\" tcp dport { 443 } accept"]);
});

test("without an IPv6 source the table is what it was: no IPv6 set, no IPv6 rule but neighbour discovery", (t) => {
    const text = renderFirewall(spec(["10.99.0.1"]));
    t.notRegex(text, /ssh_bootstrap6|ip6 saddr/);
    t.is(text.match(/\bip6\b/g)?.length, 1, "only the neighbour discovery rule");
});

test("packets: WireGuard's UDP port and the gateway's TCP port answer over IPv6 and IPv4; SSH only from a bootstrap source; nothing else", async (t) => {
    const target = scratchNamespace(t);
    const stranger = scratchNamespace(t);
    const prefix = scratchUlaPrefix();
    pairNamespaces(stranger, target, prefix, "10.213.91"); // stranger ::1 / .1, target ::2 / .2
    const [v6, v4] = [`${prefix}::2`, "10.213.91.2"];
    const tcp = await startTool({ namespace: target }, ["listen", "22", "443", "5432"]);
    t.teardown(() => tcp.kill());
    const udp = await startTool({ namespace: target }, ["udp-echo", "51820", "5353"]);
    t.teardown(() => udp.kill());
    const from = { namespace: stranger };
    const tcpTargets = (port: number) => [`[${v6}]:${port}`, `${v4}:${port}`];

    // Before any firewall every listener answers: the probes can see "open".
    t.deepEqual(Object.values(probe(from, [...tcpTargets(22), ...tcpTargets(5432)], 2000)), ["open", "open", "open", "open"]);
    t.deepEqual(Object.values(probeUdp(from, [`[${v6}]:5353`, `${v4}:5353`])), ["answered", "answered"]);

    load(t, target, renderFirewall(spec(["10.213.91.250", `${prefix}::250`])));
    const tcpSeen = probe(from, [22, 443, 5432].flatMap(tcpTargets), 2000);
    const udpSeen = probeUdp(from, [51820, 5353].flatMap(tcpTargets));
    t.log(JSON.stringify({ ...tcpSeen, ...udpSeen }));
    t.deepEqual(tcpSeen, {
        [`[${v6}]:22`]: "filtered", [`${v4}:22`]: "filtered",
        [`[${v6}]:443`]: "open", [`${v4}:443`]: "open",
        [`[${v6}]:5432`]: "filtered", [`${v4}:5432`]: "filtered",
    });
    t.deepEqual(udpSeen, {
        [`[${v6}]:51820`]: "answered", [`${v4}:51820`]: "answered",
        [`[${v6}]:5353`]: "silent", [`${v4}:5353`]: "silent",
    });
    const ping = (address: string) => { try { inNamespace(stranger, "ping", ["-c", "1", "-W", "1", address]); return "answered"; } catch { return "dropped"; } };
    t.deepEqual([ping(v6), ping(v4)], ["dropped", "dropped"], "no echo from the underlay, on either family");

    // nmap -6, as an auditor scans: only the gateway's port, and 22 is filtered, not closed.
    const scan = nmapAnswering([v6], "1-1024,5432,51820", ["ip", "netns", "exec", stranger]);
    t.deepEqual(scan.answering, [`[${v6}]:443/open`], scan.output);

    // The stranger made a bootstrap source, per family: SSH opens for that family only.
    load(t, target, renderFirewall(spec(["10.213.91.250", `${prefix}::1`])));
    t.deepEqual(probe(from, tcpTargets(22), 2000), { [`[${v6}]:22`]: "open", [`${v4}:22`]: "filtered" });
    load(t, target, renderFirewall(spec(["10.213.91.1"])));
    t.deepEqual(probe(from, tcpTargets(22), 2000), { [`[${v6}]:22`]: "filtered", [`${v4}:22`]: "open" });
});

test("a mesh with an IPv6 range: IPv6 mesh sources in sets of their own, checked and loaded by this machine's nft and each release's", (t) => {
    const text = renderFirewall({
        ...spec(["10.99.0.1", "fd12::/64"]), mesh6: true,
        sshMeshSources: ["10.77.0.9", "fd12:3456:789a:2::9"],
        meshAllows: [{ source: "10.77.0.5", port: { proto: "tcp", first: 5432, last: 5432 } }, { source: "fd12:3456:789a:2::5", port: { proto: "tcp", first: 5432, last: 5432 } }],
    });
    const ns = scratchNamespace(t);
    load(t, ns, text);
    t.regex(inNamespace(ns, NFT, ["list", "set", "inet", "zerotrust", "mesh_allow6"]), /elements = \{ fd12:3456:789a:2::5 \. tcp \. 5432 \}/);
    t.regex(inNamespace(ns, NFT, ["list", "set", "inet", "zerotrust", "ssh_mesh6"]), /elements = \{ fd12:3456:789a:2::9 \}/);
    t.regex(inNamespace(ns, NFT, ["list", "set", "inet", "zerotrust", "mesh_allow"]), /elements = \{ 10\.77\.0\.5 \. tcp \. 5432 \}/);
    for (const release of SUPPORTED_RELEASES) {
        // The release's own nft, in an overlay of its file tree with a network namespace of its own.
        const out = inTree(t, releaseTree(release), "set -e; nft -c -f rules.nft; nft -f rules.nft; nft list set inet zerotrust mesh_allow6",
            { net: true, files: { "rules.nft": text } });
        t.regex(out, /fd12:3456:789a:2::5 \. (tcp|6) \. 5432/, release);
    }
});

