// A real VM on this machine, deployed by the real Pulumi engine (an inline program on a file
// backend): the base image built from Debian packages (or reused from the cache), one KvmHost
// booted under qemu (TCG here: nested KVM fails), reached over SSH with its pinned host key,
// configured by a ZeroTrustNode (WireGuard in the VM's kernel, nftables, sshd, all through
// systemd), a WireGuard handshake with this machine as the operator peer, then destroyed.
// Slow (minutes): it runs with `npm run test:kvm`, not in the default `npm test`.
import test, { ExecutionContext } from "ava";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { execFileSync, spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { KvmHost, tapFor } from "../../components/hosts/kvm";
import { LabNetwork, LabOperator, labLayout } from "../../components/hosts/lab";
import { MeshNetwork } from "../../components/mesh-network";
import { assertRoutedVia } from "../../components/remote/route-guard";
import { StateResource, formatVerifyReport, verifyDeployment } from "../../components/verify";
import { ZeroTrustNode } from "../../components/zero-trust-node";
import { EngineStack } from "../helpers/engine";
import { removeLabLeftovers } from "../helpers/lab";

const ROOT = join(__dirname, "..", "..", "..");
const LAB = "kvmt";                    // bridge ztbr-kvmt, operator interface zt-kvmt-op
const LAYOUT = labLayout(LAB);
const LAB_INTERFACES = LAYOUT.interfaces;
const SUBNET = "10.213.20.0/24";       // not routed by this machine (LabNetwork checks)
const MESH = "10.213.21.0/24";
const VM_ADDRESS = "10.213.20.10";
const VM = "vm-1";
const VM_NAME = `zt-${LAB}-${VM}`;
const STATE_DIR = "/var/lib/zerotrust-kvm";

let engine: EngineStack | undefined;
let image = "";
let deployerKey = "";
let hostKey = "";
let meshAddress = "";

async function program() {
    const lab = new LabNetwork(LAB, { subnet: SUBNET, alsoUnrouted: [MESH] });
    const deployer = new tls.PrivateKey("deployer-key", { algorithm: "ED25519" });
    const vm = new KvmHost(VM, {
        image, vmName: VM_NAME, vcpus: 2, memoryMiB: 1024, diskGiB: 3,
        network: "bridge", bridge: lab.bridge, address: VM_ADDRESS,
        authorizedKey: deployer.publicKeyOpenssh, bootTimeoutSeconds: 600,
    }, { dependsOn: [lab.ready] });
    const mesh = new MeshNetwork(LAB, {
        cidr: MESH,
        nodes: [{ name: VM, tags: ["vm"], endpoint: vm.wireguardEndpoint }],
        operators: [{ name: "operator", tags: ["admin"] }],
        rules: [{ from: "tag:admin", to: "*", ports: ["tcp/22"] }],
    });
    const operator = new LabOperator("operator", { network: lab, mesh, member: "operator" });
    new ZeroTrustNode(VM, {
        mesh,
        // The VM sits on the lab's bridge: the deployer must reach it through the lab's interfaces only.
        connection: { ...vm.connection, onlyVia: lab.interfaces, privateKey: deployer.privateKeyOpenssh },
        bootstrapSshSources: [lab.gatewayAddress],
        rollbackSeconds: 30,
        runsAfter: [operator.tunnel],
    });
    return {
        deployerKey: pulumi.secret(deployer.privateKeyOpenssh),
        hostKey: vm.hostPublicKey,
        meshAddress: mesh.addresses[VM],
        vmStdout: vm.vm.stdout,
        vmStderr: vm.vm.stderr,
    };
}

/** Runs a command in the VM over SSH with the deployer's key and the pinned host key. */
function inVm(cmd: string): string {
    assertRoutedVia(VM_ADDRESS, LAB_INTERFACES);
    const dir = mkdtempSync(join(tmpdir(), "zt-kvm-test-"));
    try {
        writeFileSync(join(dir, "key"), deployerKey, { mode: 0o600 });
        writeFileSync(join(dir, "known_hosts"), `${VM_ADDRESS} ${hostKey}\n`);
        const r = spawnSync("ssh", ["-i", join(dir, "key"), "-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`,
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", `root@${VM_ADDRESS}`, cmd], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`ssh ${cmd}: ${r.stderr}`);
        return r.stdout;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** Everything this test could have left behind, by name and by pid (never by a broad pattern). */
function cleanupLeftovers(): void {
    const env = { ...process.env, ZT_VM: VM_NAME, ZT_VM_DIR: `${STATE_DIR}/${VM_NAME}`, ZT_NETWORK: "bridge", ZT_TAP: tapFor(VM_NAME), ZT_DRIVER: "qemu" };
    spawnSync("bash", [join(ROOT, "components/hosts/kvm/vm.sh"), "delete"], { env, stdio: "ignore" });
    removeLabLeftovers(LAB, []);
}

function leftovers(): string[] {
    const found: string[] = [];
    const pidFile = `${STATE_DIR}/${VM_NAME}/qemu.pid`;
    if (existsSync(`${STATE_DIR}/${VM_NAME}`)) found.push(`directory ${STATE_DIR}/${VM_NAME}`);
    if (existsSync(pidFile) && existsSync(`/proc/${readFileSync(pidFile, "utf8").trim()}`)) found.push("qemu process");
    for (const link of [tapFor(VM_NAME), ...LAB_INTERFACES]) {
        if (spawnSync("ip", ["link", "show", link], { stdio: "ignore" }).status === 0) found.push(`interface ${link}`);
    }
    if (existsSync(LAYOUT.root)) found.push(`directory ${LAYOUT.root}`);
    return found;
}

test.before(async (t) => {
    process.chdir(ROOT);
    cleanupLeftovers(); // a run killed half-way must not break this one
    const started = Date.now();
    const out = execFileSync("bash", ["scripts/kvm/build-image.sh"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    image = out.trim().split("\n").pop()!;
    t.log(`base image ${image} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    engine = await EngineStack.create("zt-kvm", "kvm", program);
});

// Runs whether or not the tests passed: the engine destroys what it still tracks, then anything it
// lost track of goes by name.
test.after.always(async () => {
    await engine?.dispose();
    cleanupLeftovers();
});

test.serial("a KvmHost boots, answers SSH with its pinned host key, and a ZeroTrustNode configures it", async (t) => {
    const started = Date.now();
    const result = await engine!.up();
    t.is(result.error, undefined);
    t.log(`deployed in ${((Date.now() - started) / 1000).toFixed(1)} s: ${result.ran.join(", ")}`);
    const { outputs } = result;
    const vmStdout: string = outputs.vmStdout.value;
    t.log(vmStdout.trim());
    const boot = /answered with the pinned host key ([0-9.]+) s after start/.exec(vmStdout);
    t.truthy(boot, "the VM's script reports its boot-to-SSH time");
    const accel = (outputs.vmStderr.value as string).trim().split("\n").filter((l) => /accel/.test(l)).join("; ");
    t.log(`boot to SSH: ${boot?.[1]} s (${accel})`);

    deployerKey = outputs.deployerKey.value;
    hostKey = outputs.hostKey.value;
    meshAddress = outputs.meshAddress.value;

    // The VM is what its seed says, and its systemd ran what ZeroTrustNode laid down.
    t.is(inVm("hostname").trim(), VM);
    t.is(inVm("cat /etc/ssh/ssh_host_ed25519_key.pub").trim().split(" ").slice(0, 2).join(" "), hostKey.split(" ").slice(0, 2).join(" "));
    t.is(inVm("systemctl is-active wg-quick@wg0 ssh").trim().split("\n").join(" "), "active active");
    // The firewall is loaded now (nft -f) and its unit enabled for the next boot (checked below).
    t.is(inVm("systemctl is-enabled wg-quick@wg0 zerotrust-firewall").trim().split("\n").join(" "), "enabled enabled");
    t.regex(inVm("lsmod"), /^wireguard /m, "the VM's own kernel runs WireGuard");
    t.regex(inVm("nft list table inet zerotrust"), /chain input/);
    t.regex(inVm("sshd -T | grep -i '^allowusers'"), /allowusers root/i);

    // Through the tunnel: this machine (the operator peer) reaches the VM's mesh address.
    const ping = spawnSync("ping", ["-c", "3", "-W", "3", "-I", LAYOUT.operatorInterface, meshAddress], { encoding: "utf8" });
    t.is(ping.status, 0, ping.stdout + ping.stderr);
    // Read with the VM's own clock, which may differ from this machine's.
    const [handshakes, now] = inVm("wg show wg0 latest-handshakes; date +%s").trim().split("\n");
    const [peer, at] = handshakes.split("\t");
    const age = Number(now) - Number(at);
    t.true(Number(at) > 0, `a handshake seen from the VM: ${handshakes}`);
    t.log(`WireGuard handshake seen from the VM: peer ${peer} (the operator) at ${new Date(Number(at) * 1000).toISOString()}, ${age} s ago`);
    t.log(`wg show wg0 (in the VM):\n${inVm("wg show wg0 | grep -v 'preshared key'")}`);
    // SSH over the mesh, with the same pinned key.
    t.is(keyscan(meshAddress), hostKey.split(" ").slice(0, 2).join(" "));
});

/** The drift check of the VM: every concern in sync, its systemd units as the stack left them. */
async function expectInSync(t: ExecutionContext): Promise<void> {
    const exported = await engine!.stack.exportStack();
    const report = await verifyDeployment((exported.deployment as { resources: StateResource[] }).resources);
    t.log(formatVerifyReport(report));
    t.deepEqual(report.concerns.map((c) => `${c.resource}: ${c.state}`).sort(), [`${VM}-firewall: in sync`, `${VM}-ssh: in sync`, `${VM}-wireguard: in sync`]);
    const live = report.concerns.flatMap((c) => c.live ?? []);
    for (const line of ["unit wg-quick@wg0.service enabled", "unit wg-quick@wg0.service active", "unit zerotrust-firewall.service enabled"]) t.true(live.includes(line), line);
}

test.serial("the drift check finds the VM as the stack left it, its systemd units included", async (t) => {
    await expectInSync(t);
});

test.serial("after a reboot the VM comes back with its WireGuard interface and firewall, through systemd, in sync", async (t) => {
    try { inVm("systemctl reboot"); } catch { /* the session may end before ssh returns */ }
    const started = Date.now();
    const pinned = hostKey.split(" ").slice(0, 2).join(" ");
    while (keyscan(VM_ADDRESS) === pinned && Date.now() - started < 120_000) await new Promise((r) => setTimeout(r, 500));
    while (keyscan(VM_ADDRESS) !== pinned) {
        if (Date.now() - started > 600_000) t.fail("the VM did not answer SSH within 600 s of the reboot");
        await new Promise((r) => setTimeout(r, 1000));
    }
    t.log(`reboot to SSH: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // wg-quick@wg0 may still be starting when sshd answers.
    inVm("systemctl is-system-running --wait >/dev/null 2>&1 || true");
    t.is(inVm("systemctl is-active wg-quick@wg0 zerotrust-firewall ssh").trim().split("\n").join(" "), "active active active");
    t.regex(inVm("nft list table inet zerotrust"), /chain input/);
    // The operator still holds the session from before the reboot; WireGuard starts a new one
    // when the old one gets no answer (about 15 s).
    t.true(await pingUntil(meshAddress, 60), "the VM answers over the mesh after the reboot");
    const at = Number(inVm("wg show wg0 latest-handshakes").trim().split("\t")[1]);
    t.true(at * 1000 > started - 2000, "a new handshake after the reboot");
    t.log(`handshake after the reboot at ${new Date(at * 1000).toISOString()}`);
    await expectInSync(t);
});

async function pingUntil(address: string, seconds: number): Promise<boolean> {
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
        if (spawnSync("ping", ["-c", "1", "-W", "2", "-I", LAYOUT.operatorInterface, address]).status === 0) return true;
        await new Promise((r) => setTimeout(r, 1000));
    }
    return false;
}

function keyscan(address: string): string {
    assertRoutedVia(address, LAB_INTERFACES);
    return spawnSync("ssh-keyscan", ["-T", "5", "-t", "ed25519", address], { encoding: "utf8" }).stdout.trim().split(" ").slice(1, 3).join(" ");
}

test.serial("a second deployment runs nothing; destroy removes the VM, its disks, its tap and the lab", async (t) => {
    const again = await engine!.up();
    t.is(again.error, undefined);
    t.deepEqual(again.ran, []);
    await engine!.destroy();
    t.deepEqual(leftovers(), []);
});
