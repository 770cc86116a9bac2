// A mesh with an IPv6 range beside its IPv4 one (MeshNetwork cidr6): addresses in both, allocated
// by the same rules, one policy for both families in every enforcement point.
import test from "ava";
import { installMocks, resolve } from "../helpers/mocks";

installMocks();
import { allocateAddresses6 } from "../../components/addressing6";
import { firewallSpecFor } from "../../components/enforcement";
import { cidr6Contains, parseIPv6 } from "../../components/ipv6";
import { MeshNetwork } from "../../components/mesh-network";
import { planMesh } from "../../components/mesh-plan";
import { renderFirewall } from "../../components/render/nftables";
import { parseCidr6 } from "../../components/validate";
import { SEED_CLIENTS, SEED_EXPECT, SEED_NODES, SEED_RULES } from "../../stacks/seed-scenario";

const CIDR6 = "fd12:3456:789a:2::/64";
const names = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `host-${i}` }));

test("IPv6 mesh addresses: distinct, inside the range, kept from the last export, explicit ones first; a small range is walked", (t) => {
    const got = allocateAddresses6(CIDR6, names(500));
    t.is(new Set(got.values()).size, 500);
    t.true([...got.values()].every((a) => cidr6Contains(parseCidr6("c", CIDR6), parseIPv6(a)!) && a !== "fd12:3456:789a:2::"));
    // Adding members renumbers no one, whichever order they sort in.
    const more = allocateAddresses6(CIDR6, [{ name: "aaa" }, ...names(500)], "cidr6", Object.fromEntries(got));
    for (const [name, address] of got) t.is(more.get(name), address, name);
    // A /124 has 15 host addresses: 15 members fit, 16 are refused with the fix.
    t.is(new Set(allocateAddresses6("fd12::/124", names(15)).values()).size, 15);
    t.throws(() => allocateAddresses6("fd12::/124", names(16)), { message: /^cidr6: "fd12::\/124" is not valid: the range has 15 host addresses for 16 members; choose a shorter prefix/ });
    const explicit = allocateAddresses6(CIDR6, [{ name: "a", address6: "FD12:3456:789A:2::0:5" }, { name: "b" }]);
    t.is(explicit.get("a"), "fd12:3456:789a:2::5");
    t.throws(() => allocateAddresses6(CIDR6, [{ name: "a", address6: "fd12:3456:789a:3::5" }]), { message: /^a\.address6: .* must be a host address inside fd12:3456:789a:2::\/64/ });
    t.throws(() => allocateAddresses6(CIDR6, [{ name: "a", address6: "fd12:3456:789a:2::5" }, { name: "b", address6: "fd12:3456:789a:2::5" }]),
        { message: /^b\.address6: .* it is also the explicit address of 'a'/ });
});

test("the mesh's IPv6 range is checked: a prefix with room, no special range, address6 only with a range", (t) => {
    const base = { cidr: "10.77.0.0/24", nodes: [{ name: "a" }], rules: [] };
    t.throws(() => planMesh({ ...base, cidr6: "fd00::/8" }), { message: /^cidr6: .* use a prefix from \/16 to \/124/ });
    t.throws(() => planMesh({ ...base, cidr6: "fe80::/64" }), { message: /^cidr6: "fe80::\/64" is not valid: is not a range for hosts \(its first address is link-local/ });
    t.throws(() => planMesh({ ...base, cidr6: "ff05::/64" }), { message: /is not a range for hosts \(its first address is a multicast address/ });
    t.throws(() => planMesh({ ...base, cidr6: "fd12:3456:789a:2::1/64" }), { message: /host bits are set; the network is fd12:3456:789a:2::\/64/ });
    t.throws(() => planMesh({ ...base, nodes: [{ name: "a", address6: "fd12::5" }] }), { message: /^a\.address6: .* the mesh has no IPv6 range: give cidr6/ });
    t.throws(() => planMesh({ ...base, cidr6: CIDR6, previousAddresses6: { a: "10.0.0.1" } }), { message: /^previousAddresses6\.a: / });
    const plan = planMesh({ ...base, cidr6: CIDR6 });
    t.is(plan.cidr6, CIDR6);
    t.is(plan.prefixLength6, 64);
    t.truthy(plan.members[0].address6);
    t.is(planMesh(base).members[0].address6, undefined, "an IPv4 mesh is as before");
});

function seedMesh6(name: string) {
    return new MeshNetwork(name, {
        cidr: "10.77.0.0/24", cidr6: CIDR6,
        nodes: SEED_NODES.map((n, i) => ({ ...n, endpoint: `10.99.0.${10 + i}:51820` })),
        operators: [{ name: "operator", tags: ["admin"] }], clients: SEED_CLIENTS, rules: SEED_RULES, expect: SEED_EXPECT,
    });
}

test("configs: Address in both ranges, each peer's AllowedIPs its two addresses", async (t) => {
    const mesh = seedMesh6("m6-configs");
    const db = await resolve(mesh.configOf("db"));
    t.regex(db, new RegExp(`^Address = ${mesh.addresses.db}/24, ${mesh.addresses6.db}/64$`, "m"));
    for (const peer of ["app-1", "app-2", "operator"]) {
        t.regex(db, new RegExp(`# ${peer}\\n\\[Peer\\][^#]*AllowedIPs = ${mesh.addresses[peer]}/32, ${mesh.addresses6[peer]}/128\\n`), peer);
    }
    const plain = new MeshNetwork("m4-configs", { cidr: "10.77.0.0/24", nodes: [{ name: "a" }, { name: "b" }], rules: [{ from: "a", to: "b", ports: ["tcp/1"] }] });
    t.deepEqual(plain.addresses6, {});
    t.regex(await resolve(plain.configOf("b")), /^Address = 10\.77\.0\.\d+\/24$/m);
    t.regex(await resolve(plain.configOf("b")), /^AllowedIPs = 10\.77\.0\.\d+\/32$/m);
});

test("the firewall: one policy, each allow for both of a source's addresses, in sets per family", (t) => {
    const mesh = seedMesh6("m6-firewall");
    const options = { wgInterface: "wg0", wgPort: 51820, sshPort: 22, sshBootstrapSources: [], meshPing: true, forwardPolicy: "drop" as const, logDrops: false };
    const spec = firewallSpecFor(mesh.plan.policy, "db", new Map(Object.entries(mesh.addresses)), options, new Map(Object.entries(mesh.addresses6)));
    const text = renderFirewall(spec);
    const elements = (set: string) => new RegExp(`set ${set} \\{[^}]*elements = \\{ ([^}]*) \\}`).exec(text)?.[1].split(", ").sort();
    t.deepEqual(elements("mesh_allow"), [`${mesh.addresses["app-1"]} . tcp . 5432`, `${mesh.addresses["app-2"]} . tcp . 5432`].sort());
    t.deepEqual(elements("mesh_allow6"), [`${mesh.addresses6["app-1"]} . tcp . 5432`, `${mesh.addresses6["app-2"]} . tcp . 5432`].sort());
    t.deepEqual(elements("ssh_mesh"), [mesh.addresses.operator]);
    t.deepEqual(elements("ssh_mesh6"), [mesh.addresses6.operator]);
    t.regex(text, /iifname "wg0" ip6 saddr \. meta l4proto \. th dport @mesh_allow6 accept/);
    t.regex(text, /iifname "wg0" ip6 saddr @ssh_mesh6 tcp dport 22 accept/);
    t.regex(text, /iifname "wg0" icmpv6 type echo-request limit rate 100\/second accept/);
    const v4 = renderFirewall(firewallSpecFor(mesh.plan.policy, "db", new Map(Object.entries(mesh.addresses)), options));
    t.notRegex(v4, /mesh_allow6|ssh_mesh6|icmpv6 type echo-request/, "without addresses6 the table is the IPv4 mesh's");
});
