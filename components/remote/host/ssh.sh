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

zt_reload_sshd() {
    if zt_has_systemd; then
        systemctl reload ssh 2>/dev/null || systemctl reload sshd
    else
        kill -HUP "$(cat /run/sshd.pid)"
    fi
}

zt_activate() { sshd -t && zt_reload_sshd; }

zt_verify() { sshd -t; }

zt_deactivate() { rm -f "$ZT_SSHD_DROPIN"; zt_reload_sshd; }
