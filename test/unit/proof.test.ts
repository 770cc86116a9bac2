// The proof's pure parts on their own: interval arithmetic, the readers of `ss` and `wg show`
// output, and WireGuard's longest-prefix routing (a sender whose peer entry for another member is
// wider hands the packet there).
import test from "ava";
import { formatPorts, interval, intersect, pieces, subtract, union } from "../../components/proof/intervals";
import { parseListeners, splitSections } from "../../components/proof/live";
import { peersOfConfig, peersOfWgShow, routeTo } from "../../components/proof/wireguard";
import { parseAddress } from "../../components/proof/address";
import { PacketClass, acceptedPorts } from "../../components/proof/evaluate";
import { readNftTable } from "../../components/proof/ruleset";

test("intervals: union merges adjacent ranges, subtract and intersect cut them, pieces split at every boundary", (t) => {
    t.is(formatPorts(union(interval(1, 21), interval(22, 22), interval(30, 40))), "1-22, 30-40");
    t.is(formatPorts(subtract(interval(1, 65535), union(interval(22, 22), interval(5432, 5432)))), "1-21, 23-5431, 5433-65535");
    t.is(formatPorts(intersect(interval(1, 100), union(interval(50, 60), interval(99, 200)))), "50-60, 99-100");
    t.is(formatPorts(pieces(interval(0, 10), [3n, 5n, 11n])), "0-2, 3-4, 5-10");
});

test("ss -Hlntu lines become listeners; the sections of the collect program split", (t) => {
    const ss = [
        "tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*",
        "tcp   LISTEN 0      511       10.101.0.9:5432      0.0.0.0:*",
        "udp   UNCONN 0      0       127.0.0.53%lo:53        0.0.0.0:*",
        "tcp   LISTEN 0      128             [::]:22           [::]:*",
        "udp   UNCONN 0      0                  *:5000            *:*",
    ].join("\n");
    t.deepEqual(parseListeners(ss), [
        { proto: "tcp", port: 22, address: "0.0.0.0" }, { proto: "tcp", port: 5432, address: "10.101.0.9" },
        { proto: "udp", port: 53, address: "127.0.0.53%lo" }, { proto: "tcp", port: 22, address: "[::]" }, { proto: "udp", port: 5000, address: "*" },
    ]);
    t.deepEqual(splitSections("=== nft\n{}\n=== wg\nK\t10.0.0.1/32\n=== ss\n"), { nft: "{}\n", wg: "K\t10.0.0.1/32\n", ss: "" });
});

test("peer entries from wg show and a wg-quick file; a key that is no member's is named as such", (t) => {
    const keys = { KEYA: "app-1", KEYB: "db" };
    t.deepEqual(peersOfWgShow("KEYA\t10.101.0.2/32 fd12::2/128\nKEYX\t(none)\n", keys), [
        { peer: "app-1", allowedIps: ["10.101.0.2/32", "fd12::2/128"] }, { peer: "unknown key KEYX", allowedIps: [] },
    ]);
    const conf = "[Interface]\nPrivateKey = P\n\n# db\n[Peer]\nPublicKey = KEYB\nAllowedIPs = 10.101.0.3/32, fd12::3/128\n";
    t.deepEqual(peersOfConfig(conf, keys), [{ peer: "db", allowedIps: ["10.101.0.3/32", "fd12::3/128"] }]);
});

test("a sender routes by the longest prefix: a host entry wins over a wider one, and a wider one takes what no host entry holds", (t) => {
    const entries = [{ peer: "gateway", allowedIps: ["10.101.0.0/24"] }, { peer: "db", allowedIps: ["10.101.0.3/32"] }];
    const at = (a: string) => parseAddress(a)!.value;
    t.is(routeTo(entries, 4, at("10.101.0.3")), "db");
    t.is(routeTo(entries, 4, at("10.101.0.7")), "gateway");
    t.is(routeTo(entries, 4, at("10.102.0.7")), undefined);
    t.is(routeTo(entries, 6, parseAddress("fd12::3")!.value), undefined);
});

test("a set statement (the drop record) is no verdict; a verdict after one in the same rule is refused, naming the rule", (t) => {
    const listing = (expr: unknown[]) => JSON.stringify({ nftables: [
        { table: { family: "inet", name: "zerotrust" } },
        { chain: { family: "inet", table: "zerotrust", name: "input", type: "filter", hook: "input", prio: 0, policy: "drop" } },
        { rule: { family: "inet", table: "zerotrust", chain: "input", handle: 7, expr } },
    ] });
    const record = { set: { op: "add", elem: { payload: { protocol: "ip", field: "saddr" } }, set: "@drops4", stmt: [{ counter: null }] } };
    const packet: PacketClass = { iifname: "wg0", family: 4, saddr: 0x0a4d0002n, daddr: 0x0a4d0003n, l4: "tcp" };
    t.deepEqual(acceptedPorts(readNftTable(listing([record])), packet), [], "recording a flow lets nothing through");
    t.throws(() => acceptedPorts(readNftTable(listing([record, { accept: null }])), packet), { message: /a verdict after the set statement .* in rule 7/ });
});
