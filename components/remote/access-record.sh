#!/bin/bash
# Read-only, for the report: what this host refused. The firewall's drop record (drop-record.ts)
# as nft lists it now, the records kept when a new firewall was loaded (firewall.sh), and the
# gateway's refused requests from its access log and the one before it (logrotate's delaycompress
# keeps that one plain). Each part is headed by a "=== " line; the report parses them
# (components/report/access-record.ts). Nothing here is a secret: addresses, ports, certificate
# subjects and fingerprints.
set -uo pipefail
ZT_DROP_SETS="drops4 drops4_last drops6 drops6_last"
ZT_DROP_ARCHIVE=/var/lib/zerotrust/firewall/drops   # firewall.sh keeps the records there
ZT_ACCESS_LOG=/var/log/zerotrust/gateway-access.log # gateway-log.ts GATEWAY_ACCESS_LOG
ZT_ACCESS_LINES=5000

echo "=== wireguard"
wg show interfaces 2>/dev/null || true
echo "=== drops live"
echo "now $(date +%s)"
for s in $ZT_DROP_SETS; do nft -j list set inet zerotrust "$s" 2>/dev/null && echo; done
for f in "$ZT_DROP_ARCHIVE"/*.record; do
    [ -r "$f" ] || continue
    echo "=== drops archive"
    cat "$f"
done
logs=()
for f in "$ZT_ACCESS_LOG.1" "$ZT_ACCESS_LOG"; do [ -r "$f" ] && logs+=("$f"); done
if [ "${#logs[@]}" -gt 0 ]; then
    echo "=== access allowed $(cat "${logs[@]}" | grep -cF '"verdict":"allowed"')"
    echo "=== access refused"
    cat "${logs[@]}" | grep -vF '"verdict":"allowed"' | tail -n "$ZT_ACCESS_LINES"
fi
echo "=== end"
