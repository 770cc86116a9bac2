import test from "ava";
import { createHash } from "crypto";
import { allocateAddresses } from "../../components/addressing";
import { ValidationError, parseIPv4 } from "../../components/validate";

const names = (n: number, prefix = "host") => Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${i}` }));
const asRecord = (m: Map<string, string>) => Object.fromEntries(m);

/** A small seeded generator, so that a failing churn run can be replayed. */
function prng(seed: number) {
    return () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
    };
}

function assertDistinctInside(t: any, got: Map<string, string>, cidrNetwork: string, prefix: number) {
    const size = 2 ** (32 - prefix);
    const network = parseIPv4(cidrNetwork)!;
    const values = [...got.values()].map((a) => parseIPv4(a)!);
    t.is(new Set(values).size, values.length, "no two members share an address");
    t.true(values.every((a) => a > network && a < network + size - 1), "every address is a host address of the range");
}

test("thousands of members up to half the range (and up to a full one) get distinct addresses", (t) => {
    assertDistinctInside(t, allocateAddresses("10.80.0.0/20", names(2047)), "10.80.0.0", 20);
    assertDistinctInside(t, allocateAddresses("10.80.0.0/16", names(5000, "node")), "10.80.0.0", 16);
    assertDistinctInside(t, allocateAddresses("10.80.0.0/24", names(254)), "10.80.0.0", 24);
    // The issue's case: 150 nodes in a /16, where 0.1.0 stopped with app-138 on app-112's address.
    assertDistinctInside(t, allocateAddresses("10.80.0.0/16", names(150, "app")), "10.80.0.0", 16);
});

test("a member's first choice is the hash of its name: what 0.1.0 gave it, so no existing stack is renumbered", (t) => {
    const got = allocateAddresses("10.77.0.0/16", names(20));
    for (const [name, address] of got) {
        const hashed = parseIPv4("10.77.0.1")! + (createHash("sha256").update(name).digest().readUInt32BE(0) % 65534);
        t.is(parseIPv4(address), hashed, name);
    }
});

test("with the previous allocation, 30 rounds of churn in a crowded range never move a member", (t) => {
    const random = prng(7);
    let members = names(1500);
    let next = 1500;
    let previous = asRecord(allocateAddresses("10.81.0.0/20", members));
    for (let round = 0; round < 30; round++) {
        members = members.filter(() => random() > 0.1);
        const added = Math.floor(random() * 300);
        members = [...members, ...Array.from({ length: added }, () => ({ name: `host-${next++}` }))].slice(0, 2047);
        const got = allocateAddresses("10.81.0.0/20", members, "cidr", previous);
        assertDistinctInside(t, got, "10.81.0.0", 20);
        for (const [name, address] of got) if (previous[name] !== undefined) t.is(address, previous[name], `${name} in round ${round}`);
        previous = asRecord(got);
    }
});

test("a newcomer whose first choice is a member's address takes its next choice; the member keeps its own only with the previous allocation", (t) => {
    // Two names whose first choices collide in a /24; the one that sorts first arrives second.
    const firstChoice = (n: string) => allocateAddresses("10.77.0.0/24", [{ name: n }]).get(n)!;
    const byFirst = new Map<string, string>();
    let pair: string[] | undefined;
    for (const { name } of names(200)) {
        const a = firstChoice(name);
        if (byFirst.has(a)) { pair = [byFirst.get(a)!, name].sort(); break; }
        byFirst.set(a, name);
    }
    t.truthy(pair, "200 names in 254 addresses collide somewhere");
    const [newcomer, member] = pair!;
    const deployed = allocateAddresses("10.77.0.0/24", [{ name: member }]);
    const both = [{ name: member }, { name: newcomer }];
    // Without memory, name order decides, and the member would move: why the stack passes `previous`.
    t.not(allocateAddresses("10.77.0.0/24", both).get(member), deployed.get(member));
    const grown = allocateAddresses("10.77.0.0/24", both, "cidr", asRecord(deployed));
    t.is(grown.get(member), deployed.get(member), `${member} keeps its address`);
    t.not(grown.get(newcomer), grown.get(member));
});

test("an explicit address is used as given and wins over a newcomer's first choice", (t) => {
    t.is(allocateAddresses("10.77.0.0/24", [{ name: "db", address: "10.77.0.10" }]).get("db"), "10.77.0.10");
    const first = allocateAddresses("10.77.0.0/24", [{ name: "db" }]).get("db")!;
    const got = allocateAddresses("10.77.0.0/24", [{ name: "db" }, { name: "cache", address: first }]);
    t.is(got.get("cache"), first);
    t.not(got.get("db"), first);
});

test("an explicit address that another member already holds is refused, naming both", (t) => {
    const first = allocateAddresses("10.77.0.0/24", [{ name: "db" }]).get("db")!;
    const err = t.throws(() => allocateAddresses("10.77.0.0/24", [{ name: "db" }, { name: "cache", address: first }], "cidr", { db: first }),
        { instanceOf: ValidationError });
    t.regex(err!.message, /cache\.address/);
    t.regex(err!.message, /'db' has had this address/);
    t.throws(() => allocateAddresses("10.77.0.0/24", [{ name: "a", address: "10.77.0.9" }, { name: "b", address: "10.77.0.9" }]),
        { message: /b\.address.*explicit address of 'a'/ });
});

test("a remembered address outside a changed range is allocated anew", (t) => {
    const got = allocateAddresses("10.78.0.0/24", [{ name: "db" }], "cidr", { db: "10.77.0.5" });
    t.regex(got.get("db")!, /^10\.78\.0\./);
});

test("explicit addresses outside the range, or the network address, are refused", (t) => {
    t.throws(() => allocateAddresses("10.77.0.0/24", [{ name: "db", address: "10.78.0.1" }]), { message: /db\.address.*inside 10\.77\.0\.0\/24/ });
    t.throws(() => allocateAddresses("10.77.0.0/24", [{ name: "db", address: "10.77.0.0" }]), { message: /inside/ });
    t.throws(() => allocateAddresses("10.77.0.0/24", [{ name: "db", address: "10.77.0.255" }]), { message: /inside/ });
});

test("a range too small for its members is refused with the fix", (t) => {
    t.throws(() => allocateAddresses("10.77.0.0/30", names(3)), { message: /2 host addresses for 3 members; choose a shorter prefix/ });
});
