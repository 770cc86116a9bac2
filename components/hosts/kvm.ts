// KVM hosts: a virtual machine made from a base image on a hypervisor, with a cloud-init NoCloud
// seed (hostname, user, the deployer's SSH key, and an SSH host key that is a tracked resource, so
// it is pinned from the first connection). libvirt (virt-install) where libvirtd runs, qemu
// directly where it does not. The VM's script is components/hosts/kvm/vm.sh; it runs on this
// machine, or on a hypervisor over SSH.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { createHash } from "crypto";
import { assetPath, commandPath } from "../assets";
import {
    ValidationError, checkHost, checkIPv4, checkInterfaceName, checkName, checkOpenSshPublicKey, checkPath, checkPort, checkPositiveInt,
    checkUserName, cidrContains, formatIPv4, ipFamily, parseCidr, parseIPv4,
} from "../validate";
import { DEFAULT_RELEASE, releaseProfile } from "../render/releases";
import { HostConnection } from "./connection";

/** A hypervisor reached over SSH. The deployer's own SSH agent or keys authenticate to it. */
export interface KvmHypervisor {
    /** Address or DNS name of the hypervisor. */
    host: string;
    /** SSH port. Default: 22. */
    port?: number;
    /** Login user; it must be able to run qemu (or virsh) and create tap devices. Default: "root". */
    user?: string;
    /** The hypervisor's SSH public key ("ssh-ed25519 AAAA..."), pinned. An output (a host made in the same stack) is checked once known. */
    hostKey: pulumi.Input<string>;
    /**
     * Interfaces of the deploying machine the route to `host` must leave through; the VM's script
     * refuses to connect otherwise (a lab hypervisor: the lab's own interfaces). Default: any route.
     */
    onlyVia?: string[];
}

export interface KvmHostArgs {
    /** Where the VM runs. Default: this machine. */
    hypervisor?: KvmHypervisor;
    /** Path of the base image on the hypervisor (raw or qcow2; scripts/kvm/build-image.sh makes one). It is never written: each VM gets a copy-on-write overlay. */
    image: string;
    /** Virtual CPUs. Default: 1. */
    vcpus?: number;
    /** Memory in MiB. Default: 1024. */
    memoryMiB?: number;
    /** Disk size in GiB (the overlay grows to it; the guest grows its file system). Default: 4. */
    diskGiB?: number;
    /** "bridge" (a tap on `bridge`, static `address`) or "nat" (qemu user networking, reached through forwarded ports on the hypervisor). Default: "bridge". */
    network?: string;
    /** The hypervisor's bridge the VM is attached to (network "bridge"). It must exist. */
    bridge?: string;
    /** Static IPv4 address of the VM on the bridge, given through the seed's network config (network "bridge"). */
    address?: string;
    /** Prefix length of `address`. Default: 24. */
    prefixLength?: number;
    /** Default gateway of the VM. Default: none (the VM talks only to its subnet). */
    gateway?: string;
    /** Hypervisor port forwarded to the VM's SSH (network "nat"). Default: 2222. */
    sshForwardPort?: number;
    /** Hypervisor UDP port forwarded to the VM's WireGuard port 51820 (network "nat"). Default: 51820. */
    wireguardForwardPort?: number;
    /** OpenSSH public key allowed to log in as `user` (the deployer's key). */
    authorizedKey: pulumi.Input<string>;
    /** The user that key logs in as. zerotrust configures hosts as root. Default: "root". */
    user?: string;
    /** The VM's host name. Default: the resource name. */
    hostname?: string;
    /** The VM's name on the hypervisor (libvirt domain, qemu -name, its directory). Default: "zt-<name>". */
    vmName?: string;
    /** Directory on the hypervisor for VM disks and seeds. Default: "/var/lib/zerotrust-kvm". */
    stateDir?: string;
    /** "auto" (KVM when it works, TCG otherwise), "kvm", "tcg" or "kvm:tcg" (qemu only). Default: "auto". */
    accelerator?: string;
    /**
     * "auto" (libvirt where libvirtd answers, qemu otherwise), "libvirt" or "qemu". Network "nat" is
     * qemu's own user networking, so it always runs under qemu. Default: "auto".
     */
    driver?: string;
    /**
     * Interfaces the route to the VM's address must leave through where its script runs (this
     * machine, or the hypervisor), checked before every probe of the VM's SSH: the VM's bridge, say.
     * Default: any route.
     */
    onlyVia?: string[];
    /** Seconds to wait for SSH with the pinned host key after starting the VM. Default: 600. */
    bootTimeoutSeconds?: number;
    /**
     * The Debian release the image is made of ("debian-11", "debian-12", "debian-13"; build-image.sh
     * with ZT_KVM_SUITE makes one of each): what the node on this VM renders for. Default: "debian-12".
     */
    release?: string;
}

const hash = (s: string) => createHash("sha256").update(s).digest("hex");

/** A stable locally administered MAC address for a VM (qemu's 52:54:00 prefix). */
export function macFor(vmName: string): string {
    const h = hash(vmName);
    return `52:54:00:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}

/** The VM's tap device on the hypervisor (at most 15 characters). */
export function tapFor(vmName: string): string {
    return `ztt${hash(vmName).slice(0, 10)}`;
}

/** A KvmHost's settings, validated: everything but the keys. */
export interface KvmPlan {
    vmName: string;
    hostname: string;
    user: string;
    image: string;
    vcpus: number;
    memoryMiB: number;
    diskGiB: number;
    network: "bridge" | "nat";
    bridge: string;
    address: string;
    prefixLength: number;
    gateway?: string;
    mac: string;
    tap: string;
    vmDir: string;
    /** Where the deployer dials SSH, and on which port. */
    sshHost: string;
    sshPort: number;
    /** Where mesh peers reach the VM's WireGuard. */
    wireguardEndpoint: string;
    natForwards: string;
    hypervisor?: string;
    /** The pinned key when it is known at plan time (an output is added by KvmHost once it resolves). */
    hypervisorHostKey?: string;
    hypervisorOnlyVia: string[];
    onlyVia: string[];
    accelerator: string;
    driver: string;
    bootTimeoutSeconds: number;
}

/** Validates a KvmHost's arguments (pure; throws ValidationError naming the field). */
export function planKvmHost(name: string, args: KvmHostArgs): KvmPlan {
    checkName("KvmHost name", name);
    const vmName = args.vmName ?? `zt-${name}`;
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(vmName)) throw new ValidationError("vmName", vmName, "use 1-63 characters: lowercase letters, digits and '-', starting with a letter");
    const hostname = checkName("hostname", args.hostname ?? name);
    const user = checkUserName("user", args.user ?? "root");
    const image = checkPath("image", args.image);
    const vcpus = checkPositiveInt("vcpus", args.vcpus ?? 1, 256);
    const memoryMiB = checkPositiveInt("memoryMiB", args.memoryMiB ?? 1024, 4 * 1024 * 1024);
    if (memoryMiB < 256) throw new ValidationError("memoryMiB", memoryMiB, "give the VM at least 256 MiB");
    const diskGiB = checkPositiveInt("diskGiB", args.diskGiB ?? 4, 65536);
    const network = args.network ?? "bridge";
    if (network !== "bridge" && network !== "nat") throw new ValidationError("network", network, "use \"bridge\" or \"nat\"");
    const stateDir = checkPath("stateDir", args.stateDir ?? "/var/lib/zerotrust-kvm");
    const accelerator = args.accelerator ?? "auto";
    if (!["auto", "kvm", "tcg", "kvm:tcg"].includes(accelerator)) throw new ValidationError("accelerator", accelerator, "use \"auto\", \"kvm\", \"tcg\" or \"kvm:tcg\"");
    if (!["auto", "qemu", "libvirt"].includes(args.driver ?? "auto")) throw new ValidationError("driver", args.driver, "use \"auto\", \"qemu\" or \"libvirt\"");
    if (args.driver === "libvirt" && network === "nat") {
        throw new ValidationError("driver", args.driver, "network \"nat\" is qemu's user networking with forwarded ports, which libvirt does not do: use driver \"qemu\" (or network \"bridge\")");
    }
    if (args.driver === "libvirt" && accelerator === "kvm:tcg") {
        throw new ValidationError("accelerator", accelerator, "\"kvm:tcg\" is a qemu fallback; with libvirt use \"auto\", \"kvm\" or \"tcg\"");
    }
    // "auto" would pick libvirt wherever libvirtd runs, which cannot forward ports for "nat".
    const driver = network === "nat" ? "qemu" : args.driver ?? "auto";
    const onlyVia = (args.onlyVia ?? []).map((d, i) => checkInterfaceName(`onlyVia[${i}]`, d));
    const bootTimeoutSeconds = checkPositiveInt("bootTimeoutSeconds", args.bootTimeoutSeconds ?? 600, 7200);
    if (typeof args.authorizedKey === "string") checkOpenSshPublicKey("authorizedKey", args.authorizedKey);

    let hypervisor: string | undefined;
    let hypervisorHostKey: string | undefined;
    let hypervisorOnlyVia: string[] = [];
    if (args.hypervisor) {
        const h = args.hypervisor;
        const host = checkHost("hypervisor.host", h.host);
        // vm.sh splits user@host:port at the last ':'.
        if (ipFamily(host) === 6) throw new ValidationError("hypervisor.host", h.host, "an IPv6 hypervisor address is not supported yet; give its DNS name or IPv4 address");
        const port = checkPort("hypervisor.port", h.port ?? 22);
        hypervisor = `${checkUserName("hypervisor.user", h.user ?? "root")}@${host}:${port}`;
        if (typeof h.hostKey === "string") hypervisorHostKey = checkOpenSshPublicKey("hypervisor.hostKey", h.hostKey);
        else if (h.hostKey === undefined || h.hostKey === null) throw new ValidationError("hypervisor.hostKey", h.hostKey, "pin the hypervisor's SSH host key (ssh-keyscan -t ed25519 HOST)");
        hypervisorOnlyVia = (h.onlyVia ?? []).map((d, i) => checkInterfaceName(`hypervisor.onlyVia[${i}]`, d));
    }

    let bridge = "", address = "", prefixLength = 24, gateway: string | undefined, sshHost: string, sshPort = 22;
    let wireguardEndpoint: string, natForwards = "";
    if (network === "bridge") {
        if (args.bridge === undefined) throw new ValidationError("bridge", args.bridge, "network \"bridge\" needs the name of the hypervisor's bridge");
        bridge = checkInterfaceName("bridge", args.bridge);
        if (args.address === undefined) throw new ValidationError("address", args.address, "network \"bridge\" needs the VM's static IPv4 address");
        address = checkIPv4("address", args.address);
        prefixLength = args.prefixLength ?? 24;
        if (!Number.isInteger(prefixLength) || prefixLength < 8 || prefixLength > 30) throw new ValidationError("prefixLength", prefixLength, "use 8 to 30");
        if (args.gateway !== undefined) {
            gateway = checkIPv4("gateway", args.gateway);
            const mask = (~0 << (32 - prefixLength)) >>> 0;
            const subnet = parseCidr("address", `${formatIPv4((parseIPv4(address)! & mask) >>> 0)}/${prefixLength}`);
            if (!cidrContains(subnet, parseIPv4(gateway)!)) throw new ValidationError("gateway", gateway, `must be inside ${subnet.text}`);
        }
        sshHost = address;
        wireguardEndpoint = `${address}:51820`;
    } else {
        if (args.address !== undefined || args.bridge !== undefined) {
            throw new ValidationError("network", network, "takes no bridge or address: the VM sits behind the hypervisor's NAT; use network \"bridge\" for a static address");
        }
        sshPort = checkPort("sshForwardPort", args.sshForwardPort ?? 2222);
        const wgPort = checkPort("wireguardForwardPort", args.wireguardForwardPort ?? 51820);
        sshHost = args.hypervisor ? args.hypervisor.host : "127.0.0.1";
        // SSH is forwarded on loopback only when the deployer is on the hypervisor itself.
        natForwards = `hostfwd=tcp:${args.hypervisor ? "" : "127.0.0.1"}:${sshPort}-:22,hostfwd=udp::${wgPort}-:51820`;
        wireguardEndpoint = `${sshHost}:${wgPort}`;
    }
    return {
        vmName, hostname, user, image, vcpus, memoryMiB, diskGiB, network, bridge, address, prefixLength, gateway,
        mac: macFor(vmName), tap: tapFor(vmName), vmDir: `${stateDir}/${vmName}`,
        sshHost, sshPort, wireguardEndpoint, natForwards, hypervisor, hypervisorHostKey, hypervisorOnlyVia, onlyVia, accelerator, driver, bootTimeoutSeconds,
    };
}

/** The seed's meta-data (JSON, which is YAML too). */
export function seedMetaData(plan: KvmPlan): string {
    return JSON.stringify({ "instance-id": plan.vmName, "local-hostname": plan.hostname });
}

/** The seed's network-config (version 2), matched on the VM's MAC address. */
export function seedNetworkConfig(plan: KvmPlan): string {
    const eth: Record<string, unknown> = { match: { macaddress: plan.mac }, "set-name": "eth0" };
    if (plan.network === "nat") eth.dhcp4 = true;
    else {
        eth.addresses = [`${plan.address}/${plan.prefixLength}`];
        if (plan.gateway) eth.gateway4 = plan.gateway;
    }
    return JSON.stringify({ version: 2, ethernets: { eth0: eth } });
}

/** The seed's user-data (#cloud-config): the user and its key, and the SSH host key. Secret. */
export function seedUserData(plan: KvmPlan, authorizedKey: string, hostPrivateKey: string, hostPublicKey: string): string {
    const key = checkOpenSshPublicKey("authorizedKey", authorizedKey);
    const user = plan.user === "root"
        ? { name: "root", ssh_authorized_keys: [key] }
        : { name: plan.user, shell: "/bin/bash", sudo: "ALL=(ALL) NOPASSWD:ALL", lock_passwd: true, ssh_authorized_keys: [key] };
    return "#cloud-config\n" + JSON.stringify({
        hostname: plan.hostname,
        users: [user],
        disable_root: plan.user !== "root",
        ssh_pwauth: false,
        ssh_deletekeys: true,
        ssh_genkeytypes: [],
        ssh_keys: { ed25519_private: hostPrivateKey, ed25519_public: hostPublicKey.trim() },
    }) + "\n";
}

/** The script's environment (nothing secret: the user-data travels on stdin). */
export function vmEnvironment(plan: KvmPlan): Record<string, string> {
    const env: Record<string, string> = {
        ZT_VM: plan.vmName, ZT_VM_DIR: plan.vmDir, ZT_IMAGE: plan.image,
        ZT_VCPUS: String(plan.vcpus), ZT_MEMORY_MIB: String(plan.memoryMiB), ZT_DISK_GIB: String(plan.diskGiB),
        ZT_NETWORK: plan.network, ZT_BRIDGE: plan.bridge, ZT_TAP: plan.tap, ZT_MAC: plan.mac,
        ZT_ADDRESS: plan.network === "nat" ? "127.0.0.1" : plan.address, ZT_SSH_PORT: String(plan.sshPort),
        ZT_NAT_FORWARDS: plan.natForwards, ZT_META_DATA: seedMetaData(plan), ZT_NETWORK_CONFIG: seedNetworkConfig(plan),
        ZT_ACCEL: plan.accelerator, ZT_DRIVER: plan.driver, ZT_BOOT_TIMEOUT: String(plan.bootTimeoutSeconds),
        ZT_ONLY_VIA: plan.onlyVia.join(" "),
    };
    if (plan.hypervisor) {
        env.ZT_HYPERVISOR = plan.hypervisor;
        env.ZT_HYPERVISOR_ONLY_VIA = plan.hypervisorOnlyVia.join(" ");
        if (plan.hypervisorHostKey !== undefined) env.ZT_HYPERVISOR_HOST_KEY = plan.hypervisorHostKey;
    }
    return env;
}

/** One VM, up and answering SSH with its pinned host key. */
export class KvmHost extends pulumi.ComponentResource {
    /** The connection a ZeroTrustNode takes (without the private key, which the caller holds). */
    readonly connection: Omit<HostConnection, "privateKey">;
    /** The address the deployer dials (the VM's own on a bridge; the hypervisor's with NAT). */
    readonly address: string;
    /** Where mesh peers reach the VM's WireGuard ("host:port"). */
    readonly wireguardEndpoint: string;
    readonly vmName: string;
    readonly hostPublicKey: pulumi.Output<string>;
    /** The resource that creates the VM; its stdout says how long SSH took to answer. */
    readonly vm: command.local.Command;

    constructor(name: string, args: KvmHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const plan = planKvmHost(name, args);
        const release = releaseProfile("release", args.release ?? DEFAULT_RELEASE).name;
        super("zerotrust:kvm:KvmHost", name, {}, opts);
        this.address = plan.sshHost;
        this.wireguardEndpoint = plan.wireguardEndpoint;
        this.vmName = plan.vmName;
        const hostKey = new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, { parent: this });
        this.hostPublicKey = hostKey.publicKeyOpenssh.apply((k) => k.trim());
        const userData = pulumi.all([args.authorizedKey, hostKey.privateKeyOpenssh, hostKey.publicKeyOpenssh])
            .apply(([authorized, priv, pub]) => seedUserData(plan, authorized, priv, pub));
        const script = commandPath(assetPath("hosts/kvm/vm.sh"));
        const env: Record<string, pulumi.Input<string>> = vmEnvironment(plan);
        if (args.hypervisor && plan.hypervisorHostKey === undefined) {
            env.ZT_HYPERVISOR_HOST_KEY = pulumi.output(args.hypervisor.hostKey).apply((k) => checkOpenSshPublicKey("hypervisor.hostKey", k));
        }
        this.vm = new command.local.Command(`${name}-vm`, {
            create: `/bin/bash ${script} create`,
            delete: `/bin/bash ${script} delete`,
            stdin: pulumi.secret(userData),
            environment: { ...env, ZT_HOST_PUBLIC_KEY: this.hostPublicKey },
            // Where the VM lives and what it is made from: a change makes a new VM (the old one goes first).
            triggers: [plan.vmName, plan.vmDir, plan.image, plan.network, plan.bridge, plan.hypervisor ?? "local"],
            addPreviousOutputInEnv: false,
        }, { parent: this, deleteBeforeReplace: true, additionalSecretOutputs: ["stdin"] });
        this.connection = {
            host: plan.sshHost,
            port: plan.sshPort,
            user: plan.user,
            hostKey: this.hostPublicKey,
            release,
            ready: this.vm,
        };
        this.registerOutputs({ address: this.address, vmName: this.vmName, hostPublicKey: this.hostPublicKey, wireguardEndpoint: this.wireguardEndpoint });
    }
}
