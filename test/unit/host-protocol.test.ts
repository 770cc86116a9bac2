// The host protocol's words (components/remote/protocol.ts) checked against both sides: the host
// scripts (sourced by bash where they are fragments, read where they only print) and the commands
// a ZeroTrustNode and an MtlsGateway register. Changing a word on one side alone fails here.
import test from "ava";
import { execFileSync } from "child_process";
import { readFileSync } from "fs";
import { join } from "path";
import { installMocks, plain, resolve } from "../helpers/mocks";

const recorded = installMocks();
import { sshKeyPair } from "../../scripts/ssh-key-pair";
import { MeshNetwork } from "../../components/mesh-network";
import { ZeroTrustNode } from "../../components/zero-trust-node";
import { InternalCA } from "../../components/internal-ca";
import { MtlsGateway } from "../../components/mtls-gateway";
import { DROP_SETS } from "../../components/render/drop-record";
import { configuredNodes } from "../../components/removal-check";
import {
    ACCESS_RECORD, ANSWERS, CHECK_MARKERS, COMMAND_TYPE, CONCERN_PARTS, CUTOVER_FILES, CUTOVER_STATE_DIR, DRIVER_COMMAND, DROP_ARCHIVE_DIR,
    GATEWAY_PID_FILE, HOST_STATE_DIR, NODE_TYPE, PAYLOAD_FILES, REFUSALS, ROLLBACKS_LOG, SWITCH_AT, TARGET_PATHS, WIREGUARD_CONCERN_URN,
} from "../../components/remote/protocol";

const ROOT = join(__dirname, "..", "..", "..");
const HOST = join(ROOT, "components", "remote", "host");
const script = (name: string) => readFileSync(join(HOST, name), "utf8");
const ACCESS_RECORD_SH = readFileSync(join(ROOT, "components", "remote", "access-record.sh"), "utf8");
const IFACE = "wg7";
type Concern = keyof typeof PAYLOAD_FILES;

/** Sources the protocol library and a concern's script as a host program does, then runs `body`. */
function hostShell(concern: Concern, body: string, action = "apply"): string {
    const parts = ["lib.sh", ...(concern === "wireguard" ? ["wg-update.sh"] : []), `${concern}.sh`].map((f) => join(HOST, f));
    return execFileSync("bash", ["-c", `set -u; ZT_CONCERN=${concern} ZT_ACTION=${action} ZT_IFACE=${IFACE}; ` +
        `${parts.map((p) => `. '${p}'`).join("; ")}; ${body}`], { encoding: "utf8" });
}

/** The literal words echoed to stdout (no variable, no redirection) in the action scripts. */
function echoedWords(text: string): string[] {
    return [...text.matchAll(/\becho "([a-z ]+)"(?=\s*(;|$|\}))/gm)].map((m) => m[1]);
}

test("each concern's payload files and where they land are the script's zt_targets", (t) => {
    for (const concern of Object.keys(PAYLOAD_FILES) as Concern[]) {
        const targets = Object.fromEntries(hostShell(concern, "zt_targets").trim().split("\n").map((l) => l.split(" ") as [string, string]));
        const expected = concern === "wireguard" ? TARGET_PATHS.wireguard(IFACE) : TARGET_PATHS[concern];
        t.deepEqual(targets, expected, concern);
        t.deepEqual(Object.keys(targets).sort(), Object.values(PAYLOAD_FILES[concern]).sort(), concern);
    }
});

test("the host's directories and files are the scripts' own", (t) => {
    t.is(hostShell("ssh", "echo \"$ZT_STATE\"").trim(), HOST_STATE_DIR);
    t.is(hostShell("wireguard", "echo \"$ZT_DIR\"", "cutover").trim(), CUTOVER_STATE_DIR);
    t.is(hostShell("firewall", "echo \"$ZT_DROP_ARCHIVE\"").trim(), DROP_ARCHIVE_DIR);
    t.is(hostShell("gateway", "echo \"$ZT_GW_PID\"").trim(), GATEWAY_PID_FILE);
    const dropSets = [4, 6].flatMap((f) => [DROP_SETS[f as 4 | 6].first, DROP_SETS[f as 4 | 6].last]).join(" ");
    t.is(hostShell("firewall", "echo \"$ZT_DROP_SETS\"").trim(), dropSets);
    // access-record.sh is a whole program (it reads the host): its settings are read, not run.
    t.regex(ACCESS_RECORD_SH, new RegExp(`^ZT_DROP_ARCHIVE=${DROP_ARCHIVE_DIR}\\s`, "m"));
    t.regex(ACCESS_RECORD_SH, new RegExp(`^ZT_DROP_SETS="${dropSets}"$`, "m"));
    t.true(script("lib.sh").includes(`"$ZT_DIR/${ROLLBACKS_LOG}"`));
    for (const f of Object.values(CUTOVER_FILES)) t.true(script("wireguard.sh").includes(`"$ZT_STAGE/${f}"`), f);
});

test("the answers are exactly the words the actions print", (t) => {
    const printed = new Set([...echoedWords(script("lib.sh")), ...echoedWords(script("wireguard.sh"))]);
    t.deepEqual([...printed].sort(), Object.values(ANSWERS).sort());
    // The cut-over's answer, and the number in it as the driver reads it.
    const m = /echo "switch at \$(\w+)"/.exec(script("wireguard.sh"));
    t.truthy(m, "wireguard.sh prints the switch time");
    t.regex(script("wireguard.sh"), new RegExp(`local ${m![1]}=\\$\\(\\(\\$\\(date \\+%s\\)`), "the time is epoch seconds");
    t.is(SWITCH_AT.exec("switch at 1767225600")?.[1], "1767225600");
    // The check's sections, in order.
    t.regex(script("lib.sh"), new RegExp(`zt_check\\(\\) \\{\\n\\s+echo "${CHECK_MARKERS.expected}"\\n.*\\n\\s+echo "${CHECK_MARKERS.live}"\\n`));
});

test("confirm's refusals are on stderr, in the words the settlement reads", (t) => {
    const lib = script("lib.sh");
    t.regex(lib, /^zt_log\(\) \{ printf .* >&2; \}$/m, "zt_log writes to stderr");
    const confirm = /^zt_confirm\(\) \{\n([\s\S]*?)\n\}/m.exec(lib)![1];
    for (const word of Object.values(REFUSALS)) t.regex(confirm, new RegExp(`zt_log "FAILED: [^"]*${word}`), word);
    // What the host's timer logs, and what confirm looks for in that log.
    t.regex(lib, /local outcome="rolled back"/);
    t.regex(confirm, /grep -q " rolled back \$ZT_TOKEN"/);
});

test("the access record's parts are the headings access-record.sh prints", (t) => {
    const heads = [...ACCESS_RECORD_SH.matchAll(/^\s*echo "=== ([a-z ]+?)( \$\(.*\))?"$/gm)].map((m) => m[1]);
    const { head, ...parts } = ACCESS_RECORD;
    t.is(head, "=== ");
    t.deepEqual([...new Set(heads)].sort(), Object.values(parts).sort());
});

test("a node's and a gateway's commands have the names, commands and payloads the state readers match", async (t) => {
    const KEYS = sshKeyPair();
    const mesh = new MeshNetwork("proto", {
        cidr: "10.71.0.0/24",
        nodes: [{ name: "gw", endpoint: "198.51.100.1:51820" }, { name: "app", endpoint: "198.51.100.2:51820" }],
        operators: [{ name: "op" }],
        clients: [{ name: "alice" }],
        rules: [{ from: "alice", to: "gw", ports: ["tcp/443"] }],
    });
    const gateway = new MtlsGateway("edge", {
        member: mesh.member("gw"), ca: new InternalCA("protoca").data(), serverName: "gw.example.internal", clients: ["alice"], upstreams: ["app:8080"],
    });
    const node = new ZeroTrustNode("gw", { member: mesh.member("gw"), connection: { host: "198.51.100.1", privateKey: KEYS.privateKey, hostKey: KEYS.publicKey },
        sshOverMeshOnly: true, deployerPeer: mesh.member("op"), publicTcpPorts: [443], concerns: [gateway.concern] });
    // The node's last command is the gateway's, laid down after its own: its sibling is the ssh concern.
    const gatewayUrn = await resolve(node.configured.urn);
    t.true(gatewayUrn.endsWith(`${NODE_TYPE}$${COMMAND_TYPE}::edge-${CONCERN_PARTS.gateway}`), gatewayUrn);
    const sshUrn = gatewayUrn.replace(/::[^:]+$/, `::gw-${CONCERN_PARTS.ssh}`);
    await new Promise((r) => setTimeout(r, 1500));

    const command = (name: string) => recorded.find((r) => r.name === name && r.type === COMMAND_TYPE);
    const concerns: [string, Concern | "cutover"][] = [
        [CONCERN_PARTS.bootstrap, "wireguard"], [CONCERN_PARTS.wireguard, "wireguard"], [CONCERN_PARTS.firewall, "firewall"],
        [CONCERN_PARTS.ssh, "ssh"], [CONCERN_PARTS.keyCutover, "cutover"],
    ];
    for (const [part, concern] of [...concerns.map(([p, c]) => [`gw-${p}`, c] as const), ["edge-gateway", "gateway"] as const]) {
        const cmd = command(part);
        if (!cmd) { t.fail(`${part} is registered`); continue; }
        const request = JSON.parse(plain(cmd.inputs.stdin));
        if (concern === "cutover") {
            t.is(DRIVER_COMMAND.exec(cmd.inputs.update)?.[1], "cutover", part);
            t.deepEqual(Object.keys(request.files).sort(), Object.values(CUTOVER_FILES).sort(), part);
            continue;
        }
        t.is(DRIVER_COMMAND.exec(cmd.inputs.create)?.[1], "apply", part);
        t.is(DRIVER_COMMAND.exec(cmd.inputs.delete)?.[1], "teardown", part);
        // The gateway's CRL is made by the driver at apply time: the request names it instead.
        const files = [...Object.keys(request.files), ...(request.crl ? [request.crl.file] : [])].sort();
        t.deepEqual(files, Object.values(PAYLOAD_FILES[concern]).sort(), part);
    }
    // The URN the removal check reads a configured node from: the node's commands are its children.
    t.is(sshUrn.split("::").slice(2).join("::"), `${NODE_TYPE}$${COMMAND_TYPE}::gw-${CONCERN_PARTS.ssh}`);
    const wireguardUrn = sshUrn.replace(/-ssh$/, `-${CONCERN_PARTS.wireguard}`);
    t.regex(wireguardUrn, WIREGUARD_CONCERN_URN);
    t.deepEqual(configuredNodes([sshUrn, wireguardUrn, sshUrn.replace(/-ssh$/, `-${CONCERN_PARTS.bootstrap}`)]), ["gw"]);
});
