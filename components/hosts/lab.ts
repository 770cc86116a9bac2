// Lab hosts: Linux network namespaces on one machine, each with its own mount namespace and
// sshd, on an isolated bridge. The `dev` stack's hosts: the whole system on one machine, no cloud.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import { readFileSync } from "fs";
import { assetPath } from "../assets";
import { MeshNetwork } from "../mesh-network";
import { SUPPORTED_RELEASES, releaseProfile } from "../render/releases";
import { ValidationError, checkIPv4, checkName, cidrContains, formatIPv4, hostAddressAt, parseCidr, parseIPv4 } from "../validate";
import { HostConnection } from "./connection";
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
    const path = assetPath(`hosts/lab/${script}`);
    return { create: `/bin/bash ${path} create`, delete: `/bin/bash ${path} delete` };
}

export interface LabNetworkArgs {
    /** Underlay range of the lab bridge, IPv4 CIDR. Default: "10.213.7.0/24". */
    subnet?: string;
    /** Other ranges that must not be routed here either (the mesh range). Default: none. */
    alsoUnrouted?: string[];
}

/** The lab's bridge. Refuses, during preview, a range the machine already routes. */
export class LabNetwork extends pulumi.ComponentResource {
    readonly bridge: string;
    readonly subnet: string;
    readonly prefixLength: number;
    /** The machine's own address on the bridge: where lab hosts see the deployer come from. */
    readonly gatewayAddress: string;
    readonly labName: string;
    /** This machine's WireGuard interface as the lab mesh's operator peer (see LabOperator). */
    readonly operatorInterface: string;
    /** The lab's own interfaces on this machine: all lab traffic from here leaves through them. */
    readonly interfaces: string[];
    readonly ready: pulumi.Resource;

    constructor(name: string, args: LabNetworkArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        const labName = checkName("LabNetwork name", name);
        if (labName.length > 8) throw new ValidationError("LabNetwork name", name, "use at most 8 characters (it names interfaces)");
        const subnet = parseCidr("subnet", args.subnet ?? "10.213.7.0/24");
        if (subnet.prefix > 28) throw new ValidationError("subnet", subnet.text, "use a /28 or larger");
        const { bridge, operatorInterface, interfaces, root } = labLayout(labName);
        const wanted = [subnet.text, ...(args.alsoUnrouted ?? [])];
        const overlaps = routeOverlaps(execFileSync("ip", ["-4", "route", "show", "table", "all"], { encoding: "utf8" }),
            wanted, [bridge, operatorInterface]);
        if (overlaps.length > 0) {
            const o = overlaps[0];
            throw new ValidationError(o.wanted === subnet.text ? "subnet" : "alsoUnrouted", o.wanted,
                `overlaps ${o.route}, which this machine already routes via ${o.device || "a gateway"}; choose a range the machine does not route`);
        }
        super("zerotrust:lab:LabNetwork", name, {}, opts);
        this.labName = labName;
        this.bridge = bridge;
        this.operatorInterface = operatorInterface;
        this.interfaces = interfaces;
        this.subnet = subnet.text;
        this.prefixLength = subnet.prefix;
        this.gatewayAddress = formatIPv4(subnet.network + 1);
        this.ready = new command.local.Command(`${name}-bridge`, {
            ...labCommand("network.sh"),
            environment: { ZT_BRIDGE: bridge, ZT_GATEWAY_CIDR: `${this.gatewayAddress}/${subnet.prefix}`, ZT_LAB_ROOT: root },
        }, { parent: this });
        this.registerOutputs({ bridge, subnet: this.subnet });
    }

    /** The address a host gets from its index: .10, .11, ... */
    addressFor(index: number): string {
        return hostAddressAt("subnet", this.subnet, index);
    }
}

export interface LabHostArgs {
    network: LabNetwork;
    /** Underlay address on the lab bridge. */
    address: string;
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
    readonly address: string;
    readonly hostPublicKey: pulumi.Output<string>;

    constructor(name: string, args: LabHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const hostName = checkName("LabHost name", name);
        const address = checkIPv4("address", args.address);
        const subnet = parseCidr("subnet", args.network.subnet);
        if (!cidrContains(subnet, parseIPv4(address)!)) throw new ValidationError("address", address, `must be inside the lab subnet ${subnet.text}`);
        const release = args.release === undefined ? undefined : releaseProfile("release", args.release).name;
        super("zerotrust:lab:LabHost", name, {}, opts);
        const layout = labLayout(args.network.labName);
        this.namespace = layout.namespaceOf(hostName);
        this.address = address;
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
                ZT_ADDRESS_CIDR: `${address}/${args.network.prefixLength}`,
                ZT_AUTHORIZED_KEY: args.authorizedKey,
                ...(release ? { ZT_LAB_RELEASE: release } : {}),
            },
        }, { parent: this, dependsOn: [args.network.ready] });
        this.connection = {
            host: address,
            port: 22,
            user: "root",
            hostKey: this.hostPublicKey,
            onlyVia: args.network.interfaces,
            release: release ?? machineRelease(readFileSync("/etc/os-release", "utf8")),
            ready: host,
        };
        this.registerOutputs({ address, namespace: this.namespace, hostPublicKey: this.hostPublicKey });
    }
}

function shortHash(s: string): string {
    return createHash("sha256").update(s).digest("hex").slice(0, 10);
}

export interface LabOperatorArgs {
    network: LabNetwork;
    mesh: MeshNetwork;
    /** The operator peer's name in the mesh. */
    member: string;
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
        const member = args.mesh.members[args.member];
        if (!member || member.kind !== "operator") {
            throw new ValidationError("member", args.member, "must name an operator peer of the mesh");
        }
        super("zerotrust:lab:LabOperator", name, {}, opts);
        this.interfaceName = args.network.operatorInterface;
        const after: Promise<pulumi.Resource[]> = args.after ?? Promise.resolve([]);
        const dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> = after.then((a) => [args.network.ready, ...a]);
        this.tunnel = new command.local.Command(`${name}-tunnel`, {
            ...labCommand("operator.sh"),
            stdin: member.config,
            environment: { ZT_IFACE: this.interfaceName, ZT_DIR: labLayout(args.network.labName).operatorDir },
        }, { parent: this, dependsOn });
        this.registerOutputs({ interfaceName: this.interfaceName });
    }
}
