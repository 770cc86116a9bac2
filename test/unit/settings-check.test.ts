// The stack's settings check (stacks/settings.ts), which runs before anything else: settings that
// were refused only while resources were being registered, or not at all, are refused by it.
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { StackSettings, checkSettings } from "../../stacks/settings";

// An existing-hosts stack needs no lab network (nothing reads this machine's routes).
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const hosts = Object.fromEntries(["gateway", "app-1", "app-2", "db", "dev-box", "app-3"].map((n, i) => [n, { address: `203.0.113.${10 + i}`, hostKey: KEY }]));
const BASE: StackSettings = {
    hostKind: "existing", meshCidr: "10.77.0.0/24", sshOverMeshOnly: false, rollbackSeconds: 60, extraAppServers: 0,
    bootstrapSshSources: ["198.51.100.4"], hosts,
    // A deployment needs the deploy key (outside the engine nothing is a preview); its value is not read here.
    sshPrivateKey: pulumi.secret("(the deploy key)"),
};

test("good settings pass, and give the nodes and the CAs", (t) => {
    const c = checkSettings("staging", { ...BASE, extraAppServers: 1 });
    t.deepEqual(c.nodes.map((n) => n.name), ["gateway", "app-1", "app-2", "db", "dev-box", "app-3"]);
    t.deepEqual(c.cas, { names: ["staging"], issuing: "staging" });
});

for (const [what, change, message] of [
    ["a fraction of an app server", { extraAppServers: 1.5 }, /^extraAppServers: 1\.5 is not valid: expected a whole number from 0 to 240/],
    ["fewer than none", { extraAppServers: -1 }, /^extraAppServers: -1 is not valid/],
    ["an unknown host kind", { hostKind: "cloud" }, /^zerotrust:hostKind: "cloud" is not valid: use "lab", "kvm" or "existing"/],
    ["a node without a host", { extraAppServers: 2 }, /^zerotrust:hosts has no entry for 'app-4'/],
    ["a host key that is not a key", { hosts: { ...hosts, db: { address: "203.0.113.13", hostKey: "not a key" } } }, /^hosts\.db\.hostKey: "not a key" is not valid/],
    ["a bootstrap source that is not an address", { bootstrapSshSources: ["198.51.100.4/40"] }, /^bootstrapSshSources\[0\]: /],
    ["a revoked client twice", { revokedClients: ["bob", "bob"] }, /^revokedClients: .*bob/],
    ["a key generation of zero", { keyGenerations: { db: 0 } }, /^keyGenerations\.db: 0 is not valid: expected a whole number/],
    ["kvm without its settings", { hostKind: "kvm" }, /^zerotrust:kvm is not set/],
    ["a deployment without the deploy key", { sshPrivateKey: undefined }, /^zerotrust:sshPrivateKey is not set/],
] as [string, Partial<StackSettings>, RegExp][]) {
    test(`refused: ${what}`, (t) => {
        t.throws(() => checkSettings("staging", { ...BASE, ...change }), { message }, what);
    });
}
