# shellcheck shell=bash disable=SC2034 # a fragment of the host program script.ts composes: its variables are read by the other parts
# Brings a live WireGuard interface to a stripped configuration file with one `wg set`, touching only
# what differs. Unlike `wg syncconf`, a peer whose allowed IPs stay the same is updated without
# replacing them: syncconf sends "replace allowed IPs" for every peer it lists, and a packet that
# arrives while the list is being refilled finds no peer and is dropped.
# Used by the wireguard concern on hosts and by the lab operator's own interface.

# The peers of a configuration on stdin (`wg showconf` or a stripped file), a line each:
# "public-key|preshared-key|keepalive|allowed-ips (sorted, comma-joined)|endpoint".
zt_wg_peers() {
    awk '
        function flush() { if (pub != "") print pub "|" psk "|" ka "|" ips "|" ep; pub = psk = ips = ep = ""; ka = 0 }
        /^[ \t]*\[/ { flush(); peer = ($0 ~ /^[ \t]*\[Peer\]/); next }
        !peer { next }
        {
            sub(/#.*/, ""); eq = index($0, "="); if (!eq) next
            key = tolower(substr($0, 1, eq - 1)); gsub(/[ \t]/, "", key)
            value = substr($0, eq + 1); gsub(/[ \t]/, "", value)
        }
        key == "publickey" { pub = value }
        key == "presharedkey" { psk = value }
        key == "persistentkeepalive" { ka = (value == "off" ? 0 : value + 0) }
        key == "endpoint" { ep = value }
        key == "allowedips" { ips = (ips == "" ? value : ips "," value) }
        END { flush() }
    ' | while IFS='|' read -r pub psk ka ips ep; do
        printf '%s|%s|%s|%s|%s\n' "$pub" "$psk" "$ka" "$(tr ',' '\n' <<<"$ips" | sed '/^$/d' | sort | paste -sd, -)" "$ep"
    done
}

zt_wg_setting() { sed -n "s/^$1 *= *//p" "$2" | head -n1; } # Interface key, file

zt_wg_update() { # interface, stripped configuration file
    local iface="$1" file="$2" secrets args=() live new pub psk ka ips ep old
    secrets="$(mktemp -d /run/zt-wg-update.XXXXXX)" || return 1
    # Keys go to wg as files in a private directory, never as arguments.
    local private_key
    private_key="$(zt_wg_setting PrivateKey "$file")"
    if [ "$private_key" != "$(wg show "$iface" private-key)" ]; then
        printf '%s\n' "$private_key" >"$secrets/private"
        args+=(private-key "$secrets/private")
    fi
    local port
    port="$(zt_wg_setting ListenPort "$file")"
    if [ -n "$port" ] && [ "$port" != "$(wg show "$iface" listen-port)" ]; then args+=(listen-port "$port"); fi

    live="$(wg showconf "$iface" | zt_wg_peers)" || { rm -rf "$secrets"; return 1; }
    new="$(zt_wg_peers <"$file")"
    while IFS='|' read -r pub _; do
        [ -n "$pub" ] && ! grep -q "^$pub|" <<<"$new" && args+=(peer "$pub" remove)
    done <<<"$live"
    local n=0
    while IFS='|' read -r pub psk ka ips ep; do
        [ -n "$pub" ] || continue
        old="$(grep "^$pub|" <<<"$live" || true)"
        # Endpoints roam: a peer is not reset just because it was last heard from elsewhere.
        [ -n "$old" ] && [ "${old%|*}" = "$pub|$psk|$ka|$ips" ] && continue
        n=$((n + 1))
        if [ -n "$psk" ]; then printf '%s\n' "$psk" >"$secrets/psk$n"; else : >"$secrets/psk$n"; fi
        args+=(peer "$pub" preshared-key "$secrets/psk$n" persistent-keepalive "${ka:-0}")
        [ -n "$ep" ] && args+=(endpoint "$ep")
        # Allowed IPs are replaced only when they change (or the peer is new).
        if [ -z "$old" ] || [ "$(cut -d'|' -f4 <<<"$old")" != "$ips" ]; then args+=(allowed-ips "$ips"); fi
    done <<<"$new"
    local rc=0
    if [ ${#args[@]} -gt 0 ]; then wg set "$iface" "${args[@]}" || rc=$?; fi
    rm -rf "$secrets"
    return $rc
}
