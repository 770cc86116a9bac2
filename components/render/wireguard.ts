// wg-quick configuration text. Pure: every value arrives validated (names, endpoints) or generated
// (keys, addresses); keys are still checked here because a stray newline would add a config line.
import { isWireGuardKey } from "../wireguard-keys";

export const DEFAULT_MTU = 1420; // 1500 underlay minus 80 bytes of WireGuard over IPv6
export const NAT_KEEPALIVE_SECONDS = 25;

export interface WireGuardPeer {
    name: string;
    publicKey: string;
    presharedKey: string;
    /** The peer's mesh address: its AllowedIPs entry (with its IPv6 one, when the mesh has a range of each). */
    address: string;
    address6?: string;
    endpoint?: string;
    behindNat: boolean;
}

export interface WireGuardInterface {
    privateKey: string;
    /** This member's mesh address and the mesh prefix length, e.g. 10.77.0.5/24. */
    addressCidr: string;
    /** Its address and prefix in the mesh's IPv6 range, e.g. fd12:3456:789a:2::5/64. Default: none. */
    address6Cidr?: string;
    listenPort?: number;
    mtu: number;
    behindNat: boolean;
    peers: WireGuardPeer[];
}

function key(field: string, value: string): string {
    if (!isWireGuardKey(value)) throw new Error(`${field}: not a WireGuard key (32 bytes, base64)`);
    return value;
}

export function renderWireGuardConfig(iface: WireGuardInterface): string {
    const lines = [
        "# Managed by zerotrust. Changes here are overwritten on the next deployment.",
        "[Interface]",
        `PrivateKey = ${key("privateKey", iface.privateKey)}`,
        `Address = ${[iface.addressCidr, ...(iface.address6Cidr ? [iface.address6Cidr] : [])].join(", ")}`,
        ...(iface.listenPort ? [`ListenPort = ${iface.listenPort}`] : []),
        `MTU = ${iface.mtu}`,
    ];
    for (const peer of [...iface.peers].sort((a, b) => a.name.localeCompare(b.name))) {
        lines.push(
            "",
            `# ${peer.name}`,
            "[Peer]",
            `PublicKey = ${key(`${peer.name}.publicKey`, peer.publicKey)}`,
            `PresharedKey = ${key(`${peer.name}.presharedKey`, peer.presharedKey)}`,
            `AllowedIPs = ${[`${peer.address}/32`, ...(peer.address6 ? [`${peer.address6}/128`] : [])].join(", ")}`,
        );
        // A peer behind NAT has no address we can dial: it dials us.
        if (peer.endpoint && !peer.behindNat) lines.push(`Endpoint = ${peer.endpoint}`);
        // Only the side behind NAT needs to keep its mapping open.
        if (iface.behindNat) lines.push(`PersistentKeepalive = ${NAT_KEEPALIVE_SECONDS}`);
    }
    return lines.join("\n") + "\n";
}
