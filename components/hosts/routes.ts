// Which of our ranges the machine already routes. Pure: takes `ip -4 route` / `ip -6 route` text.
import { cidrs6Overlap } from "../ipv6";
import { cidrsOverlap, ipFamily, parseCidr, parseCidr6 } from "../validate";

export interface RouteOverlap {
    wanted: string;
    route: string;
    device: string;
}

const NOT_ROUTES = ["local", "broadcast", "multicast", "anycast", "unreachable", "blackhole", "prohibit", "throw", "nat"];

/**
 * Parses `ip -4 route show table all` or `ip -6 route show table all` lines into (destination,
 * device), skipping local, broadcast, multicast and anycast entries. "default" stays "default".
 */
export function parseRoutes(text: string): { route: string; device: string }[] {
    const routes: { route: string; device: string }[] = [];
    for (const line of text.split("\n")) {
        const words = line.trim().split(/\s+/);
        if (words.length < 3 || NOT_ROUTES.includes(words[0])) continue;
        const dev = words.indexOf("dev");
        const host = ipFamily(words[0]) === 6 ? "/128" : "/32";
        const route = words[0] === "default" || words[0].includes("/") ? words[0] : `${words[0]}${host}`;
        routes.push({ route, device: dev >= 0 ? words[dev + 1] : "" });
    }
    return routes;
}

function overlaps(wanted: string, route: string): boolean {
    if (ipFamily(wanted) !== ipFamily(route)) return false;
    return ipFamily(wanted) === 6
        ? cidrs6Overlap(parseCidr6("lab range", wanted), parseCidr6("route", route))
        : cidrsOverlap(parseCidr("lab range", wanted), parseCidr("route", route));
}

/**
 * The routes that overlap a wanted range, of either family. The default route is ignored
 * (everything overlaps it), and so are devices we own (`ownDevices`), so a second run over an
 * existing lab passes.
 */
export function routeOverlaps(routesText: string, wanted: string[], ownDevices: string[]): RouteOverlap[] {
    const found: RouteOverlap[] = [];
    for (const w of wanted) {
        for (const r of parseRoutes(routesText)) {
            if (r.route === "default" || r.route === "0.0.0.0/0" || r.route === "::/0" || ownDevices.includes(r.device)) continue;
            if (overlaps(w, r.route)) found.push({ wanted: w, route: r.route, device: r.device });
        }
    }
    return found;
}
