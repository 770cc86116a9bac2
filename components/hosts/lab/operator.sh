#!/bin/bash
# The machine running pulumi joins the lab mesh as a management peer: a WireGuard interface in
# this machine's own namespace (wireguard-go where the kernel has no module).
# Usage: operator.sh create|delete. The wg-quick config arrives on stdin (create).
# Environment: ZT_IFACE, ZT_DIR, ZT_ONLY_VIA (the lab's own interfaces, space-separated: every
# endpoint the tunnel dials must be routed through one of them).
set -euo pipefail
umask 077
# shellcheck source=SCRIPTDIR/../../remote/host/wg-update.sh
. "$(dirname "$0")/../../remote/host/wg-update.sh"
conf="$ZT_DIR/$ZT_IFACE.conf"

# This machine has default routes off it, IPv6 too: a lab endpoint routed there would send lab
# traffic away. Each family is asked in its own words, as the deployer's route guard does.
zt_check_endpoints() { # config
    local endpoint host family dev
    while read -r endpoint; do
        host="${endpoint%:*}"; host="${host#[}"; host="${host%]}"
        case "$host" in *:*) family=-6 ;; *) family=-4 ;; esac
        dev="$(ip "$family" route get "$host" 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n1)"
        if [ -z "$dev" ] || [[ " $ZT_ONLY_VIA " != *" $dev "* ]]; then
            echo "zerotrust lab: refusing to dial $endpoint: this machine routes it via ${dev:-no interface}, not through the lab's own interfaces ($ZT_ONLY_VIA); is the lab's bridge up?" >&2
            return 1
        fi
    done < <(sed -n 's/^Endpoint = //p' "$1")
}

case "$1" in
create)
    mkdir -p "$ZT_DIR/staging"
    cat >"$ZT_DIR/staging/$ZT_IFACE.conf"
    wg-quick strip "$ZT_DIR/staging/$ZT_IFACE.conf" >/dev/null
    zt_check_endpoints "$ZT_DIR/staging/$ZT_IFACE.conf"
    old_iface="$(grep -E '^(Address|MTU)' "$conf" 2>/dev/null | sort || true)"
    mv -f "$ZT_DIR/staging/$ZT_IFACE.conf" "$conf"
    if ip link show "$ZT_IFACE" >/dev/null 2>&1 && [ "$old_iface" = "$(grep -E '^(Address|MTU)' "$conf" | sort)" ]; then
        wg-quick strip "$conf" >"$ZT_DIR/stripped"
        zt_wg_update "$ZT_IFACE" "$ZT_DIR/stripped"
        rm -f "$ZT_DIR/stripped"
        # No routes to add: the mesh prefix route from Address covers every peer.
    else
        wg-quick down "$conf" >/dev/null 2>&1 || true
        # In a session of its own: the engine ends the command provider's whole process group when
        # `pulumi up` finishes, and wireguard-go (the interface, without a kernel module) with it.
        setsid --wait wg-quick up "$conf" </dev/null >"$ZT_DIR/wg-quick.log" 2>&1 \
            || { cat "$ZT_DIR/wg-quick.log" >&2; exit 1; }
    fi
    echo "operator interface $ZT_IFACE up"
    ;;
delete)
    wg-quick down "$conf" >/dev/null 2>&1 || ip link del "$ZT_IFACE" 2>/dev/null || true
    rm -rf "$ZT_DIR"
    echo "removed operator interface $ZT_IFACE"
    ;;
esac
