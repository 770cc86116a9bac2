// The rendered sshd settings, checked by the real `sshd -t` in front of a full config.
import test from "ava";
import { spawn } from "child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderSshdConfig } from "../../components/render/sshd";
import { assetPath } from "../../components/assets";
import { inNamespace, run, scratchNamespace } from "../helpers/netns";
import { SSH_AUDIT_ACCEPTED_WARNINGS, sshAudit } from "../../scripts/audit/scanners";
import { RELEASES } from "../../components/render/releases";
import { inTree, releaseTree } from "../helpers/release-tree";

// This machine is Debian 12: its sshd checks the debian-12 rendering (test/render/releases.test.ts checks every release).
const THIS_MACHINE = RELEASES["debian-12"];

function sshdTest(t: any, settings: string): string {
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
    const dir = mkdtempSync(join(tmpdir(), "zt-sshd-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
    writeFileSync(join(dir, "sshd_config"), `${settings}HostKey ${join(dir, "host_key")}\nPidFile none\n`);
    // -T prints the effective configuration, after the same checks as -t.
    return run("/usr/sbin/sshd", ["-T", "-f", join(dir, "sshd_config"), "-C", "user=root,host=x,addr=10.77.0.9"]);
}

test("sshd accepts the settings and applies them", (t) => {
    const effective = sshdTest(t, renderSshdConfig({ allowUsers: ["root", "deploy"], permitRootLogin: "prohibit-password", release: THIS_MACHINE }));
    t.regex(effective, /^passwordauthentication no$/m);
    t.regex(effective, /^kbdinteractiveauthentication no$/m);
    t.regex(effective, /^permitrootlogin without-password$/m);
    t.regex(effective, /^allowusers root$/m);
    t.regex(effective, /^allowusers deploy$/m);
    t.regex(effective, /^authenticationmethods publickey$/m);
    t.notRegex(effective, /^listenaddress 10\./m);
    t.regex(effective, /^kexalgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org$/m);
    t.regex(effective, /^macs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com$/m);
});

test("ssh-audit finds no failure in sshd with the rendered settings, and no warning but the two it raises for what it does not know", (t) => {
    const ns = scratchNamespace(t);
    const dir = mkdtempSync(join(tmpdir(), "zt-sshd-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    // The host keys Debian makes, so that the rendered HostKeyAlgorithms do the choosing.
    for (const [type, bits] of [["ed25519", ""], ["ecdsa", "256"], ["rsa", "3072"]]) {
        run("ssh-keygen", ["-q", "-t", type, ...(bits ? ["-b", bits] : []), "-N", "", "-f", join(dir, `host_${type}`)]);
    }
    writeFileSync(join(dir, "zerotrust.conf"), renderSshdConfig({ allowUsers: ["root"], permitRootLogin: "prohibit-password", release: THIS_MACHINE }));
    writeFileSync(join(dir, "sshd_config"), [`Include ${join(dir, "zerotrust.conf")}`,
        ...["ed25519", "ecdsa", "rsa"].map((k) => `HostKey ${join(dir, `host_${k}`)}`), "PidFile none", "ListenAddress 127.0.0.1", ""].join("\n"));
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const sshd = spawn("ip", ["netns", "exec", ns, "/usr/sbin/sshd", "-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" });
    t.teardown(() => { sshd.kill(); });
    inNamespace(ns, "bash", ["-c", "until (exec 3<>/dev/tcp/127.0.0.1/22) 2>/dev/null; do sleep 0.05; done"]);

    const verdict = sshAudit("127.0.0.1", 22, ["ip", "netns", "exec", ns]);
    t.deepEqual(verdict.failures, [], verdict.output);
    t.deepEqual(verdict.warnings.sort(), [...SSH_AUDIT_ACCEPTED_WARNINGS["debian-12"]].sort(), verdict.output);
    t.regex(verdict.output, /^\(key\) ssh-ed25519 /m);
    t.notRegex(verdict.output, /^\(key\) ecdsa/m, "the ECDSA host key is not offered");
});

test("sshd -t refuses a config with a broken line (the check can fail)", (t) => {
    t.throws(() => sshdTest(t, renderSshdConfig({ allowUsers: [], permitRootLogin: "no", release: THIS_MACHINE }) + "MaxAuthTries many\n"),
        { message: /MaxAuthTries|line \d+/i });
});

// Runs a bash script with a private sshd listening on 127.0.0.1:22 in a scratch namespace, the ssh
// concern's functions loaded and `connects` to try a connection; returns what the script prints.
function withPrivateSshd(t: any, lines: string[]): string {
    const ns = scratchNamespace(t);
    const dir = mkdtempSync(join(tmpdir(), "zt-sshd-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
    const script = [
        // A private /run, so that sshd's pid file is where the host script looks for it.
        "mount -t tmpfs -o mode=755 zt-run /run && mkdir -m 755 /run/sshd",
        // In the foreground (-D) of a background job: one pid through every restart, ended by the trap.
        `/usr/sbin/sshd -D -f /dev/null -o HostKey=${join(dir, "host_key")} -o PidFile=/run/sshd.pid -o ListenAddress=127.0.0.1 </dev/null >/dev/null 2>&1 &`,
        "sshd_pid=$!",
        "trap 'kill -CONT $sshd_pid; kill $sshd_pid' EXIT",
        `ZT_CONCERN=ssh; source ${assetPath("remote/host/lib.sh")}; source ${assetPath("remote/host/ssh.sh")}`,
        "zt_has_systemd() { return 1; }",
        "connects() { (exec 3<>/dev/tcp/127.0.0.1/22) 2>/dev/null; }",
        "until connects; do sleep 0.05; done",
        ...lines,
    ].join("\n");
    return inNamespace(ns, "unshare", ["-m", "--propagation", "private", "bash", "-c", script]).trim();
}

// sshd re-execs on SIGHUP and refuses connections until it listens again; the ssh concern's reload
// must return only after that, or the driver's confirmation (a new connection) can be refused.
test("after the ssh concern's reload returns, sshd accepts a new connection at once", (t) => {
    const [bare, ok, failed] = withPrivateSshd(t, [
        // The same reload with no wait, for the log: how often a connection right after it is refused.
        "bare=0; for i in $(seq 20); do before=$(zt_sshd_listeners); kill -HUP $sshd_pid; connects || bare=$((bare+1)); zt_wait_sshd_ready \"$before\"; done",
        // Back to back, as fast as it goes: each reload must also find sshd able to take the next one.
        "ok=0; failed=0; for i in $(seq 20); do zt_reload_sshd || failed=$((failed+1)); connects && ok=$((ok+1)); done",
        "echo \"$bare $ok $failed\"",
    ]).split(" ").map(Number);
    t.log(`connections right after 20 reloads: ${20 - bare}/20 accepted with a bare SIGHUP, ${ok}/20 after zt_reload_sshd`);
    t.is(failed, 0, "a reload found sshd not ready");
    t.is(ok, 20);
});

// Another reload (a second concern's, or an operator's) may leave sshd between closing its sockets
// and listening again; a reload that starts then must wait for it, not take "no listener" for done.
test("a reload that starts while sshd is still restarting waits until it listens again", (t) => {
    const out = withPrivateSshd(t, [
        // Catch sshd with its sockets closed and hold it there (SIGSTOP) for a second.
        "caught=no; for try in $(seq 20); do",
        "  kill -HUP $sshd_pid",
        "  for _ in $(seq 200); do [ -z \"$(zt_sshd_listeners)\" ] && { kill -STOP $sshd_pid; caught=yes; break; }; done",
        "  [ $caught = yes ] && break",
        "  zt_wait_sshd_ready ''",
        "done",
        "(sleep 1; kill -CONT $sshd_pid) &",
        "zt_reload_sshd; rc=$?",
        "echo \"$caught $rc $(connects && echo accepted || echo refused)\"",
    ]);
    const [caught, rc, connection] = out.split(" ");
    t.is(caught, "yes", "the test could not catch sshd mid-restart");
    t.is(rc, "0", out);
    t.is(connection, "accepted");
});

test("on debian-11's own sshd (OpenSSH 8.4) the drop-in alone turns keyboard-interactive off, as the drift check reads it", (t) => {
    // In an overlay of the release's file tree (made once, cached; CI makes it before the tests): the tree itself stays unchanged.
    const tree = releaseTree("debian-11");
    const effective = (dropin: string) => inTree(t, tree, [
        "set -e; mkdir -p /run/sshd; ssh-keygen -q -t ed25519 -N '' -f /scratch/host_key",
        "printf 'HostKey /scratch/host_key\\nPidFile none\\n' >>/scratch/sshd.conf",
        // As ssh.sh's zt_concern_state reads the payload: `sshd -T -f` on the drop-in by itself.
        "/usr/sbin/sshd -T -f /scratch/sshd.conf -C user=root,host=x,addr=10.77.0.9",
    ].join("\n"), { files: { "sshd.conf": dropin } });
    const rendered = effective(renderSshdConfig({ allowUsers: ["root"], permitRootLogin: "prohibit-password", release: RELEASES["debian-11"] }));
    t.regex(rendered, /^kbdinteractiveauthentication no$/m);
    t.regex(rendered, /^challengeresponseauthentication no$/m);
    // Without the old keyword, 8.4 leaves it on: what the rendering for debian-11 guards against.
    t.regex(effective("KbdInteractiveAuthentication no\n"), /^kbdinteractiveauthentication yes$/m);
});
