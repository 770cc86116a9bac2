# Concern: the WireGuard interface. Key and peer changes go through `wg set` on what differs
# (wg-update.sh: untouched peers keep their sessions and their allowed IPs); only interface-level
# changes (Address, MTU) take the interface down and up.
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
        local stripped
        stripped="$(mktemp "$ZT_DIR/stripped.XXXXXX")" && wg-quick strip "$ZT_IFACE" >"$stripped" &&
            zt_wg_update "$ZT_IFACE" "$stripped"
        local rc=$?
        rm -f "$stripped"
        return $rc
    else
        zt_wg_up
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

# A wg configuration (a wg-quick file stripped, or `wg showconf`) on stdin as sorted lines. Peer
# endpoints are left out: WireGuard updates them itself when a peer roams.
zt_wg_lines() {
    awk '
        function flush(  i) { if (pub != "") for (i = 1; i <= n; i++) print "peer " pub " " kept[i]; n = 0; pub = "" }
        /^[ \t]*\[Interface\]/ { flush(); section = "interface"; next }
        /^[ \t]*\[Peer\]/ { flush(); section = "peer"; next }
        {
            sub(/#.*/, ""); eq = index($0, "="); if (!eq) next
            key = tolower(substr($0, 1, eq - 1)); gsub(/[ \t]/, "", key)
            value = substr($0, eq + 1); gsub(/^[ \t]+|[ \t]+$/, "", value)
        }
        section == "interface" && key == "privatekey" { print "interface private-key-raw " value }
        section == "interface" && key == "listenport" { print "interface listen-port " value }
        section == "interface" && key == "fwmark" { print "interface fwmark " value }
        section == "peer" && key == "publickey" { pub = value }
        section == "peer" && key == "presharedkey" { kept[++n] = "preshared-key-raw " value }
        section == "peer" && key == "persistentkeepalive" && value != "off" && value != "0" { kept[++n] = "keepalive " value }
        section == "peer" && key == "allowedips" { gsub(/[ \t]/, "", value); m = split(value, ips, ","); for (i = 1; i <= m; i++) kept[++n] = "allowed-ip " ips[i] }
        END { flush() }
    ' | while IFS= read -r line; do
        # Keys never leave the host: the private key as its public key, a pre-shared key as a digest.
        case "$line" in
            "interface private-key-raw "*) echo "interface public-key $(printf '%s\n' "${line##* }" | wg pubkey)" ;;
            *" preshared-key-raw "*) echo "${line%% preshared-key-raw *} preshared-key sha256:$(printf '%s' "${line##* }" | zt_digest)" ;;
            *) echo "$line" ;;
        esac
    done | sort
}

zt_concern_state() { # dir | live
    if [ "$1" = live ]; then
        if ! ip link show "$ZT_IFACE" >/dev/null 2>&1; then echo "interface $ZT_IFACE absent"; else
            ip -o -4 addr show dev "$ZT_IFACE" | awk '{ print "interface address " $4 }' | sort
            echo "interface mtu $(cat "/sys/class/net/$ZT_IFACE/mtu")"
            wg showconf "$ZT_IFACE" | zt_wg_lines
        fi
        zt_unit_state "wg-quick@$ZT_IFACE.service" live active
    else
        sed -n 's/^Address *= *//p' "$1/wg.conf" | tr ',' '\n' | tr -d ' ' | awk 'NF { print "interface address " $0 }' | sort
        echo "interface mtu $(sed -n 's/^MTU *= *//p' "$1/wg.conf")"
        wg-quick strip "$1/wg.conf" | zt_wg_lines
        zt_unit_state "wg-quick@$ZT_IFACE.service" expected active
    fi
}
