// Which stack locks are provably stale (components/verify/locks.ts), from lock blobs shaped as
// Pulumi 3.259 writes them, and the PostgreSQL backend URL read as libpq's environment.
import test from "ava";
import { heldMessage, judgeLock, parseLock, stackLockDir } from "../../components/verify/locks";
import { pgConnection } from "../../components/verify/pg-url";

const BLOB = '{"pid":4242,"username":"root","hostname":"vm","timestamp":"2026-12-02T13:00:00.123456789Z"}';
const lock = parseLock("/b/.pulumi/locks/organization/zerotrust/dev/0a.json", BLOB);
const at = (iso: string) => Date.parse(iso);

test("a lock blob is read; one that is not a lock is refused naming where it is", (t) => {
    t.like(lock, { pid: 4242, username: "root", hostname: "vm" });
    t.throws(() => parseLock("x.json", "{"), { message: /lock x\.json is not JSON/ });
    t.throws(() => parseLock("y.json", '{"pid":"1"}'), { message: /lock y\.json lacks pid, hostname or timestamp/ });
    t.is(stackLockDir("zerotrust", "dev"), ".pulumi/locks/organization/zerotrust/dev");
});

test("stale when taken on this host and its process is gone", (t) => {
    t.like(judgeLock(lock, "vm", { alive: false }), { kind: "stale", why: "its process (pid 4242) no longer exists on this host" });
});

test("stale when the pid was reused: the process now under it started after the lock was taken", (t) => {
    const v = judgeLock(lock, "vm", { alive: true, startedAtMs: at("2026-12-02T13:05:00Z") });
    t.is(v.kind, "stale");
    t.regex(v.why, /pid 4242 is now a different process/);
});

test("held while its process runs: started before the lock, or within the boot time's rounding after it", (t) => {
    t.is(judgeLock(lock, "vm", { alive: true, startedAtMs: at("2026-12-02T12:59:58Z") }).kind, "held");
    t.is(judgeLock(lock, "vm", { alive: true, startedAtMs: at("2026-12-02T13:00:01Z") }).kind, "held");
});

test("a lock of another host is never taken as stale, even if no such pid runs here", (t) => {
    const v = judgeLock(lock, "ci-runner-7", { alive: false });
    t.is(v.kind, "held");
    t.regex(v.why, /another host \(vm\)/);
    const m = heldMessage(lock, v.why, "dev");
    t.regex(m, /locked by root@vm, pid 4242, since 2026-12-02T13:00:00/);
    t.regex(m, /pulumi cancel --yes --stack dev/);
});

test("a PostgreSQL URL becomes libpq's environment, the password off the command line, Pulumi's table apart", (t) => {
    const c = pgConnection("postgres://zt:p%40ss@127.0.0.1:55432/state?sslmode=disable&table=zt_state");
    t.deepEqual(c, { table: "zt_state", env: { PGHOST: "127.0.0.1", PGPORT: "55432", PGUSER: "zt", PGPASSWORD: "p@ss", PGDATABASE: "state", PGSSLMODE: "disable" } });
    t.is(pgConnection("postgres://zt@h/db").table, "pulumi_state");
    t.throws(() => pgConnection("postgres://h/db?table=x;drop"), { message: /table=x;drop is not a plain table name/ });
});
