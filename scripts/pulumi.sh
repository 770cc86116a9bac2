#!/usr/bin/env bash
# `pulumi` as the project's commands run it. Usage: pulumi.sh PULUMI-ARGS...
# Before a command that changes the stack:
#  - it waits its turn: one run of the project's commands at a time per stack (scripts/run-lock.sh);
#  - Pulumi's own locks that a killed run left, provably stale, are removed; one that may be live
#    is reported with who holds it and what to run, and the command stops (scripts/stack-locks.ts);
#  - before an update or a destroy, the operations an interrupted update left pending in the state
#    are settled on their hosts and removed from the state (scripts/pending-operations.ts).
# No process it starts outlives it, even if pulumi is killed (scripts/supervise.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
case "${1:-}" in
up | update | destroy | refresh)
    . "$root/scripts/run-lock.sh"
    take_run_lock "${@:2}"
    run_unlocked node "$root/build/scripts/stack-locks.js" "${@:2}"
    case "$1" in
    refresh) ;;
    *) run_unlocked bash "$root/scripts/supervise.sh" node "$root/build/scripts/pending-operations.js" "${@:2}" ;;
    esac
    # Not exec: this shell holds the run lock until pulumi ends, and passes on a signal sent to it
    # (as exec did). Stdin stays the terminal's, for pulumi's questions.
    run_unlocked bash "$root/scripts/supervise.sh" pulumi "$@" <&0 &
    child=$!
    trap 'kill -TERM "$child" 2>/dev/null' TERM HUP
    trap 'kill -INT "$child" 2>/dev/null' INT
    rc=0
    while :; do
        wait "$child" && rc=0 || rc=$?
        kill -0 "$child" 2>/dev/null || break # a trapped signal interrupts wait; the child goes on
    done
    exit "$rc"
    ;;
esac
exec bash "$root/scripts/supervise.sh" pulumi "$@"
