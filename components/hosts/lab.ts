// Lab hosts: Linux network namespaces on one machine, each with its own mount namespace and
// sshd, on an isolated bridge. The `dev` stack's hosts: the whole system on one machine, no cloud.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import { readFileSync } from "fs";
import { assetPath, commandPath } from "../assets";
import { MeshMemberData, checkMemberData } from "../mesh-member";
import { SUPPORTED_RELEASES, releaseProfile } from "../render/releases";
import { Cidr, ValidationError, checkIPv4, checkName, cidrContains, formatIPv4, hostAddressAt, ipFamily, parseCidr, parseIPv4 } from "../validate";
import { HostConnection } from "./connection";
import { checkLabAddress6, checkLabSubnet6, gatewayAddress6, hostAddress6At, labUlaSubnet } from "./lab-ipv6";
import { routeOverlaps } from "./routes";

/** The names a lab's pieces have on this machine (pure): what LabNetwork, LabHost and LabOperator create. */
export function labLayout(labName: string) {
    const root = `/var/lib/zerotrust-lab/${labName}`;
    const bridge = `ztbr-${labName}`;
    const operatorInterface = `zt-${labName}-op`;
    const namespaceOf = (host: string) => `zt-${labName}-${host}`;
    return {
        root,
        bridge,
        operatorInterface,
        /** All lab traffic from this machine leaves through these. */
        interfaces: [bridge, operatorInterface],
        operatorDir: `${root}/operator`,
        namespaceOf,
        /** A host's end of its link, on the bridge (at most 15 characters: a short hash of its namespace). */
        vethOf: (host: string) => `ztv${shortHash(namespaceOf(host))}`,
        hostRootOf: (host: string) => `${root}/${host}`,
    };
}

function labCommand(script: string) {
    const path = commandPath(assetPath(`hosts/lab/${script}`));
    return { create: `/bin/bash ${path} create`, delete: `/bin/bash ${path} delete` };
}

export interface LabNetworkArgs {
    /** Underlay range of the lab bridge, IPv4 CIDR. Default: "10.213.7.0/24". */
    subnet?: string;
    /**
     * Also an IPv6 underlay on the bridge (dual-stack): a ULA /64 of the lab's own, derived from its
     * name (fdXX:XXXX:XXXX:1::/64), or `subnet6`. Default: false.
     */
    ipv6?: boolean;
    /** The lab's IPv6 range: a ULA /64 inside fd00::/8, never fd00::/64; implies ipv6. Default: derived from the lab's name. */
    subnet6?: string;
    /** Other ranges that must not be routed here either (the mesh ranges, of either family). Default: none. */
    alsoUnrouted?: string[];
}

/**
 * A lab network's arguments, checked: its name, its ranges, and that this machine routes none of
 * them (a read of the routing table, nothing changed). What LabNetwork refuses, callable on its
 * own so that a stack refuses bad settings before it registers anything.
 */
export function checkLabNetwork(name: string, args: LabNetworkArgs = {}): { labName: string; subnet: Cidr; subnet6?: string } {
    const labName = checkName("LabNetwork name", name);
    if (labName.length > 8) throw new ValidationError("LabNetwork name", name, "use at most 8 characters (it names interfaces)");
    const subnet = parseCidr("subnet", args.subnet ?? "10.213.7.0/24");
    if (subnet.prefix > 28) throw new ValidationError("subnet", subnet.text, "use a /28 or larger");
    const { bridge, operatorInterface } = labLayout(labName);
    if (args.ipv6 !== undefined && typeof args.ipv6 !== "boolean") throw new ValidationError("ipv6", args.ipv6, "expected true or false");
    const subnet6 = args.subnet6 !== undefined ? checkLabSubnet6("subnet6", args.subnet6).text
        : args.ipv6 ? checkLabSubnet6("subnet6 (derived from the lab's name)", labUlaSubnet(labName)).text : undefined;
    const wanted = [subnet.text, ...(args.alsoUnrouted ?? []), ...(subnet6 ? [subnet6] : [])];
    const routes = (family: string) => execFileSync("ip", [family, "route", "show", "table", "all"], { encoding: "utf8" });
    // IPv6 too: this machine has fd00::/64 and an IPv6 default route off the machine.
    const overlaps = routeOverlaps(routes("-4") + (wanted.some((w) => ipFamily(w) === 6) ? routes("-6") : ""), wanted, [bridge, operatorInterface]);
    if (overlaps.length > 0) {
        const o = overlaps[0];
        throw new ValidationError(o.wanted === subnet.text ? "subnet" : o.wanted === subnet6 ? "subnet6" : "alsoUnrouted", o.wanted,
            `overlaps ${o.route}, which this machine already routes via ${o.device || "a gateway"}; choose a range the machine does not route`);
    }
    return { labName, subnet, ...(subnet6 ? { subnet6 } : {}) };
}

/** The lab's bridge. Refuses, during preview, a range the machine already routes. */
export class LabNetwork extends pulumi.ComponentResource {
    readonly bridge: string;
    readonly subnet: string;
    readonly prefixLength: number;
    /** The machine's own address on the bridge: where lab hosts see the deployer come from. */
    readonly gatewayAddress: string;
    /** The IPv6 range of a dual-stack lab (a ULA /64), and the machine's own address in it (::1). */
    readonly subnet6?: string;
    readonly gatewayAddress6?: string;
    readonly labName: string;
    /** This machine's WireGuard interface as the lab mesh's operator peer (see LabOperator). */
    readonly operatorInterface: string;
    /** The lab's own interfaces on this machine: all lab traffic from here leaves through them. */
    readonly interfaces: string[];
    readonly ready: pulumi.Resource;

    constructor(name: string, args: LabNetworkArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        const { labName, subnet, subnet6 } = checkLabNetwork(name, args);
        const { bridge, operatorInterface, interfaces, root } = labLayout(labName);
        super("zerotrust:lab:LabNetwork", name, {}, opts);
        this.labName = labName;
        this.bridge = bridge;
        this.operatorInterface = operatorInterface;
        this.interfaces = interfaces;
        this.subnet = subnet.text;
        this.prefixLength = subnet.prefix;
        this.gatewayAddress = formatIPv4(subnet.network + 1);
        this.subnet6 = subnet6;
        this.gatewayAddress6 = subnet6 ? gatewayAddress6(subnet6) : undefined;
        this.ready = new command.local.Command(`${name}-bridge`, {
            ...labCommand("network.sh"),
            environment: {
                ZT_BRIDGE: bridge, ZT_GATEWAY_CIDR: `${this.gatewayAddress}/${subnet.prefix}`, ZT_LAB_ROOT: root,
                ...(subnet6 ? { ZT_GATEWAY_CIDR6: `${this.gatewayAddress6}/64` } : {}),
            },
        }, { parent: this });
        this.registerOutputs({ bridge, subnet: this.subnet, subnet6 });
    }

    /** The address a host gets from its index: .10, .11, ... */
    addressFor(index: number): string {
        return hostAddressAt("subnet", this.subnet, index);
    }

    /** The IPv6 address a host gets from its index: ::10, ::11, ... (a dual-stack lab only). */
    addressFor6(index: number): string {
        if (!this.subnet6) throw new ValidationError("LabNetwork ipv6", false, "this lab has no IPv6 underlay: create it with ipv6: true");
        return hostAddress6At("subnet6", this.subnet6, index);
    }
}

export interface LabHostArgs {
    network: LabNetwork;
    /** IPv4 underlay address on the lab bridge. Default: none (an IPv6-only host; then address6 is needed). */
    address?: string;
    /** IPv6 underlay address on the lab bridge, inside the network's subnet6 (a dual-stack lab). Default: none. */
    address6?: string;
    /** OpenSSH public key allowed to log in as root. */
    authorizedKey: pulumi.Input<string>;
    /**
     * A release lab host: rooted in the file tree of this Debian release ("debian-11", "debian-12",
     * "debian-13"; made with debootstrap on first use and cached), so every concern runs that
     * release's own programs. Default: this machine's own programs (and its release).
     */
    release?: string;
}

/** This machine's release as ID-VERSION_ID (what a lab host without a release tree runs), if supported. */
export function machineRelease(osRelease: string): string | undefined {
    const field = (k: string) => new RegExp(`^${k}="?([^"\n]*)"?$`, "m").exec(osRelease)?.[1];
    const name = `${field("ID")}-${field("VERSION_ID")}`;
    return SUPPORTED_RELEASES.includes(name) ? name : undefined;
}

/** One lab host: namespace, mount namespace, sshd with a host key that is a tracked resource. */
export class LabHost extends pulumi.ComponentResource {
    /** The connection a ZeroTrustNode takes (without the private key, which the caller holds). */
    readonly connection: Omit<HostConnection, "privateKey">;
    readonly namespace: string;
    /** Its IPv4 and IPv6 underlay addresses (either may be absent, not both). */
    readonly address?: string;
    readonly address6?: string;
    /** The address the deployer dials: the IPv4 one if the host has one, else the IPv6 one. */
    readonly underlay: string;
    readonly hostPublicKey: pulumi.Output<string>;

    constructor(name: string, args: LabHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const hostName = checkName("LabHost name", name);
        if (args.address === undefined && args.address6 === undefined) {
            throw new ValidationError("address", args.address, "a lab host needs an underlay address: give address (IPv4), address6 (IPv6) or both");
        }
        const address = args.address === undefined ? undefined : checkIPv4("address", args.address);
        const subnet = parseCidr("subnet", args.network.subnet);
        if (address !== undefined && !cidrContains(subnet, parseIPv4(address)!)) throw new ValidationError("address", address, `must be inside the lab subnet ${subnet.text}`);
        if (args.address6 !== undefined && !args.network.subnet6) {
            throw new ValidationError("address6", args.address6, "the lab network has no IPv6 underlay: create it with ipv6: true");
        }
        const address6 = args.address6 === undefined ? undefined : checkLabAddress6("address6", args.address6, args.network.subnet6!);
        const release = args.release === undefined ? undefined : releaseProfile("release", args.release).name;
        super("zerotrust:lab:LabHost", name, {}, opts);
        const layout = labLayout(args.network.labName);
        this.namespace = layout.namespaceOf(hostName);
        this.address = address;
        this.address6 = address6;
        this.underlay = address ?? address6!;
        const hostKey = new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, { parent: this });
        this.hostPublicKey = hostKey.publicKeyOpenssh.apply((k) => k.trim());
        const host = new command.local.Command(`${name}-namespace`, {
            ...labCommand("host.sh"),
            stdin: hostKey.privateKeyOpenssh,
            environment: {
                ZT_NS: this.namespace,
                ZT_ROOT: layout.hostRootOf(hostName),
                ZT_BRIDGE: args.network.bridge,
                ZT_VETH: layout.vethOf(hostName),
                ...(address ? { ZT_ADDRESS_CIDR: `${address}/${args.network.prefixLength}` } : {}),
                ...(address6 ? { ZT_ADDRESS6_CIDR: `${address6}/64` } : {}),
                ZT_AUTHORIZED_KEY: args.authorizedKey,
                ...(release ? { ZT_LAB_RELEASE: release } : {}),
            },
        }, { parent: this, dependsOn: [args.network.ready] });
        this.connection = {
            host: this.underlay,
            port: 22,
            user: "root",
            hostKey: this.hostPublicKey,
            onlyVia: args.network.interfaces,
            release: release ?? machineRelease(readFileSync("/etc/os-release", "utf8")),
            ready: host,
        };
        this.registerOutputs({ address, address6, namespace: this.namespace, hostPublicKey: this.hostPublicKey });
    }
}

function shortHash(s: string): string {
    return createHash("sha256").update(s).digest("hex").slice(0, 10);
}

export interface LabOperatorArgs {
    network: LabNetwork;
    /** The operator peer of the mesh this machine is, as data: `mesh.member(name)`. */
    member: MeshMemberData;
    /**
     * What must run before this interface changes: the nodes' key cut-overs (ZeroTrustNode's
     * `keyCutover`), so that a node's new key is staged over the tunnel before the tunnel takes it.
     * A promise, since the nodes are made after the operator they depend on. Default: none.
     */
    after?: Promise<pulumi.Resource[]>;
}

/** This machine as a management peer of the lab mesh: a WireGuard interface in its own namespace. */
export class LabOperator extends pulumi.ComponentResource {
    readonly interfaceName: string;
    readonly tunnel: command.local.Command;

    constructor(name: string, args: LabOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
        const member = checkMemberData("member", args.member, "operator");
        super("zerotrust:lab:LabOperator", name, {}, opts);
        this.interfaceName = args.network.operatorInterface;
        const after: Promise<pulumi.Resource[]> = args.after ?? Promise.resolve([]);
        const dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> = after.then((a) => [args.network.ready, ...a]);
        this.tunnel = new command.local.Command(`${name}-tunnel`, {
            ...labCommand("operator.sh"),
            stdin: pulumi.secret(pulumi.output(member.wireguardConfig)),
            environment: { ZT_IFACE: this.interfaceName, ZT_DIR: labLayout(args.network.labName).operatorDir, ZT_ONLY_VIA: args.network.interfaces.join(" ") },
        }, { parent: this, dependsOn });
        this.registerOutputs({ interfaceName: this.interfaceName });
    }
}
