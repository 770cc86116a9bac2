// The rendered sshd settings, checked by the real `sshd -t` in front of a full config.
import test from "ava";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderSshdConfig } from "../../components/render/sshd";
import { run } from "../helpers/netns";

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
    const effective = sshdTest(t, renderSshdConfig({ allowUsers: ["root", "deploy"], permitRootLogin: "prohibit-password" }));
    t.regex(effective, /^passwordauthentication no$/m);
    t.regex(effective, /^kbdinteractiveauthentication no$/m);
    t.regex(effective, /^permitrootlogin without-password$/m);
    t.regex(effective, /^allowusers root$/m);
    t.regex(effective, /^allowusers deploy$/m);
    t.regex(effective, /^authenticationmethods publickey$/m);
    t.notRegex(effective, /^listenaddress 10\./m);
});

test("sshd -t refuses a config with a broken line (the check can fail)", (t) => {
    t.throws(() => sshdTest(t, renderSshdConfig({ allowUsers: [], permitRootLogin: "no" }) + "MaxAuthTries many\n"),
        { message: /MaxAuthTries|line \d+/i });
});
