// The firewall's drop record on every release's own nft: a seed node's rendered ruleset loaded
// into a network namespace of the release's tree, a peer namespace behind a veth that sends what
// the policy drops (TCP, UDP, ICMP), then what the report reads (components/remote/access-record.sh,
// run by the release's bash and nft) parsed into flows, and the drift check (the firewall concern's
// own check program) still in sync while the record holds elements.
import test from "ava";
import { readFileSync } from "fs";
import { assetPath } from "../../components/assets";
import { composeHostProgram } from "../../components/remote/script";
import { parseAccessRecord } from "../../components/report/access-record";
import { renderFirewall } from "../../components/render/nftables";
import { RELEASES } from "../../components/render/releases";
import { parseCheckOutput } from "../../components/verify";
import { lineDiff } from "../../components/verify/line-diff";
import { inTree, releaseTree } from "../helpers/release-tree";

const rules = renderFirewall({
    wgInterface: "wg0", wgPort: 51820, sshPort: 22, sshMeshSources: ["10.112.0.1"], sshBootstrapSources: [],
    meshAllows: [{ source: "10.112.0.2", port: { proto: "tcp", first: 5432, last: 5432 } }], publicTcpPorts: [443],
    meshPing: true, forwardPolicy: "drop", logDrops: true,
});

// A peer namespace, made with the machine's programs before the chroot; its pid is in /scratch.
// Pids are the tree's pid namespace's: its /proc is $root/proc (the machine's /proc is another).
const PEER = [
    "unshare --net sleep 120 & peer=$!",
    "for _ in $(seq 50); do [ \"$(readlink \"$root/proc/$peer/ns/net\")\" != \"$(readlink \"$root/proc/self/ns/net\")\" ] && break; sleep 0.05; done",
    "ip link add ztrec0 type veth peer name ztrec1 netns \"$peer\"",
    "ip addr add 10.213.112.1/24 dev ztrec0 && ip link set ztrec0 up",
    "nsenter --net=\"$root/proc/$peer/ns/net\" sh -c 'ip addr add 10.213.112.2/24 dev ztrec1 && ip link set ztrec1 up && ip link set lo up'",
    "echo $peer >\"$s/files/peer.pid\"",
].join("\n");

const SEND = [
    "set -e",
    "mkdir -p /etc/zerotrust && cp rules.nft /etc/zerotrust/firewall.nft && nft -f /etc/zerotrust/firewall.nft",
    "peer=$(cat peer.pid)",
    "from_peer() { nsenter -t \"$peer\" -n \"$@\"; }",
    // Dropped: TCP 5432 twice (the source is no mesh peer, and not over wg0), UDP 9999, and the open 443 once (nothing listens: a reset, not a drop).
    "for _ in 1 2; do from_peer timeout 2 bash -c 'echo >/dev/tcp/10.213.112.1/5432' 2>/dev/null || true; done",
    "from_peer bash -c 'echo x >/dev/udp/10.213.112.1/9999' || true",
    "from_peer timeout 2 bash -c 'echo >/dev/tcp/10.213.112.1/443' 2>/dev/null || true",
    "sleep 1",
].join("\n");

for (const release of Object.keys(RELEASES)) {
    test(`${release}: its nft records each dropped flow with its interface, count and times; the report reads them; the drift check ignores them`, (t) => {
        const tree = releaseTree(release);
        const check = composeHostProgram({ concern: "firewall", action: "check", token: "t1", rollbackSeconds: 10, vars: { ZT_RELEASE: release }, files: { "firewall.nft": rules } });
        const before = Math.floor(Date.now() / 1000) - 1;
        const out = inTree(t, tree, [SEND, "bash access-record.sh", "echo '=== check'", "bash check.sh"].join("\n"), {
            net: true, setup: PEER,
            files: { "rules.nft": rules, "access-record.sh": readFileSync(assetPath("remote/access-record.sh"), "utf8"), "check.sh": check },
        });
        const [record, checked] = out.split("=== check\n");
        const after = Math.floor(Date.now() / 1000) + 1;
        const flows = parseAccessRecord(record).drops;
        t.log(flows.map((f) => `${f.iface} ${f.source} -> ${f.destination} ${f.proto}/${f.port}: ${f.packets} packets, ${f.first}..${f.last}`).join("\n"));
        const flow = (proto: string, port: number) => flows.find((f) => f.proto === proto && f.port === port);
        const tcp = flow("tcp", 5432);
        t.like(tcp, { iface: "ztrec0", source: "10.213.112.2", destination: "10.213.112.1" });
        t.true(tcp!.packets >= 2, "both attempts counted");
        t.true(tcp!.first >= before && tcp!.last <= after && tcp!.first <= tcp!.last, "first and last drop in the test's window");
        t.like(flow("udp", 9999), { iface: "ztrec0", source: "10.213.112.2", packets: 1 });
        t.is(flow("tcp", 443), undefined, "a public port is not dropped");
        t.is(flows.filter((f) => f.source !== "10.213.112.2").length, 0);
        const { expected, live } = parseCheckOutput(checked);
        t.deepEqual(lineDiff(expected, live), [], "the record's elements are no drift");
        t.true(live.some((l) => /set drops4 \{/.test(l)), "the drop sets are part of what is checked");
    });
}
