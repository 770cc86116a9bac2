// KvmHost without a VM: input validation, the NoCloud seed, the script's environment, and the
// resources it registers under mocks (the host key tracked, the seed with the private key on stdin only).
import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, plain } from "../helpers/mocks";

const recorded = installMocks();
import { KvmHost, macFor, planKvmHost, seedMetaData, seedNetworkConfig, seedUserData, tapFor, vmEnvironment } from "../../components/hosts/kvm";
import { kvmAddressFor, placeOnKvm } from "../../stacks/placements/kvm";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDIycLuWbBD0B8c0zg+pcGK7kPDPt57U0Bb+coynd+Ix";
const BASE = { image: "/var/lib/images/base.img", bridge: "br0", address: "10.90.0.10", authorizedKey: KEY };

async function settle(): Promise<void> {
    let last = -1;
    while (recorded.length !== last) {
        last = recorded.length;
        await new Promise((r) => setTimeout(r, 200));
    }
}

test("defaults: one vCPU, 1 GiB, 4 GiB of disk, a bridge, root, the VM named after the resource", (t) => {
    const p = planKvmHost("db", BASE);
    t.like(p, { vmName: "zt-db", hostname: "db", user: "root", vcpus: 1, memoryMiB: 1024, diskGiB: 4, network: "bridge",
        sshHost: "10.90.0.10", sshPort: 22, wireguardEndpoint: "10.90.0.10:51820", vmDir: "/var/lib/zerotrust-kvm/zt-db" });
    t.regex(p.mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
    t.is(p.mac, macFor("zt-db"));
    t.true(tapFor("zt-a-very-long-virtual-machine-name").length <= 15);
    t.not(tapFor("zt-a"), tapFor("zt-b"));
});

test("bad inputs are refused before anything exists, naming the field", (t) => {
    const bad: [Record<string, unknown>, RegExp][] = [
        [{ image: "relative.img" }, /^image: /],
        [{ image: "/x/$(reboot).img" }, /^image: /],
        [{ vcpus: 0 }, /^vcpus: /],
        [{ memoryMiB: 128 }, /^memoryMiB: .*at least 256/],
        [{ diskGiB: 1.5 }, /^diskGiB: /],
        [{ network: "macvtap" }, /^network: /],
        [{ bridge: "br0; reboot" }, /^bridge: /],
        [{ bridge: undefined }, /^bridge: .*needs/],
        [{ address: "10.90.0.300" }, /^address: /],
        [{ gateway: "10.91.0.1" }, /^gateway: .*inside 10.90.0.0\/24/],
        [{ authorizedKey: "not a key" }, /^authorizedKey: /],
        [{ user: "Root" }, /^user: /],
        [{ accelerator: "hvf" }, /^accelerator: /],
        [{ hypervisor: { host: "hv.example.com", hostKey: "nope" } }, /^hypervisor.hostKey: /],
        [{ hypervisor: { host: "hv example", hostKey: KEY } }, /^hypervisor.host: /],
    ];
    for (const [change, message] of bad) {
        t.throws(() => planKvmHost("db", { ...BASE, ...change } as any), { message }, JSON.stringify(change));
    }
    t.throws(() => planKvmHost("db", { ...BASE, network: "nat" }), { message: /^network: .*no bridge or address/ });
});

test("the NoCloud seed: hostname, the user's key, the host key, a static address on the VM's MAC", (t) => {
    const p = planKvmHost("db", { ...BASE, gateway: "10.90.0.1", prefixLength: 24 });
    t.deepEqual(JSON.parse(seedMetaData(p)), { "instance-id": "zt-db", "local-hostname": "db" });
    t.deepEqual(JSON.parse(seedNetworkConfig(p)), {
        version: 2, ethernets: { eth0: { match: { macaddress: p.mac }, "set-name": "eth0", addresses: ["10.90.0.10/24"], gateway4: "10.90.0.1" } },
    });
    const ud = seedUserData(p, KEY, "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n", "ssh-ed25519 AAAA host\n");
    t.true(ud.startsWith("#cloud-config\n"));
    const doc = JSON.parse(ud.slice("#cloud-config\n".length));
    t.deepEqual(doc.users, [{ name: "root", ssh_authorized_keys: [KEY] }]);
    t.is(doc.ssh_deletekeys, true);
    t.is(doc.ssh_keys.ed25519_public, "ssh-ed25519 AAAA host");
    t.regex(doc.ssh_keys.ed25519_private, /BEGIN OPENSSH PRIVATE KEY/);
});

test("nat: forwarded ports on the hypervisor, DHCP inside", (t) => {
    const p = planKvmHost("db", { image: BASE.image, network: "nat", authorizedKey: KEY, sshForwardPort: 2201, wireguardForwardPort: 51901 });
    t.like(p, { sshHost: "127.0.0.1", sshPort: 2201, wireguardEndpoint: "127.0.0.1:51901" });
    t.is(p.natForwards, "hostfwd=tcp:127.0.0.1:2201-:22,hostfwd=udp::51901-:51820");
    t.deepEqual(JSON.parse(seedNetworkConfig(p)).ethernets.eth0.dhcp4, true);
    const remote = planKvmHost("db", { image: BASE.image, network: "nat", authorizedKey: KEY, hypervisor: { host: "198.51.100.20", hostKey: KEY } });
    t.like(remote, { sshHost: "198.51.100.20", hypervisor: "root@198.51.100.20:22", natForwards: "hostfwd=tcp::2222-:22,hostfwd=udp::51820-:51820" });
    t.like(vmEnvironment(remote), { ZT_HYPERVISOR: "root@198.51.100.20:22", ZT_HYPERVISOR_HOST_KEY: KEY });
});

test("drivers: nat always runs under qemu, libvirt refuses nat and kvm:tcg, naming the field", (t) => {
    const nat = { image: BASE.image, network: "nat", authorizedKey: KEY };
    t.is(planKvmHost("db", nat).driver, "qemu", "auto would pick libvirt wherever libvirtd runs, which cannot forward ports");
    t.is(planKvmHost("db", BASE).driver, "auto");
    t.is(planKvmHost("db", { ...BASE, driver: "libvirt" }).driver, "libvirt");
    t.throws(() => planKvmHost("db", { ...nat, driver: "libvirt" }), { message: /^driver: .*use driver "qemu"/ });
    t.throws(() => planKvmHost("db", { ...BASE, driver: "libvirt", accelerator: "kvm:tcg" }), { message: /^accelerator: .*with libvirt/ });
    t.throws(() => planKvmHost("db", { ...BASE, driver: "xen" }), { message: /^driver: / });
});

test("route guards: the VM's own and the hypervisor's interfaces reach the script, checked as interface names", (t) => {
    const hv = { host: "10.213.20.5", hostKey: KEY, onlyVia: ["ztbr-kvmt", "zt-kvmt-op"] };
    const p = planKvmHost("db", { ...BASE, bridge: "br0", onlyVia: ["br0"], hypervisor: hv });
    t.like(vmEnvironment(p), { ZT_ONLY_VIA: "br0", ZT_HYPERVISOR: "root@10.213.20.5:22", ZT_HYPERVISOR_ONLY_VIA: "ztbr-kvmt zt-kvmt-op", ZT_HYPERVISOR_HOST_KEY: KEY });
    t.is(vmEnvironment(planKvmHost("db", BASE)).ZT_ONLY_VIA, "", "no guard unless asked for");
    t.throws(() => planKvmHost("db", { ...BASE, onlyVia: ["br0 eth0"] }), { message: /^onlyVia\[0\]: / });
    t.throws(() => planKvmHost("db", { ...BASE, hypervisor: { ...hv, onlyVia: ["$(x)"] } }), { message: /^hypervisor.onlyVia\[0\]: / });
    t.throws(() => planKvmHost("db", { ...BASE, hypervisor: { host: "10.213.20.5", hostKey: undefined as any } }), { message: /^hypervisor.hostKey: .*pin/ });
});

test("KvmHost: a hypervisor made in the same stack pins its host key once it is known", async (t) => {
    const hostKey = pulumi.output(Promise.resolve(KEY));
    new KvmHost("remote-1", { ...BASE, address: "10.90.0.12", hypervisor: { host: "10.90.0.2", hostKey } });
    await settle();
    const vm = recorded.find((r) => r.type === "command:local:Command" && r.name === "remote-1-vm")!;
    t.like(plain(vm.inputs.environment), { ZT_HYPERVISOR: "root@10.90.0.2:22", ZT_HYPERVISOR_HOST_KEY: KEY });
});

test("KvmHost: a tracked host key, one command whose stdin alone carries the private key", async (t) => {
    recorded.length = 0;
    const host = new KvmHost("app-1", { ...BASE, address: "10.90.0.11" });
    await settle();
    t.truthy(recorded.find((r) => r.type === "tls:index/privateKey:PrivateKey" && r.name === "app-1-host-key" && r.inputs.algorithm === "ED25519"));
    const vm = recorded.find((r) => r.type === "command:local:Command" && r.name === "app-1-vm")!;
    t.regex(plain(vm.inputs.create), /hosts\/kvm\/vm\.sh create$/);
    t.regex(plain(vm.inputs.delete), /hosts\/kvm\/vm\.sh delete$/);
    t.regex(plain(vm.inputs.stdin), /^#cloud-config\n.*BEGIN OPENSSH PRIVATE KEY/s);
    const env = JSON.stringify(vm.inputs.environment);
    t.notRegex(env, /PRIVATE KEY/);
    t.regex(env, /"ZT_HOST_PUBLIC_KEY":"ssh-ed25519 /);
    t.is(host.connection.host, "10.90.0.11");
    t.is(host.connection.ready, host.vm);
});

test("placeOnKvm: one VM per node, addresses from the subnet, the bootstrap source is the hypervisor's .1", async (t) => {
    recorded.length = 0;
    const { placed, bootstrapSshSources } = placeOnKvm([{ name: "gateway", tags: [] }, { name: "db", tags: [] }],
        { image: BASE.image, bridge: "br0", subnet: "10.90.0.0/24", vms: { db: { address: "10.90.0.50", memoryMiB: 4096 } } });
    await settle();
    t.deepEqual(bootstrapSshSources, ["10.90.0.1"]);
    t.is(placed.gateway.underlay, "10.90.0.10");
    t.is(placed.db.endpoint, "10.90.0.50:51820");
    t.deepEqual(recorded.filter((r) => r.type === "zerotrust:kvm:KvmHost").map((r) => r.name).filter((n) => n !== "app-1" && n !== "remote-1").sort(), ["db", "gateway"]);
    t.truthy(recorded.find((r) => r.name === "deployer-key"));
    const db = recorded.find((r) => r.name === "db-vm")!;
    t.is(plain(db.inputs.environment).ZT_MEMORY_MIB, "4096");
    t.throws(() => kvmAddressFor("10.90.0.0/28", 6), { message: /no room/ });
    t.throws(() => placeOnKvm([{ name: "db", tags: [] }], { image: BASE.image, bridge: "br0", subnet: "10.90.0.0/24", vms: { dbb: {} } }),
        { message: /^kvm.vms: "dbb"/ });
});
