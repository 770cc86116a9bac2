// A host whose first concern fails, through the real engine with --continue-on-error and no lab:
// the host is an address this machine would route off the lab, so the route guard refuses it before
// any packet is sent (the cause the operator reads). Its later concerns register and fail naming
// the one before them; work that starts after the failure is still done. (That nothing of a host
// already configured is torn down is checked on lab hosts, test/e2e/day2-operations.test.ts.)
import * as command from "@pulumi/command";
import test from "ava";
import { MeshNetwork } from "../../components/mesh-network";
import { ZeroTrustNode } from "../../components/zero-trust-node";
import { EngineStack } from "../helpers/engine";
import { collectRejections } from "../helpers/rejections";
import { sshKeyPair } from "../../scripts/ssh-key-pair";

const KEYS = sshKeyPair();

function program() {
    const mesh = new MeshNetwork("fc", {
        cidr: "10.74.0.0/24",
        nodes: [{ name: "far", endpoint: "198.51.100.7:51820" }, { name: "near" }],
        rules: [{ from: "near", to: "far", ports: ["tcp/5432"] }],
    });
    // Only the loopback interface is allowed: the route to this documentation address is refused.
    new ZeroTrustNode("far", {
        member: mesh.member("far"), connection: { host: "198.51.100.7", privateKey: KEYS.privateKey, hostKey: KEYS.publicKey, onlyVia: ["lo"] },
        bootstrapSshSources: ["127.0.0.1"],
    });
    // Independent work: its second step starts only once the first has run for 3 s, after the failure.
    const first = new command.local.Command("slow-first", { create: "sleep 3; echo first" });
    new command.local.Command("slow-second", { create: "echo second" }, { dependsOn: [first] });
}

test("a failed concern blocks the host's later ones, which fail naming it; a step that starts after the failure is still applied", async (t) => {
    const engine = await EngineStack.create("zt-failed-concern", "fc", async () => { program(); });
    t.teardown(() => engine.dispose());
    const rejections = collectRejections(t, /failed to register/);
    const order: string[] = [];
    const r = await engine.up({
        continueOnError: true,
        onEvent: (e) => {
            const done = e.resOutputsEvent ?? e.resOpFailedEvent;
            if (done && done.metadata.type === "command:local:Command") order.push(`${e.resOpFailedEvent ? "FAILED " : ""}${done.metadata.urn.split("::").pop()}`);
        },
    });
    t.log(`error:\n${r.error}\norder: ${order.join(", ")}`);
    t.regex(r.error ?? "", /far-wireguard: [^]*applying wireguard on 198\.51\.100\.7 failed: this machine refused to send to it \[refusing to send to 198\.51\.100\.7/);
    t.regex(r.error!, /far-firewall: [^]*far-firewall not applied: far-wireguard, which comes before it on this host, failed/);
    t.regex(r.error!, /far-ssh: [^]*far-ssh not applied: far-firewall/);
    t.true(order.indexOf("slow-second") > order.indexOf("FAILED far-wireguard"), "a step that started after the failure was applied");
    t.false(r.changes.some((c) => c.startsWith("delete")), r.changes.join(" "));
    t.true(rejections().length > 0);

    // Again: the same failures, still nothing deleted, and the independent work is unchanged.
    const again = await engine.up({ continueOnError: true });
    t.regex(again.error ?? "", /far-wireguard: [^]*refused to send/);
    t.false(again.changes.some((c) => c.startsWith("delete")), again.changes.join(" "));
    t.false(again.ran.includes("slow-second"));
});
