// Lab traffic never leaves through the machine's default route: the route guard reads `ip route
// get`, and the SSH runner refuses a lab host whose route goes elsewhere, before connecting.
import test from "ava";
import { execFileSync } from "child_process";
import { routeDevice, routeRefusal } from "../../components/remote/route-guard";
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
