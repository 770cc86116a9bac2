// A lab's IPv6 underlay: its ULA /64 from the lab's name, the ranges refused (fd00::/64, non-ULA,
// ones this machine routes, read from the real `ip -6 route show table all`), and LabNetwork and
// LabHost refusing before anything is registered.
import test from "ava";
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { installMocks } from "../helpers/mocks";

const recorded = installMocks();
import { LabHost, LabNetwork } from "../../components/hosts/lab";
import { checkLabAddress6, checkLabSubnet6, gatewayAddress6, hostAddress6At, labUlaSubnet } from "../../components/hosts/lab-ipv6";
import { parseRoutes, routeOverlaps } from "../../components/hosts/routes";
import { scratchUlaPrefix } from "../helpers/netns";

test("each lab name gets its own ULA /64, always the same, never fd00::/64, inside fd00::/8", (t) => {
    t.is(labUlaSubnet("v6"), labUlaSubnet("v6"));
    const names = Array.from({ length: 2000 }, (_, i) => `lab${i}`);
    const ranges = names.map(labUlaSubnet);
    t.is(new Set(ranges).size, names.length, "no two of 2000 names share a range");
    for (const r of ranges) {
        t.regex(r, /^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:1::\/64$/, r);
        t.not(r, "fd00::/64");
        t.notThrows(() => checkLabSubnet6("subnet6", r), r);
    }
    t.log(`lab "v6": ${labUlaSubnet("v6")}`);
});

test("lab ranges: a ULA /64 only; fd00::/64 is refused by name with the fix", (t) => {
    t.throws(() => checkLabSubnet6("subnet6", "fd00::/64"), { message: /^subnet6: "fd00::\/64" is not valid: fd00::\/64 is where machines like this one put their own addresses; choose a random ULA/ });
    t.throws(() => checkLabSubnet6("subnet6", "fd00:0:0:0::/64"), { message: /fd00::\/64 is where/ }, "in any spelling");
    t.throws(() => checkLabSubnet6("subnet6", "2001:db8:1::/64"), { message: /must be a locally assigned ULA inside fd00::\/8/ });
    t.throws(() => checkLabSubnet6("subnet6", "fc00:1:2:3::/64"), { message: /inside fd00::\/8/ });
    t.throws(() => checkLabSubnet6("subnet6", "fd12:3456:789a::/48"), { message: /use a \/64/ });
    t.is(hostAddress6At("subnet6", "fd12:3456:789a:1::/64", 0), "fd12:3456:789a:1::10");
    t.is(hostAddress6At("subnet6", "fd12:3456:789a:1::/64", 5), "fd12:3456:789a:1::15");
    t.is(gatewayAddress6("fd12:3456:789a:1::/64"), "fd12:3456:789a:1::1");
    t.is(checkLabAddress6("address6", "FD12:3456:789A:1:0::20", "fd12:3456:789a:1::/64"), "fd12:3456:789a:1::20");
    t.throws(() => checkLabAddress6("address6", "fd12:3456:789a:2::20", "fd12:3456:789a:1::/64"), { message: /^address6: .* must be a host address inside the lab's IPv6 range fd12:3456:789a:1::\/64/ });
});

test("IPv6 routes: this machine's own are read from `ip -6 route show table all`; fd00::/64 and its neighbours are found, default ignored", (t) => {
    const text = execFileSync("ip", ["-6", "route", "show", "table", "all"], { encoding: "utf8" });
    const routes = parseRoutes(text);
    t.false(routes.some((r) => /^(local|multicast|anycast)/.test(r.route)));
    t.true(routes.some((r) => r.route === "fd00::/64"), `this machine routes fd00::/64 (FIELD-NOTES): ${JSON.stringify(routes)}`);
    t.deepEqual(routeOverlaps(text, ["fd00::/64"], []).map((o) => o.route), ["fd00::/64"]);
    t.deepEqual(routeOverlaps(text, ["fd00::/8"], []).map((o) => o.route).filter((r) => r === "fd00::/64"), ["fd00::/64"], "a wider range holding it");
    t.deepEqual(routeOverlaps(text, [labUlaSubnet("v6")], []), [], "the v6 lab's range is free here");
    t.deepEqual(routeOverlaps(text, ["fd00::/64"], ["eth0"]), [], "a device we own is ignored");
    const sample = "fd12:3456:789a:1::/64 dev ztbr-x proto kernel metric 256 pref medium\nfd99::5 dev eth0 metric 1024\ndefault via fd00::1 dev eth0\n" +
        "10.213.7.0/24 dev ztbr-y proto kernel scope link src 10.213.7.1\n";
    t.deepEqual(routeOverlaps(sample, ["fd99::/64"], []), [{ wanted: "fd99::/64", route: "fd99::5/128", device: "eth0" }]);
    t.deepEqual(routeOverlaps(sample, ["10.213.7.0/24", "fd12:3456:789a:1::/64"], ["ztbr-x"]).map((o) => o.route), ["10.213.7.0/24"], "each family against its own");
});

test("LabNetwork refuses an IPv6 range the machine routes, or fd00::/64, before registering anything; LabHost needs an address of some family", (t) => {
    const before = recorded.length;
    t.throws(() => new LabNetwork("v6a", { subnet: "10.213.67.0/24", subnet6: "fd00::/64" }), { message: /^subnet6: "fd00::\/64" is not valid: fd00::\/64 is where/ });
    // A range this machine routes: an empty bridge of the test's own holds one for a moment.
    const prefix = scratchUlaPrefix();
    const holder = `ztd${randomBytes(4).toString("hex")}`;
    execFileSync("ip", ["link", "add", holder, "type", "bridge"]);
    t.teardown(() => execFileSync("ip", ["link", "del", holder]));
    execFileSync("ip", ["addr", "add", `${prefix}::1/64`, "dev", holder, "nodad"]);
    execFileSync("ip", ["link", "set", holder, "up"]);
    t.throws(() => new LabNetwork("v6d", { subnet: "10.213.67.0/24", subnet6: `${prefix}::/64` }),
        { message: new RegExp(`^subnet6: "${prefix}::/64" is not valid: overlaps ${prefix}::/64, which this machine already routes via ${holder}; choose a range the machine does not route`) });
    t.is(recorded.length, before, "nothing registered");
    const lab = new LabNetwork("v6b", { subnet: "10.213.68.0/24", ipv6: true });
    t.is(lab.subnet6, labUlaSubnet("v6b"));
    t.is(lab.gatewayAddress6, gatewayAddress6(labUlaSubnet("v6b")));
    t.is(lab.addressFor6(2), hostAddress6At("s", labUlaSubnet("v6b"), 2));
    const plain = new LabNetwork("v6c", { subnet: "10.213.69.0/24" });
    t.is(plain.subnet6, undefined);
    t.throws(() => plain.addressFor6(0), { message: /this lab has no IPv6 underlay: create it with ipv6: true/ });
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    const n = recorded.length;
    t.throws(() => new LabHost("h1", { network: lab, authorizedKey: key }), { message: /^address: .* a lab host needs an underlay address: give address \(IPv4\), address6 \(IPv6\) or both/ });
    t.throws(() => new LabHost("h2", { network: plain, address6: "fd12:3456:789a:1::10", authorizedKey: key }), { message: /^address6: .* the lab network has no IPv6 underlay/ });
    t.throws(() => new LabHost("h3", { network: lab, address6: "fd12:3456:789a:1::10", authorizedKey: key }), { message: /^address6: .* must be a host address inside the lab's IPv6 range/ });
    t.is(recorded.length, n, "nothing registered for a refused host");
    const six = new LabHost("h4", { network: lab, address6: lab.addressFor6(0), authorizedKey: key });
    t.is(six.underlay, lab.addressFor6(0));
    t.is(six.connection.host, lab.addressFor6(0), "an IPv6-only host is dialled at its IPv6 address");
    const dual = new LabHost("h5", { network: lab, address: lab.addressFor(1), address6: lab.addressFor6(1), authorizedKey: key });
    t.is(dual.connection.host, lab.addressFor(1), "a dual-stack host is dialled over IPv4, as before");
});
