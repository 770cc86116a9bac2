#!/bin/sh
# wireguard-go for a release lab host whose release has none (bullseye): this machine's binary, run
# with this machine's C library through its loader (both bound read-only into /opt/zt-machine by
# host.sh). On a lab host wireguard-go stands in for the kernel's WireGuard, and the kernel is this
# machine's whatever the release. Through the loader it cannot re-execute itself to become a
# daemon, so it runs in the foreground, detached here, and this returns once its control socket is
# there, as the daemon's parent would.
m=/opt/zt-machine
run() { exec "$m/ld.so" --library-path "$m" "$m/wireguard-go" "$@"; }
case "${1:-}" in
    -*|"") run "$@" ;;
esac
WG_PROCESS_FOREGROUND=1 setsid "$m/ld.so" --library-path "$m" "$m/wireguard-go" "$@" </dev/null >/dev/null 2>&1 &
i=0
while [ ! -S "/var/run/wireguard/$1.sock" ]; do
    i=$((i + 1))
    [ "$i" -le 100 ] || { echo "wireguard-go: $1 did not come up" >&2; exit 1; }
    sleep 0.05
done
