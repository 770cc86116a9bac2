// Placement on VMs: each scenario node becomes a KvmHost on one hypervisor (this machine, or one
// reached over SSH), on the hypervisor's bridge, with a static address from the stack's subnet.
// `hostKind: kvm` in a stack's config (stacks/Pulumi.prod-kvm.yaml.example).
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { KvmHost, KvmHostArgs, KvmHypervisor, planKvmHost } from "../../components/hosts/kvm";
import { Cidr, ValidationError, formatIPv4, hostAddressAt, parseCidr } from "../../components/validate";
import { ScenarioNode } from "../seed-scenario";
import { Placed, Placement } from "./placed";

/** One VM's own settings; every field defaults to the stack-wide one. */
export interface KvmVmSettings {
    address?: string;
    vcpus?: number;
    memoryMiB?: number;
    diskGiB?: number;
}

export interface KvmPlacementSettings {
    /** Base image path on the hypervisor (scripts/kvm/build-image.sh prints one). */
    image: string;
    /** The hypervisor's bridge the VMs are attached to. */
    bridge: string;
    /** The bridge's IPv4 range; VMs get .10, .11, ... in node order unless `vms` gives an address. */
    subnet: string;
    /** The VMs' default gateway. Default: none. */
    gateway?: string;
    /** Default: this machine. */
    hypervisor?: KvmHypervisor;
    /** Defaults: 1 vCPU, 1024 MiB, 4 GiB. */
    vcpus?: number;
    memoryMiB?: number;
    diskGiB?: number;
    /** Per-node overrides, by node name. */
    vms?: Record<string, KvmVmSettings>;
    /** Underlay sources that may SSH while bootstrapping. Default: the subnet's .1 (the hypervisor on its bridge). */
    bootstrapSshSources?: string[];
    /** The deploy key. Default: a key made for this stack (tls.PrivateKey "deployer-key"), authorized in every VM. */
    sshPrivateKey?: pulumi.Input<string>;
    /** The deploy key's OpenSSH public key; required with sshPrivateKey. */
    sshPublicKey?: string;
}

/** The address of the node at `index`: given, or .10 + index in the subnet (pure). */
export function kvmAddressFor(subnetText: string, index: number, given?: string): string {
    return hostAddressAt("kvm.subnet", subnetText, index, given);
}

/**
 * The placement's settings checked, and each VM's arguments but its key (pure): what placeOnKvm
 * builds from, and what the stack checks before it registers anything.
 */
export function kvmHostArgs(nodes: ScenarioNode[], s: KvmPlacementSettings): { subnet: Cidr; args: Record<string, Omit<KvmHostArgs, "authorizedKey">> } {
    const subnet = parseCidr("kvm.subnet", s.subnet);
    for (const name of Object.keys(s.vms ?? {})) {
        if (!nodes.some((n) => n.name === name)) throw new ValidationError("kvm.vms", name, "names no node of the scenario");
    }
    if ((s.sshPrivateKey === undefined) !== (s.sshPublicKey === undefined)) {
        throw new ValidationError("kvm.sshPublicKey", s.sshPublicKey, "give both sshPrivateKey and sshPublicKey, or neither (a deploy key is then made for the stack)");
    }
    const addresses = nodes.map((n, i) => kvmAddressFor(s.subnet, i, s.vms?.[n.name]?.address));
    const taken = new Set<string>();
    for (const a of addresses) {
        if (taken.has(a)) throw new ValidationError("kvm.vms", a, "two VMs share this address");
        taken.add(a);
    }
    const args = Object.fromEntries(nodes.map((n, i) => {
        const own = s.vms?.[n.name] ?? {};
        const vm: Omit<KvmHostArgs, "authorizedKey"> = {
            hypervisor: s.hypervisor,
            image: s.image,
            vcpus: own.vcpus ?? s.vcpus,
            memoryMiB: own.memoryMiB ?? s.memoryMiB,
            diskGiB: own.diskGiB ?? s.diskGiB,
            network: "bridge",
            bridge: s.bridge,
            address: addresses[i],
            prefixLength: subnet.prefix,
            gateway: s.gateway,
        };
        // The deploy key is checked when given; one made for the stack is known only once created.
        planKvmHost(n.name, { ...vm, authorizedKey: s.sshPublicKey ?? pulumi.output("") });
        return [n.name, vm];
    }));
    return { subnet, args };
}

export function placeOnKvm(nodes: ScenarioNode[], s: KvmPlacementSettings): Placement {
    const { subnet, args } = kvmHostArgs(nodes, s);
    const generated = s.sshPrivateKey === undefined ? new tls.PrivateKey("deployer-key", { algorithm: "ED25519" }) : undefined;
    const privateKey = s.sshPrivateKey ?? generated!.privateKeyOpenssh;
    const publicKey = s.sshPublicKey ?? generated!.publicKeyOpenssh;
    const placed: Record<string, Placed> = Object.fromEntries(nodes.map((n) => {
        const host = new KvmHost(n.name, { ...args[n.name], authorizedKey: publicKey });
        return [n.name, {
            connection: { ...host.connection, privateKey },
            endpoint: host.wireguardEndpoint,
            underlay: host.address,
        }];
    }));
    return { placed, bootstrapSshSources: s.bootstrapSshSources ?? [formatIPv4(subnet.network + 1)] };
}
