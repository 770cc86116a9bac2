// Lab traffic never leaves through the machine's default route: the route guard reads `ip route
// get`, and the SSH runner refuses a lab host whose route goes elsewhere, before connecting.
import test from "ava";
import { execFileSync } from "child_process";
import { assertRoutedVia, routeCheck, routeDevice, routeQuery, routeRefusal } from "../../components/remote/route-guard";
import { runOverSsh } from "../../components/remote/ssh";

test("the outgoing device is read from `ip route get`", (t) => {
    t.is(routeDevice("10.77.0.5 dev zt-dev-op src 10.77.0.9 uid 0 \n    cache \n"), "zt-dev-op");
    t.is(routeDevice("10.77.0.5 via 198.51.100.1 dev eth0 src 198.51.100.10 uid 0\n    cache\n"), "eth0");
    t.is(routeDevice(""), undefined);
});

test("a route through another interface, or none, is refused with the reason", (t) => {
    t.is(routeRefusal("10.77.0.5", "zt-dev-op", ["ztbr-dev", "zt-dev-op"]), undefined);
    t.regex(routeRefusal("10.77.0.5", "eth0", ["ztbr-dev", "zt-dev-op"])!, /refusing to send to 10\.77\.0\.5: this machine routes it via eth0, not through the lab's own interfaces \(ztbr-dev, zt-dev-op\)/);
    t.regex(routeRefusal("10.77.0.5", undefined, ["ztbr-dev"])!, /via no interface/);
});

test("the SSH runner refuses a lab host whose route leaves through the default route, without connecting", async (t) => {
    // An address only the default route covers: no lab interface of this name exists.
    const address = "10.255.254.253";
    const device = routeDevice(execFileSync("ip", ["route", "get", address], { encoding: "utf8" }));
    t.not(device, "ztbr-nolab");
    const r = await runOverSsh({ host: address, port: 22, user: "root", privateKey: "unused", hostKey: "ssh-ed25519 AAAA", onlyVia: ["ztbr-nolab"] }, "true\n");
    t.is(r.code, 255);
    // The guard's words, not ssh's: no connection was attempted.
    t.regex(r.stderr, /^refusing to send to 10\.255\.254\.253/);
});

test("each family is asked in its own words; a name, or an IPv4-mapped IPv6 address, is refused without asking", (t) => {
    t.deepEqual(routeQuery("10.77.0.5"), { args: ["-4", "route", "get", "10.77.0.5"] });
    t.deepEqual(routeQuery("fd12:3456:789a:1::10"), { args: ["-6", "route", "get", "fd12:3456:789a:1::10"] });
    t.regex((routeQuery("db.example.org") as { refusal: string }).refusal, /it is not an IP address, so its route cannot be checked/);
    // Sent over IPv4 to 10.77.0.5 whatever the IPv6 routes say.
    t.regex((routeQuery("::ffff:a4d:5") as { refusal: string }).refusal, /IPv4-mapped address, the same host as 10\.77\.0\.5/);
    t.regex((routeQuery("::ffff:10.77.0.5") as { refusal: string }).refusal, /not an IP address/);
    t.is(routeDevice("fd12:3456:789a:1::10 from :: dev ztbr-v6 proto kernel src fd12:3456:789a:1::1 metric 256 pref medium\n"), "ztbr-v6");
});

test("an IPv6 address this machine routes off the machine (its IPv6 default route) is refused, by the real `ip -6 route get`", async (t) => {
    // A ULA no lab of this machine has: only the default route (or none) covers it.
    const address = "fd7e:57e5:1bad:ffff::1";
    const r6 = execFileSync("ip", ["-6", "route", "get", address], { encoding: "utf8" });
    t.log(`ip -6 route get ${address}: ${r6.trim()}`);
    t.not(routeDevice(r6), "ztbr-nolab");
    t.regex(routeCheck(address, ["ztbr-nolab"])!, new RegExp(`^refusing to send to ${address}: this machine routes it via ${routeDevice(r6) ?? "no interface"}`));
    t.throws(() => assertRoutedVia(address, ["ztbr-nolab"]), { message: /refusing to send to fd7e:57e5:1bad:ffff::1/ });
    const r = await runOverSsh({ host: address, port: 22, user: "root", privateKey: "unused", hostKey: "ssh-ed25519 AAAA", onlyVia: ["ztbr-nolab"] }, "true\n");
    t.is(r.code, 255);
    t.regex(r.stderr, /^refusing to send to fd7e:57e5:1bad:ffff::1/, "the guard's words, not ssh's");
    // Loopback goes through lo: allowed only when lo is among the interfaces.
    t.is(routeCheck("::1", ["lo"]), undefined);
});
