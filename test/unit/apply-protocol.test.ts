// The apply protocol keeps secrets off command lines: the host program carries the payload in
// quoted here-documents on stdin, and the ssh command line is fixed.
import test from "ava";
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { composeHostProgram, payloadToken } from "../../components/remote/script";
import { sshArguments } from "../../components/remote/ssh";

const secret = randomBytes(32).toString("base64");
const files = { "wg.conf": `[Interface]\nPrivateKey = ${secret}\n$(reboot) \`id\` 'quote' ZT_PAYLOAD_x\n` };

test("the ssh command line holds no key, payload or program", (t) => {
    const args = sshArguments({ host: "10.77.0.5", port: 22, user: "root", privateKey: `KEY-${secret}`, hostKey: "ssh-ed25519 AAAA" }, "/tmp/zt-ssh-x");
    t.false(args.join(" ").includes(secret));
    t.deepEqual(args.slice(-2), ["10.77.0.5", "/bin/bash -s"]);
    t.true(args.includes("StrictHostKeyChecking=yes"));
});

test("the payload arrives on the host byte for byte: no expansion, no injection", (t) => {
    const program = composeHostProgram({ concern: "wireguard", action: "apply", token: payloadToken("wireguard", files), rollbackSeconds: 5, vars: { ZT_IFACE: "wg0" }, files })
        // Stage only: print the staged file instead of applying it.
        .replace(/zt_main\n$/, "cat \"$ZT_DIR/staging/wg.conf\"\n")
        .replace("ZT_STATE=/var/lib/zerotrust", "ZT_STATE=\"$(mktemp -d)\"");
    t.true(program.includes('ZT_STATE="$(mktemp -d)"'), "the test must not stage into the machine's own /var/lib/zerotrust");
    const staged = execFileSync("bash", ["-s"], { input: program, encoding: "utf8" });
    t.is(staged, files["wg.conf"]);
});

test("unsafe variables and file names are refused before anything is sent", (t) => {
    t.throws(() => composeHostProgram({ concern: "ssh", action: "apply", token: "t", rollbackSeconds: 5, vars: { ZT_IFACE: "wg0'; reboot; '" }, files: {} }), { message: /unsafe script variable/ });
    t.throws(() => composeHostProgram({ concern: "ssh", action: "apply", token: "t", rollbackSeconds: 5, vars: {}, files: { "../x": "" } }), { message: /unsafe payload file name/ });
});

test("the token follows the payload", (t) => {
    t.is(payloadToken("firewall", { a: "1" }), payloadToken("firewall", { a: "1" }));
    t.not(payloadToken("firewall", { a: "1" }), payloadToken("firewall", { a: "2" }));
    t.not(payloadToken("firewall", { a: "1" }), payloadToken("ssh", { a: "1" }));
});
