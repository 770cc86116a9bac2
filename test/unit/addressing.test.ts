import test from "ava";
import { allocateAddresses } from "../../components/addressing";
import { ValidationError } from "../../components/validate";

const names = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `host-${i}` }));

test("adding or removing members renumbers no existing member", (t) => {
    const before = allocateAddresses("10.77.0.0/16", names(20));
    const grown = allocateAddresses("10.77.0.0/16", [...names(20), { name: "newcomer" }]);
    const shrunk = allocateAddresses("10.77.0.0/16", names(20).filter((_, i) => i % 3 !== 0));
    for (const [name, address] of before) {
        t.is(grown.get(name), address);
        if (shrunk.has(name)) t.is(shrunk.get(name), address);
    }
});

test("addresses stay inside the range and skip network and broadcast", (t) => {
    for (const m of names(50)) {
        const got = allocateAddresses("10.77.3.0/30", [m]).get(m.name)!;
        t.true(["10.77.3.1", "10.77.3.2"].includes(got), got);
    }
});

test("an explicit address is used as given", (t) => {
    t.is(allocateAddresses("10.77.0.0/24", [{ name: "db", address: "10.77.0.10" }]).get("db"), "10.77.0.10");
});

test("a collision names both members and suggests a free address", (t) => {
    const first = allocateAddresses("10.77.0.0/24", [{ name: "db" }]).get("db")!;
    const err = t.throws(() => allocateAddresses("10.77.0.0/24", [{ name: "db" }, { name: "cache", address: first }]),
        { instanceOf: ValidationError });
    t.regex(err!.message, /cache\.address/);
    t.regex(err!.message, /'db'/);
    t.regex(err!.message, /for example 10\.77\.0\.\d+/);
});

test("explicit addresses outside the range, or the network address, are refused", (t) => {
    t.throws(() => allocateAddresses("10.77.0.0/24", [{ name: "db", address: "10.78.0.1" }]), { message: /db\.address.*inside 10\.77\.0\.0\/24/ });
    t.throws(() => allocateAddresses("10.77.0.0/24", [{ name: "db", address: "10.77.0.0" }]), { message: /inside/ });
    t.throws(() => allocateAddresses("10.77.0.0/24", [{ name: "db", address: "10.77.0.255" }]), { message: /inside/ });
});

test("a range too small for its members is refused with the fix", (t) => {
    t.throws(() => allocateAddresses("10.77.0.0/30", names(3)), { message: /2 host addresses for 3 members; choose a shorter prefix/ });
});
