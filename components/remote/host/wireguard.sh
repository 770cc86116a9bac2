# Concern: the WireGuard interface. Peer changes go through `wg syncconf` (untouched peers keep
# their sessions); only interface-level changes (Address, MTU) take the interface down and up.
ZT_WG_CONF="/etc/wireguard/$ZT_IFACE.conf"

zt_targets() { echo "wg.conf $ZT_WG_CONF"; }

zt_validate() { # staging dir
    local tmp
    tmp="$(mktemp -d "$ZT_DIR/check.XXXXXX")"
    cp "$1/wg.conf" "$tmp/$ZT_IFACE.conf"
    wg-quick strip "$tmp/$ZT_IFACE.conf" >"$tmp/stripped" && grep '^PrivateKey' "$tmp/stripped" >/dev/null
    local rc=$?
    rm -rf "$tmp"
    return $rc
}

zt_interface_lines() { grep -E '^(Address|MTU) *=' "$1" 2>/dev/null | sort; }

zt_wg_up() {
    if zt_has_systemd; then
        systemctl enable --quiet "wg-quick@$ZT_IFACE" 2>/dev/null || true
        systemctl restart "wg-quick@$ZT_IFACE"
    else
        wg-quick down "$ZT_IFACE" >/dev/null 2>&1 || true
        wg-quick up "$ZT_IFACE" >/dev/null
    fi
}

zt_activate() { # "new" or "previous"
    local before="$ZT_DIR/previous/wg.conf"
    [ "$1" = previous ] && before="$ZT_DIR/staging/wg.conf"
    if ip link show "$ZT_IFACE" >/dev/null 2>&1 && [ -e "$before" ] &&
        [ "$(zt_interface_lines "$before")" = "$(zt_interface_lines "$ZT_WG_CONF")" ]; then
        wg syncconf "$ZT_IFACE" <(wg-quick strip "$ZT_IFACE")
        echo "wg syncconf" >&2
    else
        zt_wg_up
        echo "wg-quick up" >&2
    fi
}

zt_verify() {
    local want got
    want="$(wg-quick strip "$ZT_IFACE" | sed -n 's/^PrivateKey *= *//p' | wg pubkey)"
    got="$(wg show "$ZT_IFACE" public-key 2>/dev/null)" || return 1
    [ "$want" = "$got" ] || return 1
    local addr
    addr="$(sed -n 's/^Address *= *//p' "$ZT_WG_CONF" | head -n1)"
    ip -o addr show dev "$ZT_IFACE" | grep " ${addr%%/*}/" >/dev/null
}

zt_deactivate() {
    if zt_has_systemd; then systemctl disable --now --quiet "wg-quick@$ZT_IFACE" 2>/dev/null || true; fi
    # Over the mesh, taking wg down cuts this very session: detach it and let the session end first.
    setsid bash -c "sleep 1; wg-quick down '$ZT_IFACE' || ip link del '$ZT_IFACE'" </dev/null >/dev/null 2>&1 &
}
