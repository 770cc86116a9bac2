// A stranger on a lab's underlay: a network namespace of its own on the lab bridge, with an
// address in the lab's range and no mesh key. What it can reach is what anyone on that network can.
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";

const IP = "/usr/sbin/ip";

function ip(args: string[]): void {
    const r = spawnSync(IP, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

export interface Stranger {
    /** Runs a command inside: prefix for spawn. */
    wrap: string[];
    /** Removes the namespace and its link. */
    remove(): void;
}

/**
 * `addressCidr` must be free in the lab's range, e.g. "10.213.7.250/24"; `address6Cidr` too, in a
 * dual-stack lab's IPv6 range (e.g. "fd12:3456:789a:1::250/64").
 */
export function strangerOnUnderlay(bridge: string, addressCidr: string, address6Cidr?: string): Stranger {
    const id = randomBytes(3).toString("hex");
    const ns = `ztscan-${id}`;
    const veth = `ztsv${id}`;
    const remove = () => {
        spawnSync(IP, ["link", "del", veth], { stdio: "ignore" });
        spawnSync(IP, ["netns", "del", ns], { stdio: "ignore" });
    };
    try {
        ip(["netns", "add", ns]);
        ip(["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
        ip(["link", "set", veth, "master", bridge, "up"]);
        ip(["-n", ns, "addr", "add", addressCidr, "dev", "eth0"]);
        if (address6Cidr) ip(["-n", ns, "addr", "add", address6Cidr, "dev", "eth0", "nodad"]);
        ip(["-n", ns, "link", "set", "eth0", "up"]);
        ip(["-n", ns, "link", "set", "lo", "up"]);
    } catch (e) {
        remove();
        throw e;
    }
    return { wrap: [IP, "netns", "exec", ns], remove };
}
