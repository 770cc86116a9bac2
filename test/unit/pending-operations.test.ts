// What settles each kind of operation an interrupted update leaves pending (components/verify/pending.ts),
// read from state entries shaped as `pulumi stack export --show-secrets` writes them.
import test from "ava";
import { classifyPending, withoutPending } from "../../components/verify/pending";

const SECRET = "4dabf18193072939515e22adb298388d";
const secret = (value: unknown) => ({ [SECRET]: "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(value) });
const urn = (type: string, name: string) => `urn:pulumi:irq::zerotrust::zerotrust:index:ZeroTrustNode$${type}::${name}`;
const DRIVER = "node /x/build/components/remote/driver.js";
const request = (action: string, extra: Record<string, unknown> = {}) => JSON.stringify({
    action, concern: "firewall", vars: {}, files: {}, rollbackSeconds: 8,
    connection: { host: "10.161.0.5", port: 22, user: "root", privateKey: "k", hostKey: "ssh-ed25519 AAAA" }, ...extra,
});

test("an interrupted apply is confirmed on its host; a cut-over is waited out; a teardown runs again; the rest needs nothing", (t) => {
    const classified = classifyPending([
        { type: "updating", resource: { urn: urn("command:local:Command", "db-firewall"), type: "command:local:Command",
            inputs: { create: `${DRIVER} apply`, delete: `${DRIVER} teardown`, stdin: secret(request("apply", { confirmHost: "10.161.0.6" })) } } },
        { type: "updating", resource: { urn: urn("command:local:Command", "app-1-key-cutover"), type: "command:local:Command",
            inputs: { create: "echo nothing", update: `${DRIVER} cutover`, stdin: secret(request("cutover", { vars: { ZT_SWITCH_SECONDS: 3 } })) } } },
        { type: "deleting", resource: { urn: urn("command:local:Command", "app-3-ssh"), type: "command:local:Command",
            inputs: { create: `${DRIVER} apply`, delete: `${DRIVER} teardown`, stdin: secret(request("apply")) } } },
        { type: "creating", resource: { urn: urn("random:index/randomBytes:RandomBytes", "app-3-wg-key"), type: "random:index/randomBytes:RandomBytes", inputs: { length: 32 } } },
        { type: "creating", resource: { urn: urn("command:local:Command", "app-3-namespace"), type: "command:local:Command", inputs: { create: "bash host.sh create" } } },
    ]);
    t.deepEqual(classified.map((c) => [c.name, c.settlement.kind]), [
        ["db-firewall", "confirm"], ["app-1-key-cutover", "cutover-window"], ["app-3-ssh", "teardown"], ["app-3-wg-key", "none"], ["app-3-namespace", "none"],
    ]);
    const confirm = classified[0].settlement;
    t.true(confirm.kind === "confirm" && confirm.request.confirmHost === "10.161.0.6", "confirmed where the management path is");
    const cutover = classified[1].settlement;
    t.true(cutover.kind === "cutover-window" && cutover.seconds === 3 + 8 + 2, "the switch, the window and a margin");
});

test("a request still encrypted is refused with the fix: export with --show-secrets", (t) => {
    const encrypted = { [SECRET]: "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" };
    t.throws(() => classifyPending([{ type: "creating", resource: { urn: urn("command:local:Command", "db-ssh"), type: "command:local:Command",
        inputs: { create: `${DRIVER} apply`, stdin: encrypted } } }]), { message: /db-ssh\.stdin is encrypted in this export: export the stack with --show-secrets/ });
});

test("clearing keeps every resource and drops only the pending operations", (t) => {
    const deployment = { manifest: { time: "t" }, resources: [{ urn: "a" }, { urn: "b" }], pending_operations: [{ type: "creating" }] };
    t.deepEqual(withoutPending(deployment), { manifest: { time: "t" }, resources: [{ urn: "a" }, { urn: "b" }] });
});
