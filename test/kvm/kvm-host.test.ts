// Real VMs, one per Debian release, deployed by the real Pulumi engine in one stack (an inline
// program on a file backend): each base image built from that release's packages (or reused from
// the cache), each VM booted under TCG here (nested KVM fails), reached over SSH with its pinned
// host key, configured by a ZeroTrustNode that renders for its release (WireGuard in the VM's own
// kernel, nftables, sshd, all through systemd), a WireGuard handshake with this machine as the
// operator peer, the drift check in sync, a reboot, in sync again, then destroyed.
// Each VM takes one of KvmHost's paths: debian-12 qemu on this machine, debian-13 libvirt on
// this machine (libvirtd started here when nothing runs it), debian-11 qemu on a hypervisor
// reached over SSH with a pinned host key (a lab host whose bridge br0 holds its uplink, so the VM
// sits on the lab's subnet). ZT_KVM_RELEASES (e.g. "debian-12") runs a subset.
// Slow (minutes): it runs with `npm run test:kvm`, not in the default `npm test`.
import test, { ExecutionContext } from "ava";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { KvmHost, tapFor } from "../../components/hosts/kvm";
import { LabHost, LabNetwork, LabOperator, labLayout } from "../../components/hosts/lab";
import { MeshNetwork } from "../../components/mesh-network";
import { RELEASES, SUPPORTED_RELEASES } from "../../components/render/releases";
import { assertRoutedVia } from "../../components/remote/route-guard";
import { StateResource, formatVerifyReport, verifyDeployment } from "../../components/verify";
import { ZeroTrustNode } from "../../components/zero-trust-node";
import { EngineStack } from "../helpers/engine";
import { removeLabLeftovers } from "../helpers/lab";
import { Agent, Libvirt, publishImage, runAsync, sleep, startLibvirtd, startSshAgent, stopLeftoverDaemons } from "./fixtures";

const ROOT = join(__dirname, "..", "..", "..");
const LAB = "kvmt";                    // bridge ztbr-kvmt, operator interface zt-kvmt-op
const LAYOUT = labLayout(LAB);
const LAB_INTERFACES = LAYOUT.interfaces;
const SUBNET = "10.213.20.0/24";       // not routed by this machine (LabNetwork checks)
const MESH = "10.213.21.0/24";
const HYPERVISOR = "hv";               // the lab host serving as remote hypervisor
const HYPERVISOR_ADDRESS = "10.213.20.5";
const HYPERVISOR_BRIDGE = "br0";       // in the hypervisor's namespace: its uplink and its VMs' taps
const STATE_DIR = "/var/lib/zerotrust-kvm";
const IMAGES = `${STATE_DIR}/images-${LAB}`;

interface VmCase {
    release: string;
    name: string;
    address: string;
    driver: "qemu" | "libvirt";
    /** On the lab hypervisor, over SSH; otherwise on this machine. */
    remote: boolean;
}

const ALL_CASES: VmCase[] = [
    { release: "debian-11", name: "vm-11", address: "10.213.20.12", driver: "qemu", remote: true },
    { release: "debian-12", name: "vm-12", address: "10.213.20.10", driver: "qemu", remote: false },
    { release: "debian-13", name: "vm-13", address: "10.213.20.11", driver: "libvirt", remote: false },
];

/** The releases ZT_KVM_RELEASES names (comma-separated), or all of them. */
function selectedCases(): VmCase[] {
    const wanted = (process.env.ZT_KVM_RELEASES ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    for (const r of wanted) {
        if (!SUPPORTED_RELEASES.includes(r)) throw new Error(`ZT_KVM_RELEASES: ${r} is not a supported release; use some of ${SUPPORTED_RELEASES.join(",")}`);
    }
    return wanted.length === 0 ? ALL_CASES : ALL_CASES.filter((c) => wanted.includes(c.release));
}

const CASES = selectedCases();
const REMOTE = CASES.some((c) => c.remote);
const LIBVIRT = CASES.some((c) => c.driver === "libvirt");
const vmNameOf = (c: VmCase) => `zt-${LAB}-${c.name}`;

let engine: EngineStack | undefined;
let libvirt: Libvirt | undefined;
let agent: Agent | undefined;
const images: Record<string, string> = {};
let deployerKey = "";
let operatorKey = "";
const hostKeys: Record<string, string> = {};
const meshAddresses: Record<string, string> = {};
const times: Record<string, Record<string, string>> = {};

function note(c: VmCase, what: string, seconds: number): void {
    (times[c.release] ??= {})[what] = `${seconds.toFixed(1)} s`;
}

async function program() {
    const lab = new LabNetwork(LAB, { subnet: SUBNET, alsoUnrouted: [MESH] });
    const deployer = new tls.PrivateKey("deployer-key", { algorithm: "ED25519" });
    let hypervisorReady: pulumi.Resource = lab.ready;
    let hypervisorKey: pulumi.Output<string> | undefined;
    if (REMOTE) {
        // The hypervisor trusts the key in the test's ssh-agent: KvmHost's script reaches it with
        // the deployer's own agent, as an operator's would.
        const hv = new LabHost(HYPERVISOR, { network: lab, address: HYPERVISOR_ADDRESS, authorizedKey: agent!.publicKey });
        hypervisorKey = hv.hostPublicKey;
        // Its uplink goes into a bridge, as on a hypervisor whose VMs share its network.
        const cidr = `${HYPERVISOR_ADDRESS}/${lab.prefixLength}`;
        hypervisorReady = new command.local.Command("hv-bridge", {
            create: `ip netns exec ${hv.namespace} /bin/bash -c 'set -e; ip link show ${HYPERVISOR_BRIDGE} >/dev/null 2>&1 || ip link add ${HYPERVISOR_BRIDGE} type bridge; ` +
                `ip link set ${HYPERVISOR_BRIDGE} up; ip link set eth0 master ${HYPERVISOR_BRIDGE}; ip addr del ${cidr} dev eth0 2>/dev/null || true; ip addr replace ${cidr} dev ${HYPERVISOR_BRIDGE}'`,
            delete: "true",   // the bridge goes with the hypervisor's namespace
        }, { dependsOn: [hv.connection.ready!] });
    }
    const vms = CASES.map((c) => new KvmHost(c.name, {
                // One vCPU each: three TCG guests share two cores here. With two each, the guests logged RCU
        // stalls and soft lockups and took 77-145 s to SSH; with one, 50-112 s (measured).
        image: images[c.release], vmName: vmNameOf(c), vcpus: 1, memoryMiB: 1024, diskGiB: 3,
        network: "bridge", bridge: c.remote ? HYPERVISOR_BRIDGE : lab.bridge, address: c.address,
        // The boot probe runs where the VM does: its route must leave through the VM's bridge.
        onlyVia: [c.remote ? HYPERVISOR_BRIDGE : lab.bridge],
        driver: c.driver, release: c.release,
        hypervisor: c.remote ? { host: HYPERVISOR_ADDRESS, hostKey: hypervisorKey!, onlyVia: lab.interfaces } : undefined,
        authorizedKey: deployer.publicKeyOpenssh, bootTimeoutSeconds: 600,
    }, { dependsOn: [c.remote ? hypervisorReady : lab.ready] }));
    const mesh = new MeshNetwork(LAB, {
        cidr: MESH,
        nodes: CASES.map((c, i) => ({ name: c.name, tags: ["vm"], endpoint: vms[i].wireguardEndpoint })),
        operators: [{ name: "operator", tags: ["admin"] }],
        rules: [{ from: "tag:admin", to: "*", ports: ["tcp/22"] }],
    });
    const operator = new LabOperator("operator", { network: lab, member: mesh.member("operator") });
    CASES.forEach((c, i) => new ZeroTrustNode(c.name, {
        member: mesh.member(c.name),
        // The VMs sit on the lab's subnet: the deployer must reach them through the lab's interfaces only.
        connection: { ...vms[i].connection, onlyVia: lab.interfaces, privateKey: deployer.privateKeyOpenssh },
        bootstrapSshSources: [lab.gatewayAddress],
        rollbackSeconds: 30,
        runsAfter: [operator.tunnel],
    }));
    return {
        deployerKey: pulumi.secret(deployer.privateKeyOpenssh),
        vms: Object.fromEntries(CASES.map((c, i) => [c.name, {
            hostKey: vms[i].hostPublicKey, meshAddress: mesh.addresses[c.name], stdout: vms[i].vm.stdout, stderr: vms[i].vm.stderr,
        }])),
    };
}

/** Runs a script in a VM over SSH with the deployer's key and the pinned host key. */
async function inVm(c: VmCase, script: string): Promise<string> {
    assertRoutedVia(c.address, LAB_INTERFACES);
    const dir = mkdtempSync(join(tmpdir(), "zt-kvm-test-"));
    try {
        writeFileSync(join(dir, "key"), deployerKey, { mode: 0o600 });
        writeFileSync(join(dir, "known_hosts"), `${c.address} ${hostKeys[c.name]}\n`);
        return await runAsync("ssh", ["-i", join(dir, "key"), "-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`,
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", `root@${c.address}`, script]);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** "key=value" lines of a VM's own account of itself. */
async function facts(c: VmCase): Promise<Record<string, string>> {
    const out = await inVm(c, [
        ". /etc/os-release; echo release=$ID-$VERSION_ID",
        "echo hostname=$(hostname)",
        "echo hostkey=$(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)",
        "echo active=$(systemctl is-active wg-quick@wg0 ssh | paste -sd' ')",
        // The firewall's oneshot unit loads the table at boot; a deploy loads it with nft -f.
        "echo firewall_unit=$(systemctl is-active zerotrust-firewall)",
        "echo uptime=$(cut -d. -f1 /proc/uptime)",
        "echo enabled=$(systemctl is-enabled wg-quick@wg0 zerotrust-firewall | paste -sd' ')",
        // The interface's kind as the kernel reports it, and no userspace WireGuard.
        "echo wg0=$(ip -d -o link show wg0 | grep -ow wireguard | head -n1)",
        "echo wireguard_go=$(pgrep -c -x wireguard-go || true)",
        "echo module=$(awk '$1 == \"wireguard\" {print \"loaded\"}' /proc/modules)",
        "echo firewall=$(nft list table inet zerotrust | grep -c 'chain input')",
        "echo allowusers=$(sshd -T | awk '$1 == \"allowusers\" {print $2}')",
        "echo now=$(date +%s)",
        "wg show wg0 latest-handshakes | sed 's/^/handshake /'",
    ].join("; "));
    const f: Record<string, string> = {};
    for (const line of out.trim().split("\n")) {
        // "handshake PUBLIC-KEY\tSECONDS": a key ends in "=", so it is no key=value line.
        const h = /^handshake (\S+)\s+(\d+)$/.exec(line);
        if (h) { f[`handshake ${h[1]}`] = h[2]; continue; }
        const i = line.indexOf("=");
        if (i > 0) f[line.slice(0, i)] = line.slice(i + 1);
    }
    return f;
}

/** Everything this test could have left behind, by name and by pid (never by a broad pattern). */
async function cleanupLeftovers(): Promise<void> {
    for (const c of ALL_CASES) {
        const env = { ...process.env, ZT_VM: vmNameOf(c), ZT_VM_DIR: `${STATE_DIR}/${vmNameOf(c)}`, ZT_NETWORK: "bridge", ZT_TAP: tapFor(vmNameOf(c)), ZT_DRIVER: c.driver };
        // A libvirt domain can only go while libvirtd runs; the script also removes the VM's files.
        if (c.driver === "libvirt" && spawnSync("virsh", ["-c", "qemu:///system", "uri"], { stdio: "ignore" }).status === 0) {
            spawnSync("virsh", ["-c", "qemu:///system", "destroy", vmNameOf(c)], { stdio: "ignore" });
            spawnSync("virsh", ["-c", "qemu:///system", "undefine", vmNameOf(c)], { stdio: "ignore" });
        }
        spawnSync("bash", [join(ROOT, "components/hosts/kvm/vm.sh"), "delete"], { env: { ...env, ZT_DRIVER: "qemu" }, stdio: "ignore" });
    }
    removeLabLeftovers(LAB, [HYPERVISOR]);
}

function leftovers(): string[] {
    const found: string[] = [];
    for (const c of CASES) {
        const dir = `${STATE_DIR}/${vmNameOf(c)}`;
        if (existsSync(dir)) found.push(`directory ${dir}`);
        if (spawnSync("ip", ["link", "show", tapFor(vmNameOf(c))], { stdio: "ignore" }).status === 0) found.push(`interface ${tapFor(vmNameOf(c))}`);
        if (c.driver === "libvirt" && libvirt && spawnSync("virsh", ["-c", "qemu:///system", "dominfo", vmNameOf(c)], { stdio: "ignore" }).status === 0) {
            found.push(`libvirt domain ${vmNameOf(c)}`);
        }
        // qemu's command line names the VM (libvirt's as guest=NAME): a check only, nothing is ended by it.
        const qemu = spawnSync("pgrep", ["-f", "--", `(-name |guest=)${vmNameOf(c)}[ ,]`], { encoding: "utf8" }).stdout.trim();
        if (qemu) found.push(`qemu process ${qemu} of ${vmNameOf(c)}`);
    }
    for (const link of LAB_INTERFACES) {
        if (spawnSync("ip", ["link", "show", link], { stdio: "ignore" }).status === 0) found.push(`interface ${link}`);
    }
    if (existsSync(`/run/netns/${LAYOUT.namespaceOf(HYPERVISOR)}`)) found.push(`namespace ${LAYOUT.namespaceOf(HYPERVISOR)}`);
    if (existsSync(LAYOUT.root)) found.push(`directory ${LAYOUT.root}`);
    return found;
}

test.before(async (t) => {
    process.chdir(ROOT);
    await stopLeftoverDaemons();   // a killed run's libvirtd, by its recorded pid
    const logs = mkdtempSync(join(tmpdir(), "zt-kvm-logs-"));
    if (LIBVIRT) {
        libvirt = await startLibvirtd(logs);
        t.log(libvirt.startedHere ? "libvirtd started by the test (no service manager runs it here)" : "libvirtd already running: used, left running");
    }
    await cleanupLeftovers();      // a run killed half-way must not break this one
    rmSync(IMAGES, { recursive: true, force: true });
    // One image per release, built in parallel (cached after the first run).
    await Promise.all(CASES.map(async (c) => {
        const started = Date.now();
        const out = await runAsync("bash", ["scripts/kvm/build-image.sh"], 1_800_000, { ZT_KVM_SUITE: RELEASES[c.release].codename })
            .catch((e) => { throw new Error(`build-image.sh for ${c.release}: ${e.stderr ?? e}`); });
        images[c.release] = out.trim().split("\n").pop()!;
        note(c, "image", (Date.now() - started) / 1000);
        t.log(`${c.release} (${RELEASES[c.release].codename}): base image ${images[c.release]} ready in ${times[c.release].image}`);
    }));
    for (const c of CASES) {
        if (c.driver === "libvirt" || c.remote) images[c.release] = publishImage(images[c.release], `${IMAGES}/${c.release}`);
    }
    if (REMOTE) {
        agent = await startSshAgent();
        process.env.SSH_AUTH_SOCK = agent.socket;   // the engine's commands inherit it
    }
    engine = await EngineStack.create("zt-kvm", "kvm", program);
});

// Runs whether or not the tests passed: the engine destroys what it still tracks, then anything it
// lost track of goes by name; the daemons this test started go last, by pid.
test.after.always(async () => {
    await engine?.dispose();
    await cleanupLeftovers();
    await libvirt?.stop();
    await agent?.stop();
    rmSync(IMAGES, { recursive: true, force: true });
    for (const [release, t] of Object.entries(times)) console.log(`kvm times ${release}: ${Object.entries(t).map(([k, v]) => `${k} ${v}`).join(", ")}`);
});

test.serial("a KvmHost per release boots, answers SSH with its pinned host key, and a ZeroTrustNode configures it", async (t) => {
    const started = Date.now();
    const done: Record<string, number> = {};
    const result = await engine!.up({
        onEvent: (e) => {
            const urn = e.resOutputsEvent?.metadata.urn;
            if (urn) done[urn.split("::").pop()!] = Date.now();
        },
    });
    t.is(result.error, undefined);
    t.log(`deployed ${CASES.length} VMs in ${((Date.now() - started) / 1000).toFixed(1)} s: ${result.ran.length} commands`);
    deployerKey = result.outputs.deployerKey.value;
    const vms = result.outputs.vms.value as Record<string, { hostKey: string; meshAddress: string; stdout: string; stderr: string }>;
    operatorKey = spawnSync("wg", ["show", LAYOUT.operatorInterface, "public-key"], { encoding: "utf8" }).stdout.trim();
    t.regex(operatorKey, /^[A-Za-z0-9+/]{43}=$/, "this machine's operator interface is up");
    for (const c of CASES) {
        const vm = vms[c.name];
        hostKeys[c.name] = vm.hostKey;
        meshAddresses[c.name] = vm.meshAddress;
        const boot = /^vm \S+ \((\w+)\): SSH at .* answered with the pinned host key ([0-9.]+) s after start/m.exec(vm.stdout);
        t.truthy(boot, `${c.release}: the VM's script reports its boot-to-SSH time`);
        t.is(boot?.[1], c.driver, `${c.release}: made through ${c.driver}`);
        note(c, "boot to SSH", Number(boot?.[2]));
        // The node's own commands: from its VM answering to the last of them done.
        const own = Object.entries(done).filter(([n]) => n.startsWith(`${c.name}-`) && n !== `${c.name}-vm` && n !== `${c.name}-host-key`);
        note(c, "configure", (Math.max(...own.map(([, at]) => at)) - done[`${c.name}-vm`]) / 1000);
        const accel = vm.stderr.trim().split("\n").filter((l) => /accel|virt-type/.test(l)).join("; ");
        t.log(`${c.release} (${c.driver}${c.remote ? `, on hypervisor ${HYPERVISOR_ADDRESS}` : ""}): boot to SSH ${boot?.[2]} s (${accel}), configured ${times[c.release].configure} later`);
    }

    // Every VM at once: a VM's SSH login costs seconds under TCG.
    await Promise.all(CASES.map(async (c) => {
        // Through the tunnel: this machine (the operator peer) reaches the VM's mesh address.
        assertRoutedVia(meshAddresses[c.name], LAB_INTERFACES);
        await runAsync("ping", ["-c", "3", "-W", "3", "-I", LAYOUT.operatorInterface, meshAddresses[c.name]]);
        const f = await facts(c);
        t.is(f.release, c.release, `${c.name} runs ${c.release}`);
        t.is(f.hostname, c.name);
        t.is(f.hostkey, hostKeys[c.name].split(" ").slice(0, 2).join(" "));
        t.is(f.active, "active active", `${c.release}: wg-quick@wg0 and sshd active`);
        t.is(f.enabled, "enabled enabled", `${c.release}: enabled for the next boot`);
        t.is(f.wg0, "wireguard", `${c.release}: wg0 is the kernel's WireGuard interface`);
        t.is(f.wireguard_go, "0", `${c.release}: no wireguard-go`);
        t.is(f.module, "loaded", `${c.release}: the wireguard module`);
        t.is(f.firewall, "1", `${c.release}: the zerotrust table with its input chain`);
        t.is(f.allowusers, "root");
        // Read with the VM's own clock, which may differ from this machine's.
        const at = Number(f[`handshake ${operatorKey}`]);
        t.true(at > 0, `${c.release}: a handshake with the operator seen from the VM (${JSON.stringify(f)})`);
        t.log(`${c.release}: handshake with the operator ${Number(f.now) - at} s ago, in the VM's kernel (wg0 type wireguard, no wireguard-go)`);
        // SSH over the mesh, with the same pinned key.
        t.is(await keyscan(meshAddresses[c.name]), hostKeys[c.name].split(" ").slice(0, 2).join(" "));
        await checkWhereItRuns(t, c);
    }));
});

/** The VM runs where its case says: libvirt's domain, this machine's qemu, or qemu in the hypervisor's namespace. */
async function checkWhereItRuns(t: ExecutionContext, c: VmCase): Promise<void> {
    const name = vmNameOf(c);
    if (c.driver === "libvirt") {
        t.is((await runAsync("virsh", ["-c", "qemu:///system", "domstate", name])).trim(), "running");
        t.regex(await runAsync("virsh", ["-c", "qemu:///system", "dumpxml", name]), /<domain type='qemu'/, "TCG under libvirt (KVM boots no guest here)");
        return;
    }
    const pid = readFileSync(`${STATE_DIR}/${name}/qemu.pid`, "utf8").trim();
    const ns = spawnSync("ip", ["netns", "identify", pid], { encoding: "utf8" }).stdout.trim();
    const tap = c.remote
        ? spawnSync("ip", ["-n", LAYOUT.namespaceOf(HYPERVISOR), "-o", "link", "show", tapFor(name)], { encoding: "utf8" }).stdout
        : spawnSync("ip", ["-o", "link", "show", tapFor(name)], { encoding: "utf8" }).stdout;
    t.is(ns, c.remote ? LAYOUT.namespaceOf(HYPERVISOR) : "", `${c.release}: qemu runs ${c.remote ? "on the hypervisor" : "on this machine"}`);
    t.regex(tap, new RegExp(`master ${c.remote ? HYPERVISOR_BRIDGE : LAYOUT.bridge} `), `${c.release}: its tap is on the ${c.remote ? "hypervisor's" : "lab's"} bridge`);
}

/** The drift check of every VM: each concern in sync, its systemd units as the stack left them. */
async function expectInSync(t: ExecutionContext): Promise<void> {
    const exported = await engine!.stack.exportStack();
    const report = await verifyDeployment((exported.deployment as { resources: StateResource[] }).resources);
    t.log(formatVerifyReport(report));
    t.deepEqual(report.concerns.map((c) => `${c.resource}: ${c.state}`).sort(),
        CASES.flatMap((c) => [`${c.name}-firewall: in sync`, `${c.name}-ssh: in sync`, `${c.name}-wireguard: in sync`]).sort());
    for (const c of CASES) {
        const live = report.concerns.filter((r) => r.node === c.name).flatMap((r) => r.live ?? []);
        for (const line of ["unit wg-quick@wg0.service enabled", "unit wg-quick@wg0.service active", "unit zerotrust-firewall.service enabled"]) {
            t.true(live.includes(line), `${c.release}: ${line}`);
        }
    }
}

test.serial("the drift check finds every VM as the stack left it, its systemd units included", async (t) => {
    await expectInSync(t);
});

test.serial("after a reboot each VM comes back with its WireGuard interface and firewall, through systemd, in sync", async (t) => {
    await Promise.all(CASES.map(async (c) => {
        const pinned = hostKeys[c.name].split(" ").slice(0, 2).join(" ");
        const started = Date.now();
        await inVm(c, "systemctl reboot").catch(() => undefined);   // the session may end before ssh returns
        while (await keyscan(c.address) === pinned && Date.now() - started < 120_000) await sleep(500);
        while (await keyscan(c.address) !== pinned) {
            if (Date.now() - started > 600_000) throw new Error(`${c.release}: no SSH within 600 s of the reboot`);
            await sleep(1000);
        }
        note(c, "reboot to SSH", (Date.now() - started) / 1000);
        // wg-quick@wg0 may still be starting when sshd answers.
        await inVm(c, "systemctl is-system-running --wait >/dev/null 2>&1 || true");
        // The operator still holds the session from before the reboot; WireGuard starts a new one
        // when the old one gets no answer (about 15 s).
        t.true(await pingUntil(meshAddresses[c.name], 90), `${c.release}: the VM answers over the mesh after the reboot`);
        const f = await facts(c);
        t.is(f.active, "active active", `${c.release}: wg-quick@wg0 and sshd back through systemd`);
        t.is(f.firewall_unit, "active", `${c.release}: the firewall loaded at boot by its unit`);
        t.is(f.wg0, "wireguard");
        t.is(f.wireguard_go, "0");
        t.is(f.firewall, "1");
        const at = Number(f[`handshake ${operatorKey}`]);
        t.true(at >= Number(f.now) - Number(f.uptime), `${c.release}: a new handshake since the VM booted`);
        note(c, "reboot to mesh", (Date.now() - started) / 1000);
        // What of it was going down: the time before the new boot began.
        note(c, "shutdown", (Date.now() - started) / 1000 - Number(f.uptime));
        // Where the boot's time went, by systemd's account (TCG makes every step slow).
        const chain = (await inVm(c, "systemd-analyze --no-pager | head -n 1; systemd-analyze blame --no-pager | head -n 4 | paste -sd,")).trim();
        t.log(`${c.release}: reboot to SSH ${times[c.release]["reboot to SSH"]} (shutdown ${times[c.release].shutdown}), to a new handshake ${times[c.release]["reboot to mesh"]}; ${chain.replace(/\s+/g, " ")}`);
    }));
    await expectInSync(t);
});

async function pingUntil(address: string, seconds: number): Promise<boolean> {
    assertRoutedVia(address, LAB_INTERFACES);
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
        if (await runAsync("ping", ["-c", "1", "-W", "2", "-I", LAYOUT.operatorInterface, address]).then(() => true, () => false)) return true;
        await sleep(1000);
    }
    return false;
}

async function keyscan(address: string): Promise<string> {
    assertRoutedVia(address, LAB_INTERFACES);
    const out = await runAsync("ssh-keyscan", ["-T", "5", "-t", "ed25519", address], 20_000).catch(() => "");
    return out.trim().split(" ").slice(1, 3).join(" ");
}

test.serial("a second deployment runs nothing; destroy removes every VM, its disks, its tap, the hypervisor and the lab", async (t) => {
    const again = await engine!.up();
    t.is(again.error, undefined);
    t.deepEqual(again.ran, []);
    const started = Date.now();
    await engine!.destroy();
    t.log(`destroyed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    t.deepEqual(leftovers(), []);
});
