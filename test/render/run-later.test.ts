// lib.sh's delayed jobs (the rollback timer, the key switch) where there is no systemd, in a private
// mount namespace with its own /var/lib/zerotrust: scheduling a name again replaces the job still
// waiting under it, cancelling ends a waiting job, and a job that has started runs to its end.
import test from "ava";
import { assetPath } from "../../components/assets";
import { run } from "../helpers/netns";

/** Runs `lines` with lib.sh loaded; the jobs log "<what> <seconds since start>" to $ZT_DIR/ran. */
function withLibrary(lines: string[]): string[] {
    const script = [
        "set -u",
        "mount -t tmpfs -o mode=700 zt /var/lib/zerotrust || exit 1",
        `ZT_CONCERN=probe ZT_TOKEN=t; source ${assetPath("remote/host/lib.sh")}`,
        "zt_has_systemd() { return 1; }",
        "mkdir -p \"$ZT_DIR\"; ZT_START=$(date +%s%N)",
        "mark() { echo \"$1 $(( ($(date +%s%N) - ZT_START) / 1000000 ))\" >>\"$ZT_DIR/ran\"; }",
        ...lines,
        "cat \"$ZT_DIR/ran\" 2>/dev/null; true",
    ].join("\n");
    return run("unshare", ["--mount", "--propagation", "private", "bash", "-c", script]).trim().split("\n").filter(Boolean);
}

const at = (line: string) => Number(line.split(" ")[1]);

test("scheduling a name again replaces the job still waiting under it: the old time never runs the new job", (t) => {
    const ran = withLibrary([
        "first() { mark first; }; second() { mark second; }",
        "zt_run_later job zerotrust-probe 1 first",
        "zt_run_later job zerotrust-probe 2 second",
        "sleep 3",
    ]);
    t.log(ran.join("; "));
    t.is(ran.length, 1, "one job ran");
    t.regex(ran[0], /^second /);
    t.true(at(ran[0]) >= 1900, `at its own time, 2 s after it was scheduled (${at(ran[0])} ms)`);
});

test("cancelling ends a job that waits, and leaves one that has started to run to its end", (t) => {
    const ran = withLibrary([
        "first() { mark first; }; slow() { mark slow-start; sleep 1; mark slow-end; }",
        "zt_run_later waiting zerotrust-probe-a 1 first",
        "zt_cancel_later waiting zerotrust-probe-a",
        "zt_run_later started zerotrust-probe-b 0.2 slow",
        "sleep 0.7; zt_cancel_later started zerotrust-probe-b",
        "sleep 1.5",
    ]);
    t.log(ran.join("; "));
    t.deepEqual(ran.map((l) => l.split(" ")[0]), ["slow-start", "slow-end"]);
});
