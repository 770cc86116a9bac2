# shellcheck shell=bash disable=SC2034 # a fragment of the host program script.ts composes: its variables are read by the other parts
# zerotrust host library: the apply protocol every concern follows.
# Sent on stdin with the concern's script and payload; nothing secret is ever an argument.
# A concern script defines: zt_targets (name -> path pairs), zt_validate, zt_activate, zt_verify,
# zt_deactivate (teardown), and zt_concern_state (see zt_state).
ZT_STATE=/var/lib/zerotrust
ZT_DIR="$ZT_STATE/$ZT_CONCERN"
# Payload files compared by meaning rather than by bytes (a CRL is remade at every apply).
ZT_SEMANTIC_FILES=""

zt_log() { printf 'zerotrust %s: %s\n' "$ZT_CONCERN" "$*" >&2; }
zt_has_systemd() { [ -d /run/systemd/system ]; }

# Installs (atomically) and enables a systemd unit whose text arrives on stdin; `zt_remove_unit`
# undoes it. Units are how a concern survives a reboot on hosts with systemd.
zt_install_unit() { # unit name
    local path="/etc/systemd/system/$1"
    cat >"$path.zt-new"
    mv -f "$path.zt-new" "$path"
    systemctl daemon-reload
    systemctl enable --quiet "$1"
}

zt_remove_unit() { # unit name
    local path="/etc/systemd/system/$1"
    [ -e "$path" ] || return 0
    systemctl disable --now --quiet "$1" || true
    rm -f "$path"
    systemctl daemon-reload
}

# The release this host runs, as ID-VERSION_ID of its os-release ("debian-12").
zt_host_release() {
    local file=/etc/os-release
    [ -r "$file" ] || file=/usr/lib/os-release
    # shellcheck source=/dev/null # the host's own os-release, read for ID and VERSION_ID only
    (. "$file" 2>/dev/null && printf '%s-%s\n' "${ID:-unknown}" "${VERSION_ID:-unknown}")
}

# The payload was rendered for ZT_RELEASE: on another release its files may be refused or mean
# something else, so nothing is staged or swapped in there (checked before staging begins).
zt_check_release() {
    [ -n "${ZT_RELEASE:-}" ] || return 0
    local actual
    actual="$(zt_host_release)"
    [ "$actual" = "$ZT_RELEASE" ] && return 0
    zt_log "FAILED: this host runs $actual, but its configuration was rendered for $ZT_RELEASE; nothing was changed." \
        "Set the node's release to \"$actual\" if it is supported, or deploy onto a $ZT_RELEASE host"
    exit 1
}

zt_stage_begin() {
    zt_check_release
    mkdir -p "$ZT_DIR"
    rm -rf "$ZT_DIR/staging"
    mkdir -m 700 "$ZT_DIR/staging"
    ZT_STAGE="$ZT_DIR/staging"
}

# A check stages the payload in a private scratch directory that goes when the program ends, so
# that it leaves the host as it found it (not even a state directory for a concern never applied).
zt_check_begin() {
    zt_check_release
    ZT_STAGE="$(mktemp -d /run/zerotrust-check.XXXXXX)" || exit 1
    trap 'rm -rf "$ZT_STAGE"' EXIT
}

zt_stage_file() { cat >"$ZT_STAGE/$1"; }

zt_digest() { sha256sum | cut -c1-16; }

# The state of a concern as sorted-where-order-does-not-matter lines, either as the payload in a
# directory says it should be, or as the host has it ("live"). Both sides go through the same
# tools, so equal lines mean equal state. Secrets appear only as digests or public keys.
zt_state() { # dir | live
    local name path src
    while read -r name path; do
        [[ " $ZT_SEMANTIC_FILES " == *" $name "* ]] && continue
        if [ "$1" = live ]; then src="$path"; else src="$1/$name"; fi
        if [ -e "$src" ]; then echo "file $path sha256:$(zt_digest <"$src")"; else echo "file $path absent"; fi
    done < <(zt_targets)
    zt_concern_state "$1"
}

# "unit NAME enabled" and, with "active", "unit NAME active": as systemd has it (live) or as it
# should be; nothing without systemd. A oneshot unit that loads state at boot (the firewall's) is
# enabled but need not be active: the state it loads is checked for itself.
zt_unit_state() { # unit, live|expected, [active]
    zt_has_systemd || return 0
    local enabled=enabled active=active
    if [ "$2" = live ]; then
        enabled="$(systemctl is-enabled "$1" 2>/dev/null)"
        active="$(systemctl is-active "$1" 2>/dev/null)"
    fi
    echo "unit $1 ${enabled:-not-found}"
    if [ "${3:-}" = active ]; then echo "unit $1 ${active:-unknown}"; fi
}

zt_in_sync() { [ "$(zt_state "$ZT_STAGE" 2>&1)" = "$(zt_state live 2>&1)" ]; }

# Read-only: what the payload says, then what the host has. The deployer compares the two.
zt_check() {
    echo "=== expected"
    zt_state "$ZT_STAGE"
    echo "=== live"
    zt_state live
}

# Snapshot what is in place now, so a failed apply or an unconfirmed one can put it back.
zt_snapshot() {
    rm -rf "$ZT_DIR/previous"
    mkdir -m 700 "$ZT_DIR/previous"
    local name path
    while read -r name path; do
        if [ -e "$path" ]; then cp -p "$path" "$ZT_DIR/previous/$name"; else : >"$ZT_DIR/previous/$name.absent"; fi
    done < <(zt_targets)
}

# Atomic swap: each file is written beside its target and renamed over it.
zt_install_from() { # dir
    local name path
    while read -r name path; do
        if [ -e "$1/$name.absent" ]; then rm -f "$path"; continue; fi
        mkdir -p "$(dirname "$path")"
        install -m 600 "$1/$name" "$path.zt-new"
        mv -f "$path.zt-new" "$path"
    done < <(zt_targets)
}

zt_unchanged() {
    local name path
    while read -r name path; do
        [ -e "$path" ] && cmp -s "$ZT_DIR/staging/$name" "$path" || return 1
    done < <(zt_targets)
    [ ! -e "$ZT_DIR/armed" ]
}

# Whether the snapshot holds a file, not only marks of targets that were absent.
zt_previous_has_files() {
    local f
    for f in "$ZT_DIR/previous"/*; do
        [ -e "$f" ] && [[ "$f" != *.absent ]] && return 0
    done
    return 1
}

zt_restore_previous() {
    zt_install_from "$ZT_DIR/previous"
    if zt_previous_has_files; then zt_activate previous; else zt_deactivate; fi
}

# Runs a function of this library SECONDS from now, detached, from a frozen copy of the library
# with every ZT_ setting: a systemd timer where there is systemd, a sleeping session of its own
# otherwise (its process group id in NAME.pid while it waits, so that it can be cancelled).
zt_run_later() { # name, systemd unit, seconds, function
    local script="$ZT_DIR/$1.sh" pidfile="$ZT_DIR/$1.pid"
    # A job still waiting under this name would run the script written here, at its own time.
    zt_cancel_later "$1" "$2"
    {
        echo "#!/bin/bash"
        # Every ZT_ setting, the concern's own included (ZT_NFT_FILE, ZT_IFACE, ...).
        # shellcheck disable=SC2046 # variable names (no blanks, no glob characters), split on purpose
        declare -p $(compgen -v ZT_) | sed 's/^declare -[a-zA-Z-]* /declare -g /'
        declare -f
        echo "$4"
    } >"$script.new"
    chmod 700 "$script.new"
    # A new file, not the old one rewritten: bash reads a script as it runs, and a job may be running it.
    mv -f "$script.new" "$script"
    if zt_has_systemd && command -v systemd-run >/dev/null; then
        systemctl stop "$2.service" >/dev/null 2>&1 || true
        systemctl reset-failed "$2.service" "$2.timer" >/dev/null 2>&1 || true
        systemd-run --quiet --unit "$2" --on-active="${3}s" /bin/bash "$script"
    else
        # Once it runs, cancelling no longer ends it, as with a systemd timer that has fired.
        setsid bash -c "sleep $3; rm -f '$pidfile'; exec /bin/bash '$script'" </dev/null >/dev/null 2>&1 &
        echo "$!" >"$pidfile"
    fi
}

# Cancels a job of zt_run_later that is still waiting.
zt_cancel_later() { # name, systemd unit (as given to zt_run_later)
    if zt_has_systemd && command -v systemd-run >/dev/null; then
        systemctl stop "$2.timer" >/dev/null 2>&1 || true
    elif [ -s "$ZT_DIR/$1.pid" ]; then
        # Its session and process group exist once setsid has run; just after the fork, only its pid does.
        local pid
        pid="$(cat "$ZT_DIR/$1.pid")"
        kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    fi
    rm -f "$ZT_DIR/$1.pid"
}

# Named after ZT_DIR when called: the key cut-over keeps a rollback of its own in a directory of its own.
zt_rollback_unit() { echo "zerotrust-rollback-${ZT_DIR##*/}"; }

# Rollback timer: unless a new connection confirms within the window, the host restores the
# previous state by itself.
zt_arm() {
    printf '%s\n' "$ZT_TOKEN" >"$ZT_DIR/armed"
    zt_run_later rollback "$(zt_rollback_unit)" "$ZT_ROLLBACK_SECONDS" zt_rollback_if_armed
    zt_log "rollback armed: $ZT_ROLLBACK_SECONDS s to confirm over a new connection"
}

zt_disarm_timer() { zt_cancel_later rollback "$(zt_rollback_unit)"; }

# No rollback pending any more: its timer stopped and its mark removed.
zt_disarm() { zt_disarm_timer; rm -f "$ZT_DIR/armed"; }

# Whether the change pending on this host is this program's own (its payload's token).
zt_armed_by_token() { [ -e "$ZT_DIR/armed" ] && [ "$(cat "$ZT_DIR/armed")" = "$ZT_TOKEN" ]; }

zt_rollback_if_armed() {
    zt_armed_by_token || exit 0
    # A concern may know better than the clock (the key cut-over: peers already use the new key).
    if declare -F zt_keep_unconfirmed >/dev/null && zt_keep_unconfirmed; then
        rm -f "$ZT_DIR/armed"
        printf '%s kept %s: not confirmed within %ss, but %s\n' "$(date -u +%FT%TZ)" "$ZT_TOKEN" "$ZT_ROLLBACK_SECONDS" "$ZT_KEPT_BECAUSE" >>"$ZT_DIR/rollbacks.log"
        return 0
    fi
    local outcome="rolled back"
    zt_restore_previous || outcome="FAILED to roll back"
    rm -f "$ZT_DIR/armed"
    printf '%s %s %s: not confirmed within %ss\n' "$(date -u +%FT%TZ)" "$outcome" "$ZT_TOKEN" "$ZT_ROLLBACK_SECONDS" >>"$ZT_DIR/rollbacks.log"
}

zt_apply() {
    # A concern may settle something first (the WireGuard key cut-over, confirmed by this very connection).
    if declare -F zt_before_apply >/dev/null; then zt_before_apply || exit 1; fi
    # In sync too: a hand-made change (an added rule, an extra peer) is drift that an apply repairs.
    if zt_unchanged && zt_verify 2>/dev/null && zt_in_sync; then
        zt_log "unchanged"
        echo "unchanged"
        return 0
    fi
    zt_validate "$ZT_DIR/staging" || { zt_log "FAILED: validation refused the new $ZT_CONCERN config; nothing was changed"; exit 1; }
    # A rollback still pending from an unconfirmed apply goes first: "previous" must be last good.
    if [ -e "$ZT_DIR/armed" ]; then
        zt_disarm_timer
        zt_restore_previous
        rm -f "$ZT_DIR/armed"
    fi
    zt_snapshot
    zt_install_from "$ZT_DIR/staging"
    if ! zt_activate new || ! zt_verify; then
        zt_log "FAILED: applying or verifying the new $ZT_CONCERN config; restoring the previous one"
        zt_restore_previous || zt_log "restoring the previous config failed too"
        exit 1
    fi
    zt_arm
    echo "applied"
}

zt_confirm() {
    if [ ! -e "$ZT_DIR/armed" ]; then
        if grep -q " rolled back $ZT_TOKEN" "$ZT_DIR/rollbacks.log" 2>/dev/null; then
            zt_log "FAILED: the change was already rolled back (confirmation came too late)"; exit 1
        fi
        # Confirmed before, or never armed: an interrupted update's settlement tells them apart by this.
        echo "nothing to confirm"; return 0
    fi
    [ "$(cat "$ZT_DIR/armed")" = "$ZT_TOKEN" ] || { zt_log "FAILED: a different change ($(cat "$ZT_DIR/armed")) is pending"; exit 1; }
    zt_disarm
    echo "confirmed"
}

zt_teardown() {
    [ -e "$ZT_DIR/armed" ] && zt_disarm_timer
    zt_deactivate
    local name path
    while read -r name path; do rm -f "$path"; done < <(zt_targets)
    rm -rf "$ZT_DIR"
    echo "removed"
}

zt_action() {
    case "$ZT_ACTION" in
        apply) zt_apply ;;
        confirm) zt_confirm ;;
        check) zt_check ;;
        teardown) zt_teardown ;;
        cutover) zt_cutover ;;
        commit) zt_commit ;;
        *) zt_log "unknown action $ZT_ACTION"; exit 2 ;;
    esac
}

# An action that changes the host runs to its end even when the deployer's connection goes (a
# killed `pulumi up`): its output goes to private files and is passed on only once it is done, so
# no write to the closed connection ends it between the swap and the arming of its rollback.
# Nothing reads the connection either. A check changes nothing and streams its output as it comes.
zt_main() {
    [ "$ZT_ACTION" = check ] && { zt_action; return; }
    local out rc
    out="$(mktemp -d /run/zerotrust-action.XXXXXX)" || exit 1
    (zt_action) </dev/null >"$out/stdout" 2>"$out/stderr"
    rc=$?
    cat "$out/stdout"
    cat "$out/stderr" >&2
    rm -rf "$out"
    exit "$rc"
}
