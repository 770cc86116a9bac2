// Lab traffic must stay on this machine: before anything is sent to a lab host from the machine's
// own namespace, the route to it must leave through one of the lab's own interfaces. Without the
// operator's WireGuard interface, say, a mesh address would go out through the default route.
import { execFileSync } from "child_process";

/** The outgoing device in `ip route get ADDRESS` output, or undefined (pure). */
export function routeDevice(ipRouteGet: string): string | undefined {
    const words = ipRouteGet.trim().split(/\s+/);
    const i = words.indexOf("dev");
    return i >= 0 ? words[i + 1] : undefined;
}

/** The refusal for a route that does not go through `allowed` (pure); undefined when it does. */
export function routeRefusal(address: string, device: string | undefined, allowed: string[]): string | undefined {
    if (device !== undefined && allowed.includes(device)) return undefined;
    return `refusing to send to ${address}: this machine routes it via ${device ?? "no interface"}, not through the lab's own ` +
        `interfaces (${allowed.join(", ")}); is the lab (its bridge, the operator's WireGuard interface) up?`;
}

/** Throws unless this machine's route to `address` leaves through one of `allowed`. */
export function assertRoutedVia(address: string, allowed: string[]): void {
    let out = "";
    try {
        out = execFileSync("ip", ["route", "get", address], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch { /* unreachable: no device */ }
    const refusal = routeRefusal(address, routeDevice(out), allowed);
    if (refusal) throw new Error(refusal);
}
