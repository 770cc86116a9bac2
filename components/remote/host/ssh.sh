# shellcheck shell=bash disable=SC2034 # a fragment of the host program script.ts composes: its variables are read by the other parts
# Concern: sshd settings, as a drop-in that sshd reads before its own settings. Reload, never
# restart: the running sessions (this one included) survive.
ZT_SSHD_DROPIN=/etc/ssh/sshd_config.d/zerotrust.conf

zt_targets() { echo "sshd.conf $ZT_SSHD_DROPIN"; }

zt_validate() {
    local tmp rc
    tmp="$(mktemp "$ZT_DIR/check.XXXXXX")"
    printf 'Include %s\nInclude /etc/ssh/sshd_config\n' "$1/sshd.conf" >"$tmp"
    mkdir -p /run/sshd
    sshd -t -f "$tmp"
    rc=$?
    rm -f "$tmp"
    return $rc
}

# "<inode> <pid>" of each socket sshd itself listens on (none when systemd holds them: ssh.socket).
zt_sshd_listeners() { ss -Hltnpe 2>/dev/null | sed -n 's/.*"sshd",pid=\([0-9]*\),.* ino:\([0-9]*\) .*/\2 \1/p' | sort; }

# Whether a process has its SIGHUP handler in place (until then a SIGHUP would end it).
zt_catches_sighup() {
    local caught
    caught="$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null)"
    [ -n "$caught" ] && (( 0x$caught & 1 ))
}

# Whether systemd holds sshd's listening sockets (ssh.socket): sshd then has none of its own.
zt_sshd_socket_activated() { zt_has_systemd && systemctl is-active --quiet ssh.socket 2>/dev/null; }

zt_inodes() { cut -d' ' -f1 <<<"$1" | sort; }

# Whether sshd accepts connections and can take a reload: it listens on sockets other than the
# stale ones in $1 ("<inode> <pid>" lines), every process that listens catches SIGHUP, and without
# systemd its pid file is written again (sshd removes it while it restarts).
zt_sshd_ready() {
    local now pid
    now="$(zt_sshd_listeners)"
    [ -n "$now" ] && [ -z "$(comm -12 <(zt_inodes "$1") <(zt_inodes "$now"))" ] || return 1
    while read -r pid; do zt_catches_sighup "$pid" || return 1; done < <(cut -d' ' -f2 <<<"$now" | sort -u)
    zt_has_systemd || [ -s /run/sshd.pid ]
}

# Up to 15 s: a restart takes over a second on a slow VM.
zt_wait_sshd_ready() {
    local _
    for _ in $(seq 1 150); do
        zt_sshd_ready "$1" && return 0
        sleep 0.1
    done
    return 1
}

# SIGHUP makes sshd close its listening sockets and re-exec itself; until the new process listens,
# connections are refused, and until it catches SIGHUP again, another reload would end it. So wait
# for sshd to be ready before the reload (another one may still be under way) and after it, so that
# the next connection (the driver's confirmation, or the next concern) and reload find sshd ready.
zt_reload_sshd() {
    local before
    if zt_sshd_socket_activated; then
        systemctl reload ssh 2>/dev/null || systemctl reload sshd
        return
    fi
    zt_wait_sshd_ready "" || { zt_log "sshd was not listening within 15 s, so it was not reloaded"; return 1; }
    before="$(zt_sshd_listeners)"
    if zt_has_systemd; then
        systemctl reload ssh 2>/dev/null || systemctl reload sshd || return 1
    else
        kill -HUP "$(cat /run/sshd.pid)" || return 1
    fi
    zt_wait_sshd_ready "$before" || { zt_log "sshd did not listen again within 15 s of the reload"; return 1; }
}

zt_activate() { sshd -t && zt_reload_sshd; }

zt_verify() { sshd -t; }

zt_deactivate() { rm -f "$ZT_SSHD_DROPIN"; zt_reload_sshd; }

# sshd's effective values (`sshd -T`) of the settings the drop-in makes: as the host has them, and
# as the drop-in alone makes them. A setting another file makes first (or adds to, as AllowUsers)
# shows up as a difference.
zt_concern_state() { # dir | live
    local keys
    keys="$(grep -Ev '^[[:space:]]*(#|$)' "$ZT_STAGE/sshd.conf" | awk '{ print tolower($1) }' | sort -u | paste -sd'|')"
    mkdir -p /run/sshd
    if [ "$1" = live ]; then sshd -T 2>&1; else sshd -T -f "$1/sshd.conf" 2>&1; fi | grep -E "^($keys) " | sort -u
}
