// IPv6 text: the allowlist parser and the canonical form, checked against Node's own parser
// (net.isIPv6) and the WHATWG URL serializer (RFC 5952 compression) on random and edge inputs;
// then every field that takes an IPv6 value, with the refusals an operator reads.
import test from "ava";
import { isIPv6 } from "net";
import { cidrs6Overlap, formatIPv6, parseIPv6 } from "../../components/ipv6";
import {
    ValidationError, checkEndpoint, checkHost, checkIPAddress, checkIPv6, checkSource, joinHostPort, parseCidr6, splitHostPort,
} from "../../components/validate";

/** Node's canonical text for an address it parses (the URL host serializer implements RFC 5952). */
const whatwg = (s: string) => new URL(`http://[${s}]/`).hostname.slice(1, -1);

function prng(seed: number) {
    return () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
    };
}

test("the parser accepts exactly what Node accepts over hex digits and colons, and formats as the URL serializer does", (t) => {
    const random = prng(6);
    const alphabet = "0123456789abcdefABCDEF::::";
    const candidates: string[] = [];
    for (let i = 0; i < 20000; i++) {
        // Half noise, half well-formed addresses with a random run of groups compressed.
        if (i % 2 === 0) {
            const length = Math.floor(random() * 42);
            candidates.push(Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join(""));
        } else {
            const groups = Array.from({ length: 8 }, () => random() < 0.4 ? "0" : Math.floor(random() * 65536).toString(16).padStart(Math.floor(random() * 5), "0"));
            const from = Math.floor(random() * 9);
            const to = from + Math.floor(random() * (9 - from));
            candidates.push(to > from ? `${groups.slice(0, from).join(":")}::${groups.slice(to).join(":")}` : groups.join(":"));
        }
    }
    let accepted = 0;
    for (const s of candidates) {
        const n = parseIPv6(s);
        t.is(n !== null, isIPv6(s), s);
        if (n !== null && isIPv6(s)) {
            accepted++;
            t.is(formatIPv6(n), whatwg(s), s);
            t.is(parseIPv6(formatIPv6(n)), n, `round trip of ${s}`);
        }
    }
    t.true(accepted > 5000, `${accepted} well-formed candidates`);
});

test("edge forms: compression at either end, one zero group never compressed, the first of two equal runs", (t) => {
    const cases: [string, string][] = [
        ["::", "::"], ["::1", "::1"], ["1::", "1::"], ["2001:DB8::7", "2001:db8::7"], ["2001:0db8:0000:0000:0000:0000:0000:0007", "2001:db8::7"],
        ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
        ["fd12:3456:789a:1::", "fd12:3456:789a:1::"], ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"], ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ];
    for (const [input, canonical] of cases) t.is(formatIPv6(parseIPv6(input)!), canonical, input);
    for (const bad of [":", ":::", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", ":1::", "1::2:",
        "g::1", "::ffff:10.0.0.1", "fe80::1%eth0", "[::1]", " ::1", "::1 ", "::1\n", "２００１:db8::1", "0x1::", "1:2:3:4:5:6:7", ""]) {
        t.is(parseIPv6(bad), null, JSON.stringify(bad));
    }
});

const rule = (f: () => unknown) => {
    try { f(); } catch (e) { if (e instanceof ValidationError) return e.message; throw e; }
    return "accepted";
};

test("endpoints: [IPv6]:port comes back canonical; IPv4 and DNS endpoints are as before; each refusal names the field and the fix", (t) => {
    t.is(checkEndpoint("ep", "[2001:DB8:0::7]:51820"), "[2001:db8::7]:51820");
    t.is(checkEndpoint("ep", "[::1]:51820"), "[::1]:51820");
    t.is(checkEndpoint("ep", "203.0.113.7:51820"), "203.0.113.7:51820");
    t.is(checkEndpoint("ep", "vpn.example.org:51820"), "vpn.example.org:51820");
    t.is(rule(() => checkEndpoint("nodes[0].endpoint", "2001:db8::7:51820")),
        'nodes[0].endpoint: "2001:db8::7:51820" is not valid: an IPv6 endpoint needs brackets around the address, such as [2001:db8::7]:51820');
    t.is(rule(() => checkEndpoint("nodes[0].endpoint", "[fe80::1%eth0]:51820")),
        'nodes[0].endpoint: "[fe80::1%eth0]:51820" is not valid: has a zone id (%...), which zerotrust does not accept (a link-local address means something on one link only); give the host\'s global or ULA address');
    t.is(rule(() => checkEndpoint("ep", "[::ffff:203.0.113.1]:51820")),
        'ep: "[::ffff:203.0.113.1]:51820" is not valid: writes an IPv4 address inside IPv6 text (::ffff:a.b.c.d is the IPv4 host itself); give the IPv4 address, or an IPv6 address in hex groups only');
    t.regex(rule(() => checkEndpoint("ep", "[::ffff:c000:201]:51820")), /is an IPv4-mapped address, the same host as 192\.0\.2\.1; give 192\.0\.2\.1 itself/);
    t.regex(rule(() => checkEndpoint("ep", "[::]:51820")), /is the unspecified address/);
    t.regex(rule(() => checkEndpoint("ep", "[ff02::1]:51820")), /is a multicast address/);
    t.regex(rule(() => checkEndpoint("ep", "[fe80::1]:51820")), /is link-local, which needs a zone id/);
    t.regex(rule(() => checkEndpoint("ep", "[203.0.113.7]:51820")), /brackets are for an IPv6 address only/);
    t.regex(rule(() => checkEndpoint("ep", "[vpn.example.org]:51820")), /brackets are for an IPv6 address only/);
    t.regex(rule(() => checkEndpoint("ep", "[2001:db8::7]")), /expected host:port/);
    t.regex(rule(() => checkEndpoint("ep", "[2001:db8::7]:70000")), /^ep: 70000 is not valid: expected a whole number from 1 to 65535/);
    t.regex(rule(() => checkEndpoint("ep", "[2001:db8::7]:51820\n")), /^ep: "\[2001:db8::7\]:51820\\n" is not valid/);
    t.regex(rule(() => checkEndpoint("ep", "[[2001:db8::7]]:51820")), /^ep: .* is not valid: expected host:port/);
});

test("SSH hosts and addresses: a bare IPv6 address, canonical; brackets, zone ids and mapped forms are refused with the fix", (t) => {
    t.is(checkHost("connection.host", "FD12:3456:789A:1::0010"), "fd12:3456:789a:1::10");
    t.is(checkHost("connection.host", "203.0.113.7"), "203.0.113.7");
    t.is(checkHost("connection.host", "db.example.org"), "db.example.org");
    t.regex(rule(() => checkHost("connection.host", "[2001:db8::7]")), /^connection\.host: "\[2001:db8::7\]" is not valid: has brackets; give the bare address/);
    t.regex(rule(() => checkHost("connection.host", "fe80::1%eth0")), /^connection\.host: "fe80::1%eth0" is not valid: has a zone id/);
    t.regex(rule(() => checkHost("connection.host", "::ffff:10.0.0.1")), /writes an IPv4 address inside IPv6 text/);
    t.regex(rule(() => checkHost("connection.host", "::a00:1")), /deprecated IPv4-compatible address \(of 10\.0\.0\.1\)/);
    t.regex(rule(() => checkHost("connection.host", "2001:db8::7; id")), /^connection\.host: "2001:db8::7; id" is not valid: expected an IPv6 address such as 2001:db8::7/);
    t.is(checkIPAddress("serverAddresses[0]", "2001:db8::0:7"), "2001:db8::7");
    t.regex(rule(() => checkIPAddress("serverAddresses[0]", "gateway.example.org")), /expected an IPv4 address such as 10\.20\.0\.5 or an IPv6 address such as 2001:db8::7/);
    t.is(checkIPv6("a", "::1"), "::1", "loopback is an address as 127.0.0.1 is");
});

test("bootstrap sources: IPv6 addresses and CIDRs of either family; link-local and ::/0 are sources, mapped and multicast are not", (t) => {
    t.is(checkSource("s", "10.99.0.1"), "10.99.0.1");
    t.is(checkSource("s", "10.99.0.0/16"), "10.99.0.0/16");
    t.is(checkSource("s", "2001:DB8::1"), "2001:db8::1");
    t.is(checkSource("s", "2001:db8:0:0::/64"), "2001:db8::/64");
    t.is(checkSource("s", "fe80::1"), "fe80::1");
    t.is(checkSource("s", "::/0"), "::/0");
    t.regex(rule(() => checkSource("bootstrapSshSources[0]", "2001:db8::1/64")), /^bootstrapSshSources\[0\]: "2001:db8::1\/64" is not valid: host bits are set; the network is 2001:db8::\/64/);
    t.regex(rule(() => checkSource("s", "2001:db8::/129")), /prefix length 0-128/);
    t.regex(rule(() => checkSource("s", "2001:db8::/064")), /prefix length 0-128/);
    t.regex(rule(() => checkSource("s", "::ffff:a00:0/104")), /IPv4-mapped address, the same host as 10\.0\.0\.0/);
    t.regex(rule(() => checkSource("s", "ff02::/16")), /multicast/);
    t.regex(rule(() => checkSource("s", "::")), /unspecified/);
    t.regex(rule(() => checkSource("s", "fe80::1%eth0/64")), /zone id/);
});

test("CIDRs overlap by prefix; host:port splits and joins with brackets for IPv6", (t) => {
    const c = (s: string) => parseCidr6("c", s);
    t.true(cidrs6Overlap(c("fd00::/64"), c("fd00::/8")));
    t.true(cidrs6Overlap(c("fd00::/8"), c("fd00:0:0:0:1::/80")));
    t.false(cidrs6Overlap(c("fd00::/64"), c("fd00:0:0:1::/64")));
    t.deepEqual(splitHostPort("[2001:db8::7]:443"), { host: "2001:db8::7", port: "443", bracketed: true });
    t.deepEqual(splitHostPort("10.0.0.1:443"), { host: "10.0.0.1", port: "443", bracketed: false });
    t.is(splitHostPort("2001:db8::7:443"), undefined);
    t.is(joinHostPort("2001:db8::7", 443), "[2001:db8::7]:443");
    t.is(joinHostPort("10.0.0.1", 443), "10.0.0.1:443");
});
