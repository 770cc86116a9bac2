# shellcheck shell=bash # sourced by scripts/pulumi.sh
# Serialises the project's commands that change a stack: two operators who start one at once do
# not both meet Pulumi's lock and give up; one goes ahead, the other waits for it (saying for whom),
# up to ZEROTRUST_LOCK_WAIT seconds (default 900), then exits 75 with that message.
#  - file backend: flock(1) on <backend>/.pulumi/zerotrust-runs/<project>/<stack>.lock;
#  - PostgreSQL backend: a session advisory lock held by a psql process for the run.
# The lock is this shell's: the processes it starts do not inherit it (see run_unlocked), so a
# daemon a run starts cannot keep it after the run.

lock_wait="${ZEROTRUST_LOCK_WAIT:-900}"
me="$(id -un)@$(hostname), pid $$, since $(date -u +%Y-%m-%dT%H:%M:%SZ)"

lock_stack_name() { # the stack the command names, else the selected one
    local prev=""
    for a in "$@"; do
        case "$prev" in --stack | -s) echo "$a"; return ;; esac
        case "$a" in --stack=*) echo "${a#--stack=}"; return ;; esac
        prev="$a"
    done
    pulumi stack --show-name --non-interactive
}

give_up() { # holder
    echo "zerotrust: gave up after ${lock_wait} s waiting for the run of $1 on stack $stack; run the command again once it has ended (or set ZEROTRUST_LOCK_WAIT to wait longer)" >&2
    exit 75
}

lock_file_backend() { # backend dir, project
    local dir="$1/.pulumi/zerotrust-runs/$2"
    mkdir -p "$dir"
    exec {run_lock_fd}<>"$dir/$stack.lock"
    if ! flock -n "$run_lock_fd"; then
        local holder
        holder="$(cat "$dir/$stack.holder" 2>/dev/null || echo "another run")"
        echo "zerotrust: stack $stack is in use by the run of $holder; waiting for it (up to ${lock_wait} s)" >&2
        flock -w "$lock_wait" "$run_lock_fd" || give_up "$holder"
        echo "zerotrust: the other run has ended; going ahead" >&2
    fi
    echo "$me" >"$dir/$stack.holder"
}

lock_postgres_backend() { # project
    local key="zerotrust/$1/$stack" line holder
    # libpq's environment from the URL (no password on a command line); who we are, for the waiter.
    local exports
    # shellcheck disable=SC2154 # root: set by scripts/pulumi.sh, which sources this file
    exports="$(node "$root/build/scripts/pg-env.js")"
    eval "$exports"
    export PGAPPNAME="zerotrust $me"
    # Held for as long as this shell lives: its end (even by SIGKILL) closes the pipe, psql ends, and
    # the server drops the session's lock. Line-buffered: psql buffers its output to a pipe.
    coproc RUN_LOCK { exec stdbuf -oL psql -X -q -A -t -v ON_ERROR_STOP=1 -v "key=$key" 2>&1; }
    echo "SELECT pg_try_advisory_lock(hashtext(:'key'));" >&"${RUN_LOCK[1]}"
    read -r -t 60 line <&"${RUN_LOCK[0]}" || line="no answer from psql within 60 s"
    if [ "$line" != t ]; then
        [ "$line" = f ] || { echo "zerotrust: cannot take the run lock in PostgreSQL: $line" >&2; exit 1; }
        echo "SELECT coalesce((SELECT substr(a.application_name, 10) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND l.objid::bigint = (hashtext(:'key')::bigint & 4294967295) LIMIT 1), 'another run');" >&"${RUN_LOCK[1]}"
        read -r -t 60 holder <&"${RUN_LOCK[0]}" || holder="another run"
        echo "zerotrust: stack $stack is in use by the run of $holder; waiting for it (up to ${lock_wait} s)" >&2
        printf "SET lock_timeout = '%ss';\nSELECT 'locked' FROM pg_advisory_lock(hashtext(:'key'));\n" "$lock_wait" >&"${RUN_LOCK[1]}"
        read -r line <&"${RUN_LOCK[0]}" || line="psql ended"
        case "$line" in
        locked) ;;
        *"lock timeout"*) give_up "$holder" ;;
        *) echo "zerotrust: cannot take the run lock in PostgreSQL: $line" >&2; exit 1 ;;
        esac
        echo "zerotrust: the other run has ended; going ahead" >&2
    fi
}

take_run_lock() { # pulumi args
    stack="$(lock_stack_name "$@")"
    stack="${stack##*/}"
    local project
    project="$(sed -n 's/^name: *["'\'']\{0,1\}\([^"'\'' ]*\).*/\1/p' Pulumi.yaml | head -1)"
    case "${PULUMI_BACKEND_URL:-}" in
    file://*) lock_file_backend "${PULUMI_BACKEND_URL#file://}" "$project" ;;
    postgres://* | postgresql://*) lock_postgres_backend "$project" ;;
    esac
}

# Runs a command without the flock descriptor (a daemon it starts must not keep the lock; bash
# itself keeps a coprocess's pipes from the commands it runs).
run_unlocked() {
    if [ -n "${run_lock_fd:-}" ]; then "$@" {run_lock_fd}>&-; else "$@"; fi
}
