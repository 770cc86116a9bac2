# shellcheck shell=bash disable=SC2034 # a fragment of the host program script.ts composes: its variables are read by the other parts
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
    zt_cancel_cutover
    rm -rf "$ZT_CUTOVER_DIR"
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
            # Both families (a mesh with an IPv6 range too); link-local addresses are the kernel's, not ours.
            ip -o addr show dev "$ZT_IFACE" scope global | awk '{ print "interface address " $4 }' | sort
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

# --- Key cut-over, for nodes the deployer reaches only over the mesh. Its tunnel to this node breaks
# as soon as either end has the new key, so the switch cannot be applied and confirmed over one
# path. Instead: the new key is staged over the old tunnel, and the switch happens by itself
# ZT_SWITCH_SECONDS later, with a rollback armed; in between the deployer's tunnel takes the new
# public key. The next apply, which can only reach this node over the new tunnel, confirms it.
ZT_CUTOVER_DIR="$ZT_STATE/wireguard-cutover"
ZT_SWITCH_UNIT="zerotrust-keyswitch-$ZT_IFACE"
# The cut-over runs the apply protocol's own machinery (snapshot, arm, roll back) in a directory of its own.
case "$ZT_ACTION" in cutover | commit) ZT_DIR="$ZT_CUTOVER_DIR" ;; esac

zt_cutover() {
    # One pending already: if it has switched, this connection came through its keys and confirms it;
    # if not, it is cancelled (nothing has changed yet) and this one takes its place.
    if [ -e "$ZT_DIR/armed" ]; then
        if zt_cutover_switched; then zt_confirm_cutover; else zt_cancel_cutover; fi
    fi
    if [ ! -e "$ZT_WG_CONF" ] || ! ip link show "$ZT_IFACE" >/dev/null 2>&1; then
        zt_log "FAILED: no $ZT_IFACE in place to switch the keys of"; exit 1
    fi
    zt_cutover_config "$ZT_WG_CONF" >"$ZT_STAGE/wg.conf"
    if cmp -s "$ZT_STAGE/wg.conf" "$ZT_WG_CONF" && zt_verify; then
        zt_log "the keys in place are already the new ones"; echo "unchanged"; return 0
    fi
    zt_validate "$ZT_STAGE" || { zt_log "FAILED: validation refused the configuration with the new keys; nothing was changed"; exit 1; }
    zt_snapshot
    rm -f "$ZT_DIR/switched-at" "$ZT_DIR/committed"
    zt_digest <"$ZT_STAGE/wg.conf" >"$ZT_DIR/pending.sha"
    local switch_at=$(($(date +%s) + ZT_SWITCH_SECONDS))
    # The window covers the wait before the switch as well as the confirmation after it.
    ZT_ROLLBACK_SECONDS=$((ZT_SWITCH_SECONDS + ZT_ROLLBACK_SECONDS)) zt_arm
    zt_run_later switch "$ZT_SWITCH_UNIT" "$ZT_SWITCH_SECONDS" zt_switch_if_armed
    zt_log "key switch at $(date -u -d "@$switch_at" +%TZ), in $ZT_SWITCH_SECONDS s"
    echo "switch at $switch_at"
}

# The configuration in place with only the keys the cut-over carries replaced: this node's private
# key (wg.key), and the deployer's own peer's public key and their pair's pre-shared key
# (deployer.peer: "<mesh address> <public key> [<pre-shared key>]", found by its allowed IP): after
# the switch the deployer's tunnel handshakes with both, so a PSK left old would lock it out.
# Other peers are the regular apply's business.
zt_cutover_config() { # configuration file
    local deployer=/dev/null
    [ -e "$ZT_STAGE/deployer.peer" ] && deployer="$ZT_STAGE/deployer.peer"
    awk -v keyfile="$ZT_STAGE/wg.key" -v peerfile="$deployer" '
        BEGIN {
            getline key <keyfile
            if ((getline line <peerfile) > 0) { split(line, d, " "); addr = d[1] "/32"; pub = d[2]; psk = d[3] }
        }
        function flush(   i, l) {
            for (i = 1; i <= n; i++) {
                l = buf[i]
                if (hit && l ~ /^[ \t]*PublicKey[ \t]*=/) l = "PublicKey = " pub
                if (hit && psk != "" && l ~ /^[ \t]*PresharedKey[ \t]*=/) l = "PresharedKey = " psk
                print l
            }
            n = 0; hit = 0
        }
        /^[ \t]*\[/ { flush() }
        /^[ \t]*PrivateKey[ \t]*=/ { $0 = "PrivateKey = " key }
        /^[ \t]*AllowedIPs[ \t]*=/ && addr != "" { ips = $0; sub(/^[^=]*=/, "", ips); gsub(/[ \t]/, "", ips); if (index("," ips ",", "," addr ",")) hit = 1 }
        { buf[++n] = $0 }
        END { flush() }
    ' "$1"
}

# Whether the pending cut-over's configuration is the one in place (the switch has happened).
zt_cutover_switched() {
    [ -s "$ZT_CUTOVER_DIR/pending.sha" ] && [ "$(zt_digest <"$ZT_WG_CONF")" = "$(cat "$ZT_CUTOVER_DIR/pending.sha")" ] && zt_verify
}

# A pending cut-over that has not switched yet is dropped: its switch and its rollback cancelled.
# Both work in the cut-over's directory: ZT_DIR is local, so the functions they call see it until they return.
zt_cancel_cutover() {
    local ZT_DIR="$ZT_CUTOVER_DIR"
    zt_cancel_later switch "$ZT_SWITCH_UNIT" && zt_disarm
}

zt_confirm_cutover() {
    local ZT_DIR="$ZT_CUTOVER_DIR"
    zt_disarm
    zt_log "key switch confirmed: this connection reached the node through the new keys"
}

zt_switch_if_armed() {
    zt_armed_by_token || exit 0
    zt_install_from "$ZT_DIR/staging"
    if zt_activate new && zt_verify; then
        date +%s >"$ZT_DIR/switched-at"
        printf '%s switched %s\n' "$(date -u +%FT%TZ)" "$ZT_TOKEN" >>"$ZT_DIR/switches.log"
    else
        zt_restore_previous
        zt_disarm
        printf '%s switch FAILED, previous key restored %s\n' "$(date -u +%FT%TZ)" "$ZT_TOKEN" >>"$ZT_DIR/switches.log"
    fi
}

# Sent by the deployer once it has the cut-over's answer (a second connection, before the switch):
# the stack now records the new key, and every later update gives it out.
zt_commit() {
    zt_armed_by_token || { zt_log "FAILED: no key switch $ZT_TOKEN is pending to commit"; exit 1; }
    : >"$ZT_DIR/committed"
    echo "committed"
}

# The cut-over's rollback is for a key the stack does not hold: the deployer never got the
# cut-over's answer, so the update failed there. Once the stack records the new key (committed), or
# a peer has made a handshake with it (the stack gave it out), the old key back would not match
# what the deployer's tunnel and every later update hold: the node would be cut off for good.
# Kept, it is confirmed by the next update that reaches it.
zt_keep_unconfirmed() {
    [ "$ZT_ACTION" = cutover ] && [ -s "$ZT_DIR/switched-at" ] || return 1
    if [ -e "$ZT_DIR/committed" ]; then ZT_KEPT_BECAUSE="the deployer recorded the new key"; return 0; fi
    local since peers
    since="$(cat "$ZT_DIR/switched-at")"
    peers="$(wg show "$ZT_IFACE" latest-handshakes | awk -v since="$since" '$2 >= since { n++ } END { print n + 0 }')"
    [ "$peers" -gt 0 ] || return 1
    ZT_KEPT_BECAUSE="$peers peer(s) made a handshake with the new key since the switch"
}

# Called by the regular apply: reaching this node at all once the switch is due proves the new key.
zt_before_apply() {
    [ -e "$ZT_CUTOVER_DIR/armed" ] || return 0
    if ! zt_cutover_switched; then
        zt_log "FAILED: a key switch is pending and not yet made, so this connection came over the old keys: the deployer's tunnel still has this node's old public key, or its own old key (its WireGuard configuration must be updated after the cut-over and before this apply)"
        return 1
    fi
    zt_confirm_cutover
}
