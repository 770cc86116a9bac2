#!/bin/bash
# Lab underlay: one bridge on this machine. The range was checked against the machine's routes
# during preview (LabNetwork). Usage: network.sh create|delete
# Environment: ZT_BRIDGE, ZT_GATEWAY_CIDR (e.g. 10.213.7.1/24), ZT_LAB_ROOT, and ZT_GATEWAY_CIDR6 (a
# dual-stack lab: the machine's address in the lab's ULA /64, e.g. fd12:3456:789a:1::1/64).
set -euo pipefail
case "$1" in
create)
    ip link show "$ZT_BRIDGE" >/dev/null 2>&1 || ip link add "$ZT_BRIDGE" type bridge
    ip addr replace "${ZT_GATEWAY_CIDR:?the IPv4 address of this machine on the lab bridge}" dev "$ZT_BRIDGE"
    [ -z "${ZT_GATEWAY_CIDR6:-}" ] || ip -6 addr replace "$ZT_GATEWAY_CIDR6" dev "$ZT_BRIDGE" nodad
    ip link set "$ZT_BRIDGE" up
    echo "bridge $ZT_BRIDGE $ZT_GATEWAY_CIDR ${ZT_GATEWAY_CIDR6:-}"
    ;;
delete)
    ip link del "$ZT_BRIDGE" 2>/dev/null || true
    # The lab's directory holds its hosts' directories; each host removes its own first.
    rmdir "$ZT_LAB_ROOT" 2>/dev/null || true
    echo "removed $ZT_BRIDGE"
    ;;
esac
