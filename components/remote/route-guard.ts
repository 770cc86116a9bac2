// Lab traffic must stay on this machine: before anything is sent to a lab host from the machine's
// own namespace, the route to it must leave through one of the lab's own interfaces. Without the
// operator's WireGuard interface, say, a mesh address would go out through the default route.
// Each family is asked in its own words (`ip -4 route get`, `ip -6 route get`): this machine has
// an IPv6 default route off the machine, so an IPv6 lab address is checked exactly as an IPv4 one.
import { spawnSync } from "child_process";
import { ipv6DialRefusal, parseIPv6 } from "../ipv6";
import { parseIPv4 } from "../validate";

/** The outgoing device in `ip route get ADDRESS` output, or undefined (pure). */
export function routeDevice(ipRouteGet: string): string | undefined {
    const words = ipRouteGet.trim().split(/\s+/);
    const i = words.indexOf("dev");
    return i >= 0 ? words[i + 1] : undefined;
}

/**
 * The `ip` arguments that ask for this machine's route to `address` in the address's own family
 * (pure), or why it cannot be asked: a DNS name has no route of its own, and an IPv4-mapped IPv6
 * address would be sent over IPv4 whatever the IPv6 routes say.
 */
export function routeQuery(address: string): { args: string[] } | { refusal: string } {
    if (parseIPv4(address) !== null) return { args: ["-4", "route", "get", address] };
    const v6 = parseIPv6(address);
    if (v6 === null) return { refusal: `refusing to send to ${JSON.stringify(address)}: it is not an IP address, so its route cannot be checked; give lab hosts by address` };
    const special = ipv6DialRefusal(v6);
    if (special) return { refusal: `refusing to send to ${address}: it ${special}` };
    return { args: ["-6", "route", "get", address] };
}

/** The refusal for a route that does not go through `allowed` (pure); undefined when it does. */
export function routeRefusal(address: string, device: string | undefined, allowed: string[]): string | undefined {
    if (device !== undefined && allowed.includes(device)) return undefined;
    return `refusing to send to ${address}: this machine routes it via ${device ?? "no interface"}, not through the lab's own ` +
        `interfaces (${allowed.join(", ")}); is the lab (its bridge, the operator's WireGuard interface) up?`;
}

/** Asks this machine's routing table; the refusal, or undefined when the route leaves through one of `allowed`. */
export function routeCheck(address: string, allowed: string[]): string | undefined {
    const query = routeQuery(address);
    if ("refusal" in query) return query.refusal;
    // An unreachable address prints nothing on stdout: no device, refused.
    const r = spawnSync("ip", query.args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return routeRefusal(address, routeDevice(r.stdout ?? ""), allowed);
}

/** Throws unless this machine's route to `address` leaves through one of `allowed`. */
export function assertRoutedVia(address: string, allowed: string[]): void {
    const refusal = routeCheck(address, allowed);
    if (refusal) throw new Error(refusal);
}
