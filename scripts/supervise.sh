#!/usr/bin/env bash
# Runs one command of the project (pulumi, or a script that runs it) so that no process it starts
# outlives it: when the command ends, however it ends (SIGKILL too), every process it left behind
# is ended. Usage: supervise.sh COMMAND [ARGS...]; exits with the command's status.
#
# How a process is proven to be this run's: the run puts a random marker in the environment
# (ZT_RUN=<id>), which every descendant inherits (the language host, the plugins, the drivers and
# their ssh), and it belongs to the session the run was started in. Daemons a run starts on
# purpose (a lab host's sshd, the operator's wireguard-go) carry the marker too, but each has a
# session of its own (setsid), so they are left alone. Nothing is ever matched by name.
# A run whose supervisor was itself killed leaves a record (.pulumi/runs/<id>: its supervisor's
# pid, start time and session); the next run ends that run's processes, by the same proof.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${ZT_RUNS_DIR:-$root/.pulumi/runs}"

# Fields of /proc/PID/stat after the command name (which may hold blanks): $1 is the state.
stat_field() { # pid, index after the name (0: field 3 of stat(5), the state)
    local s f
    s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    read -ra f <<<"${s##*) }"
    echo "${f[$2]}"
}
session_of() { stat_field "$1" 3; }  # field 6: the session id
started_at() { stat_field "$1" 19; } # field 22: the start time, in clock ticks since boot

# Pids of the processes that carry the marker of run $1 and are in session $2, except this shell.
run_processes() {
    local file pid
    # One grep over every environment (NUL-separated entries); a process gone meanwhile is skipped.
    while read -r file; do
        pid="${file#/proc/}"
        pid="${pid%/environ}"
        [ "$pid" != "$$" ] && [ "$(session_of "$pid")" = "$2" ] && echo "$pid"
    done < <(grep -lzx "ZT_RUN=$1" /proc/[0-9]*/environ 2>/dev/null)
}

describe() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | cut -c1-100; }

# Ends the processes of run $1 in session $2: SIGTERM, then SIGKILL for what is left after 5 s.
end_run() { # id, session, what to call them in the message
    local pids pid _
    pids="$(run_processes "$1" "$2")"
    [ -n "$pids" ] || return 0
    for pid in $pids; do
        echo "zerotrust: ending pid $pid ($(describe "$pid")), $3" >&2
        kill -TERM "$pid" 2>/dev/null
        kill -CONT "$pid" 2>/dev/null # a stopped process acts on SIGTERM only once it runs again
    done
    for _ in $(seq 50); do
        [ -n "$(run_processes "$1" "$2")" ] || return 0
        sleep 0.1
    done
    for pid in $(run_processes "$1" "$2"); do kill -KILL "$pid" 2>/dev/null; done
}

# Runs whose supervisor is gone (killed with the rest, or by itself): their processes and files go.
sweep_earlier_runs() {
    local record id pid start session
    for record in "$runs"/*/supervisor; do
        [ -e "$record" ] || continue
        id="$(basename "$(dirname "$record")")"
        read -r pid start session <"$record"
        # Still running: the same process (its start time), and not a zombie waiting to be reaped.
        [ "$(started_at "$pid")" = "$start" ] && [ "$(stat_field "$pid" 0)" != Z ] && continue
        end_run "$id" "$session" "left by an earlier run ($id) that was interrupted"
        rm -rf "${runs:?}/$id"
    done
}

[ $# -gt 0 ] || { echo "usage: supervise.sh COMMAND [ARGS...]" >&2; exit 2; }
mkdir -p "$runs"
sweep_earlier_runs
id="$(date -u +%Y%m%dT%H%M%SZ)-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
run="$runs/$id"
mkdir -p "$run"
chmod 700 "$run"
mkdir "$run/tmp"
echo "$$ $(started_at $$) $(session_of $$)" >"$run/supervisor"
# TMPDIR: the drivers' private SSH files of an interrupted run are removed with the run's record.
ZT_RUN="$id" TMPDIR="$run/tmp" "$@"
rc=$?
end_run "$id" "$(session_of $$)" "left behind by: $*"
rm -rf "$run"
exit "$rc"
