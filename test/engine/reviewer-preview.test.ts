// Previews a reviewer can trust, with the real engine and the real stack program (stacks/program.ts,
// its settings read from the stack's config as index.ts reads them), and no lab host: the stack is
// deployed with every command excluded (`--exclude`), so its keys, certificates and outputs are
// real engine state while nothing runs on this machine or any host.
// 1. The preview of adding two app servers changes no existing member's entry in any output: its
//    structured outputs (old and new, from the engine's events) differ only by the newcomers' entries.
// 2. A bad setting is refused before the program registers anything: no resource step, no provider
//    (so no plugin started), no read of the stack's last outputs, only the stack itself.
import * as pulumi from "@pulumi/pulumi";
import { EngineEvent } from "@pulumi/pulumi/automation";
import test from "ava";
import { policyRows } from "../../components/report";
import { readSettings, stackProgram } from "../../stacks/program";
import { EngineStack } from "../helpers/engine";
import { OutputChange, formatPath, outputChanges } from "../helpers/output-diff";
import { collectRejections } from "../helpers/rejections";

// The stack's name is the lab's: its interfaces would be ztbr-pvw and zt-pvw-* (none is made).
const STACK = "pvw";
const SETTINGS = {
    "zerotrust:hostKind": "lab", "zerotrust:meshCidr": "10.141.0.0/24", "zerotrust:labSubnet": "10.213.141.0/24",
    "zerotrust:sshOverMeshOnly": "true", "zerotrust:rollbackSeconds": "15", "zerotrust:extraAppServers": "0",
};
/** Every command: lab hosts, concerns, bundles. Keys and certificates are made (in the engine, locally). */
const NO_COMMANDS = ["**command:local:Command::**"];
const STACK_TYPE = "pulumi:pulumi:Stack";
/** What the stack program exports: a new output is added here, so that this test compares it too. */
const STACK_OUTPUTS = ["auditPolicy", "gatewayAllowlist", "gatewayClients", "gatewayEndpoint", "hosts", "labInterfaces", "labNamespaces",
    "meshAddresses", "operatorAddress", "operatorInterface", "policyMatrix", "proofPolicy", "sshMode"];

let engine: EngineStack;

test.before(async () => {
    engine = await EngineStack.create("zt-reviewer", STACK, () => stackProgram(pulumi.getStack(), readSettings(new pulumi.Config("zerotrust"))));
    await engine.stack.setAllConfig(Object.fromEntries(Object.entries(SETTINGS).map(([k, v]) => [k, { value: v }])));
    const r = await engine.up({ exclude: NO_COMMANDS });
    if (r.error) throw new Error(`the stack was not deployed: ${r.error}`);
});
test.after.always(async () => { await engine?.dispose(); });

async function withSettings<T>(settings: Record<string, string>, run: () => Promise<T>): Promise<T> {
    const keys = Object.keys(settings);
    const before = await engine.stack.getAllConfig();
    await engine.stack.setAllConfig(Object.fromEntries(keys.map((k) => [k, { value: settings[k] }])));
    try {
        return await run();
    } finally {
        for (const k of keys) {
            if (before[k] !== undefined) await engine.stack.setConfig(k, before[k]);
            else await engine.stack.removeConfig(k);
        }
    }
}

/** The stack's outputs before and after, as the preview's events carry them. */
function stackOutputs(events: EngineEvent[]): { before: Record<string, unknown>; after: Record<string, unknown> } {
    // The last: the engine reports the stack's outputs as it starts, and again once the program has registered them.
    const stack = events.flatMap((e) => (e.resOutputsEvent?.metadata.type === STACK_TYPE ? [e.resOutputsEvent.metadata] : []));
    if (stack.length === 0) throw new Error("the preview reported no outputs of the stack");
    const last = stack[stack.length - 1];
    return { before: last.old?.outputs ?? {}, after: last.new?.outputs ?? {} };
}

/** A change is the newcomers' own when it adds an entry keyed by one of them, or by a pair ("a -> b") with one. */
const newcomersOwn = (c: OutputChange, newcomers: string[]) => c.before === undefined &&
    c.path.some((k) => newcomers.includes(k) || k.split(" -> ").some((side) => newcomers.includes(side)));

test.serial("the preview of adding two app servers changes no existing member's entry in any output", async (t) => {
    const { events, error } = await withSettings({ "zerotrust:extraAppServers": "2" }, () => engine.previewEvents({ exclude: NO_COMMANDS }));
    t.is(error, undefined);
    const { before, after } = stackOutputs(events);
    t.deepEqual(Object.keys(before).sort(), STACK_OUTPUTS, "the deployed stack's outputs, each compared below");
    const newcomers = ["app-3", "app-4"];
    const changes = outputChanges(before, after);
    const others = changes.filter((c) => !newcomersOwn(c, newcomers));
    t.deepEqual(others.map((c) => `${formatPath(c.path)}: ${JSON.stringify(c.before)} => ${JSON.stringify(c.after)}`), [],
        "every change adds an entry of app-3 or app-4");
    // The newcomers do show, in every output keyed by member (what a reviewer reads to approve them).
    for (const output of ["hosts", "meshAddresses", "labNamespaces"]) {
        t.deepEqual(newcomers.filter((n) => !changes.some((c) => c.path[0] === output && c.path[1] === n)), [], `${output} shows both newcomers`);
    }
    t.true(changes.some((c) => formatPath(c.path) === "auditPolicy.members.app-3"), "auditPolicy.members.app-3 is added");
    t.true(changes.some((c) => formatPath(c.path) === "auditPolicy.allowed.app-4 -> db"), "app-4's allow to the database is added");
    t.true(changes.some((c) => formatPath(c.path) === "policyMatrix.gateway -> app-3"), "the gateway's allow to app-3 is added");

    // The same outputs as lists (as the stack exported them before): the check above would have
    // caught the preview the issue describes, an existing member's entry that seems to become a newcomer's.
    const asLists = (o: Record<string, unknown>) => ({ auditPolicy: policyRows(o.auditPolicy as never) });
    const listChanges = outputChanges(asLists(before), asLists(after)).filter((c) => !newcomersOwn(c, newcomers));
    const existing = Object.keys((before.auditPolicy as { members: object }).members);
    t.true(listChanges.some((c) => c.path[1] === "members" && c.path[3] === "name" && existing.includes(String(c.before)) && newcomers.includes(String(c.after))),
        listChanges.map((c) => `${formatPath(c.path)}: ${JSON.stringify(c.before)} => ${JSON.stringify(c.after)}`).join("\n"));
});

/** The resource steps (and reads) a preview made: a program refused in time made none but the stack's. */
const registered = (events: EngineEvent[]) => events.flatMap((e) => {
    const m = e.resourcePreEvent?.metadata;
    return m ? [`${m.op} ${m.type}`] : [];
});

const BAD_SETTINGS: [string, Record<string, string>, RegExp][] = [
    // The issue's: at two extra app servers, one fewer, with a key generation still set for app-4.
    ["a key generation of a node being removed", { "zerotrust:extraAppServers": "1", "zerotrust:keyGenerations": JSON.stringify({ "app-4": 2 }) },
        /keyGenerations\.app-4: 2 is not valid: names neither a node of the stack nor its operator peer \(operator\)/],
    // Checked by the mesh before, once every lab host was registered.
    ["a key generation that is not a whole number", { "zerotrust:keyGenerations": JSON.stringify({ "app-1": 1.5 }) }, /keyGenerations\.app-1: 1\.5 is not valid: expected a whole number/],
    ["a mesh range that is not a range", { "zerotrust:meshCidr": "10.141.0.0/33" }, /meshCidr: "10\.141\.0\.0\/33" is not valid/],
    // Checked by the lab host of that node, once the hosts before it were registered.
    ["an unsupported release", { "zerotrust:releases": JSON.stringify({ db: "debian-10" }) }, /releases\.db: "debian-10" is not valid/],
    // Checked by the gateway, last, once every node and the CA were registered.
    ["a revoked client the gateway does not have", { "zerotrust:revokedClients": JSON.stringify(["mallory"]) },
        /revokedClients\[0\]: "mallory" is not valid: names no client of the gateway \(alice, bob, carol\)/],
    ["a renewal window longer than the certificates live", { "zerotrust:certificateValidityHours": "100", "zerotrust:certificateRenewalHours": "200" },
        /certificateRenewalHours: 200 is not valid: must not exceed certificateValidityHours \(100\)/],
];

test.serial("a bad setting is refused before anything is registered: no resource, no provider, no read of the last deployment", async (t) => {
    await withSettings({ "zerotrust:extraAppServers": "2" }, async () => {
        const r = await engine.up({ exclude: NO_COMMANDS });
        t.is(r.error, undefined, "the stack grows to two extra app servers");
        // The detector sees registrations: a good preview of the same stack has resource steps, providers and the read.
        const good = registered((await engine.previewEvents()).events);
        t.true(good.some((r) => r.endsWith("pulumi:providers:random")) && good.includes("read pulumi:pulumi:StackReference"), good.slice(0, 12).join(", "));

        // Each refusal also rejects the program's promise in this process (the engine reports it as the error).
        collectRejections(t, /is not valid/);
        for (const [what, settings, message] of BAD_SETTINGS) {
            const { events, error } = await withSettings(settings, () => engine.previewEvents());
            t.regex(error ?? "(no error)", message, what);
            t.deepEqual(registered(events).filter((r) => !r.endsWith(` ${STACK_TYPE}`)), [], `${what}: nothing but the stack is registered`);
        }
    });
});
