#!/bin/bash
# Lab underlay: one bridge on this machine. The range was checked against the machine's routes
# during preview (LabNetwork). Usage: network.sh create|delete
# Environment: ZT_BRIDGE, ZT_GATEWAY_CIDR (e.g. 10.213.7.1/24), ZT_LAB_ROOT.
set -euo pipefail
case "$1" in
create)
    ip link show "$ZT_BRIDGE" >/dev/null 2>&1 || ip link add "$ZT_BRIDGE" type bridge
    ip addr replace "$ZT_GATEWAY_CIDR" dev "$ZT_BRIDGE"
    ip link set "$ZT_BRIDGE" up
    echo "bridge $ZT_BRIDGE $ZT_GATEWAY_CIDR"
    ;;
delete)
    ip link del "$ZT_BRIDGE" 2>/dev/null || true
    # The lab's directory holds its hosts' directories; each host removes its own first.
    rmdir "$ZT_LAB_ROOT" 2>/dev/null || true
    echo "removed $ZT_BRIDGE"
    ;;
esac
