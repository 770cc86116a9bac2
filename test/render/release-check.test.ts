// The host's own check that a payload was rendered for the release it runs (lib.sh
// zt_check_release), run by bash as a host runs it: in a private mount namespace whose
// /etc/os-release says which release this "host" is, with an empty /var/lib/zerotrust.
import test from "ava";
import { spawnSync } from "child_process";
import { composeHostProgram } from "../../components/remote/script";

const OS_RELEASE: Record<string, string> = {
    "debian-11": 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\n',
    "ubuntu-22.04": 'NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="22.04"\n',
};

/** Runs a concern's host program on a "host" of `hostRelease`; returns its status, stderr and what it left in its state directory. */
function runOn(hostRelease: string, renderedFor: string, action: "apply" | "check") {
    const program = composeHostProgram({
        concern: "ssh", action, token: "t1", rollbackSeconds: 10, vars: { ZT_RELEASE: renderedFor },
        files: { "sshd.conf": "# Managed by zerotrust.\nPasswordAuthentication no\n" },
    });
    const setup = [
        "set -e",
        // An empty mount point on the machine, as a lab host makes it; the tmpfs is this namespace's.
        "mkdir -p /var/lib/zerotrust && mount -t tmpfs -o mode=700 zt /var/lib/zerotrust",
        "mount -t tmpfs -o mode=755 zt /run",
        'printf "%s" "$OS_RELEASE" >/run/os-release && mount --bind /run/os-release /etc/os-release',
        // What follows is the host program itself; its exit status is the script's.
        'bash -s <<<"$PROGRAM" && rc=0 || rc=$?',
        'echo "state: $(find /var/lib/zerotrust -mindepth 1 | sort | tr "\\n" " ")"',
        "exit $rc",
    ].join("\n");
    const r = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", setup],
        { encoding: "utf8", env: { ...process.env, OS_RELEASE: OS_RELEASE[hostRelease], PROGRAM: program } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, state: /state: (.*)$/m.exec(r.stdout)?.[1].trim() };
}

test("a payload rendered for another release is refused before anything is staged, naming both releases", (t) => {
    for (const action of ["apply", "check"] as const) {
        const r = runOn("debian-11", "debian-12", action);
        t.is(r.status, 1, r.stderr);
        t.regex(r.stderr, /FAILED: this host runs debian-11, but its configuration was rendered for debian-12; nothing was changed/);
        t.regex(r.stderr, /Set the node's release to "debian-11"/);
        t.is(r.state, "", `${action}: nothing staged or written`);
    }
});

test("an unsupported release is refused the same way, by its os-release name", (t) => {
    const r = runOn("ubuntu-22.04", "debian-11", "apply");
    t.is(r.status, 1, r.stderr);
    t.regex(r.stderr, /this host runs ubuntu-22\.04, but its configuration was rendered for debian-11/);
    t.is(r.state, "");
});

test("on the release it was rendered for, the program goes on (a check reads the host and leaves nothing)", (t) => {
    const r = runOn("debian-11", "debian-11", "check");
    t.is(r.status, 0, r.stderr);
    t.notRegex(r.stderr, /FAILED/);
    t.regex(r.stdout, /^=== expected\n[\s\S]*^=== live$/m, "the check ran");
    t.is(r.state, "");
});
