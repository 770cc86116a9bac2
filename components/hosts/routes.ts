// Which of our ranges the machine already routes. Pure: takes `ip -4 route` text.
import { cidrsOverlap, parseCidr } from "../validate";

export interface RouteOverlap {
    wanted: string;
    route: string;
    device: string;
}

/** Parses `ip -4 route show table all` lines into (destination, device), skipping local/broadcast. */
export function parseRoutes(text: string): { route: string; device: string }[] {
    const routes: { route: string; device: string }[] = [];
    for (const line of text.split("\n")) {
        const words = line.trim().split(/\s+/);
        if (words.length < 3 || ["local", "broadcast", "multicast", "unreachable", "blackhole", "prohibit"].includes(words[0])) continue;
        const dev = words.indexOf("dev");
        const route = words[0] === "default" ? "0.0.0.0/0" : words[0].includes("/") ? words[0] : `${words[0]}/32`;
        routes.push({ route, device: dev >= 0 ? words[dev + 1] : "" });
    }
    return routes;
}

/**
 * The routes that overlap a wanted range. The default route is ignored (everything overlaps it),
 * and so are devices we own (`ownDevices`), so a second run over an existing lab passes.
 */
export function routeOverlaps(routesText: string, wanted: string[], ownDevices: string[]): RouteOverlap[] {
    const found: RouteOverlap[] = [];
    for (const w of wanted) {
        const want = parseCidr("lab range", w);
        for (const r of parseRoutes(routesText)) {
            if (r.route === "0.0.0.0/0" || ownDevices.includes(r.device)) continue;
            if (cidrsOverlap(want, parseCidr("route", r.route))) found.push({ wanted: w, route: r.route, device: r.device });
        }
    }
    return found;
}
