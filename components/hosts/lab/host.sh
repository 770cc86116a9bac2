#!/bin/bash
# A lab host: a network namespace on the lab bridge with its own mount namespace (its own
# /etc/ssh, /etc/wireguard, /etc/nginx, /etc/zerotrust, /etc/logrotate.d, /var/lib/zerotrust, /var/log/zerotrust, /run and
# /root) and its own
# sshd. Usage: host.sh create|delete. The SSH host key arrives on stdin (create).
# Environment: ZT_NS, ZT_ROOT, ZT_BRIDGE, ZT_VETH, ZT_ADDRESS_CIDR and/or ZT_ADDRESS6_CIDR (a
# dual-stack or IPv6-only host), ZT_AUTHORIZED_KEY, and
# ZT_LAB_RELEASE (optional): a release lab host, rooted in that Debian release's own file tree
# (release-tree.sh), so that its sshd, bash, nft, wg, nginx and every tool a concern runs are
# that release's programs, on this machine's kernel. Without it the host runs this machine's.
set -euo pipefail
umask 077

stop_processes() {
    # Every process in the namespace was started by this lab host: sshd, its sessions,
    # wireguard-go, nginx. They are ended by pid.
    local pids
    pids="$(ip netns pids "$ZT_NS" 2>/dev/null || true)"
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086 # $pids is a list of numbers, split on purpose
    kill $pids 2>/dev/null || true
    for _ in $(seq 50); do
        pids="$(ip netns pids "$ZT_NS" 2>/dev/null || true)"
        [ -n "$pids" ] || return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086 # as above
    kill -9 $pids 2>/dev/null || true
}

case "$1" in
create)
    [ -e "/run/netns/$ZT_NS" ] || ip netns add "$ZT_NS"
    if ! ip link show "$ZT_VETH" >/dev/null 2>&1; then
        ip link add "$ZT_VETH" type veth peer name eth0 netns "$ZT_NS"
    fi
    ip link set "$ZT_VETH" master "$ZT_BRIDGE" up
    [ -z "${ZT_ADDRESS_CIDR:-}" ] || ip -n "$ZT_NS" addr replace "$ZT_ADDRESS_CIDR" dev eth0
    # nodad: usable at once (the lab allocates its addresses, no one else is on the bridge's range).
    [ -z "${ZT_ADDRESS6_CIDR:-}" ] || ip -n "$ZT_NS" addr replace "$ZT_ADDRESS6_CIDR" dev eth0 nodad
    ip -n "$ZT_NS" link set eth0 up
    ip -n "$ZT_NS" link set lo up

    mkdir -p "$ZT_ROOT"/{etc/ssh/sshd_config.d,etc/ssh/authorized_keys,etc/wireguard,etc/zerotrust,etc-logrotate.d,var-lib-zerotrust,var-log-zerotrust,root-home}
    # The gateway's workers reopen their logs in it by path after a rotation (as in /var/log/zerotrust).
    chmod 755 "$ZT_ROOT/var-log-zerotrust"
    tree=""
    if [ -n "${ZT_LAB_RELEASE:-}" ]; then
        tree="$(bash "$(dirname "$0")/release-tree.sh" "$ZT_LAB_RELEASE" | tail -n1)"
        mkdir -p "$ZT_ROOT"/{lower,fs,upper,work}
        # The upper layer's root is the host's /: its daemons' users (sshd, www-data) must traverse it.
        chmod 755 "$ZT_ROOT" "$ZT_ROOT/fs" "$ZT_ROOT/upper"
    fi
    # The release's own nginx settings (modules, mime types), or this machine's.
    [ -d "$ZT_ROOT/etc/nginx" ] || cp -a "$tree/etc/nginx" "$ZT_ROOT/etc/nginx"
    cat >"$ZT_ROOT/etc/ssh/ssh_host_ed25519_key"
    chmod 600 "$ZT_ROOT/etc/ssh/ssh_host_ed25519_key"
    ssh-keygen -y -f "$ZT_ROOT/etc/ssh/ssh_host_ed25519_key" >"$ZT_ROOT/etc/ssh/ssh_host_ed25519_key.pub"
    printf '%s\n' "$ZT_AUTHORIZED_KEY" >"$ZT_ROOT/etc/ssh/authorized_keys/root"
    chmod 755 "$ZT_ROOT/etc/ssh" "$ZT_ROOT/etc/ssh/authorized_keys" "$ZT_ROOT/etc/ssh/sshd_config.d"
    chmod 644 "$ZT_ROOT/etc/ssh/authorized_keys/root"
    cat >"$ZT_ROOT/etc/ssh/sshd_config" <<CONF
# Lab host sshd. Drop-ins come first so that zerotrust's settings win.
Include /etc/ssh/sshd_config.d/*.conf
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
AuthorizedKeysFile /etc/ssh/authorized_keys/%u
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
Subsystem sftp internal-sftp
CONF
    # Mount points on the machine for the per-host directories (empty there).
    mkdir -p /var/lib/zerotrust /var/log/zerotrust /etc/zerotrust /etc/logrotate.d /etc/wireguard
    if [ ! -s "$ZT_ROOT/sshd.pid" ] || ! kill -0 "$(cat "$ZT_ROOT/sshd.pid")" 2>/dev/null; then
        # No fork along this chain (setsid, not a group leader here; ip netns exec, unshare and bash
        # all exec), so $! is sshd's pid. Its own session keeps it out of the process group the
        # engine ends once `pulumi up` is done.
        # shellcheck disable=SC2016 # the inner bash expands $0 and $1 (its arguments: ZT_ROOT, the tree)
        setsid ip netns exec "$ZT_NS" unshare --mount --propagation private /bin/bash -c '
            set -e
            host="$0" tree="$1" root=""
            if [ -n "$tree" ]; then
                # A root of its own: the release tree, read-only and shared, under a writable
                # layer of this host. The mounts live in this mount namespace only: they go when
                # its last process ends.
                root="$host/fs"
                # The tree is shared by every host of its release: the overlay reads it through a
                # read-only bind, so nothing on a host can ever write into it.
                mount --bind "$tree" "$host/lower"
                mount -o remount,bind,ro "$host/lower"
                mount -t overlay overlay -o "lowerdir=$host/lower,upperdir=$host/upper,workdir=$host/work" "$root"
                for d in dev proc sys; do mount --rbind "/$d" "$root/$d"; done
                mkdir -p "$root/etc/zerotrust" "$root/etc/logrotate.d" "$root/var/lib/zerotrust" "$root/var/log/zerotrust" "$root/etc/wireguard"
                # Bullseye has no wireguard-go: this machine'"'"'s stands in for the kernel module,
                # with the C library it was built against (machine-wireguard-go.sh).
                if [ ! -e "$root/usr/bin/wireguard-go" ]; then
                    mkdir -p "$root/opt/zt-machine"
                    for f in /usr/bin/wireguard-go /lib/x86_64-linux-gnu/libc.so.6 /lib64/ld-linux-x86-64.so.2:ld.so; do
                        touch "$root/opt/zt-machine/${f##*[/:]}"
                        mount --bind -o ro "${f%:*}" "$root/opt/zt-machine/${f##*[/:]}"
                    done
                    install -m 755 "$2" "$root/usr/bin/wireguard-go"
                fi
            fi
            mount --bind "$host/etc/ssh" "$root/etc/ssh"
            mount --bind "$host/etc/wireguard" "$root/etc/wireguard"
            mount --bind "$host/etc/nginx" "$root/etc/nginx"
            mount --bind "$host/etc/zerotrust" "$root/etc/zerotrust"
            # The gateway'"'"'s logrotate rule goes here: never into the machine'"'"'s own.
            mount --bind "$host/etc-logrotate.d" "$root/etc/logrotate.d"
            mount --bind "$host/var-lib-zerotrust" "$root/var/lib/zerotrust"
            # The gateway'"'"'s logs: each host its own, as on a host of its own (the report reads them).
            mount --bind "$host/var-log-zerotrust" "$root/var/log/zerotrust"
            # An empty home for root, as on a host of its own: bash run by sshd reads ~/.bashrc,
            # and the one of this machine may hold anything (a pyenv rehash that takes a lock
            # at every login stalled parallel deployments by up to a minute).
            mount --bind "$host/root-home" "$root/root"
            mount -t tmpfs -o mode=755 tmpfs "$root/run"
            mkdir -p "$root/run/sshd"
            if [ -n "$root" ]; then exec chroot "$root" /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config; fi
            exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config' "$ZT_ROOT" "$tree" "$(dirname "$0")/machine-wireguard-go.sh" </dev/null >>"$ZT_ROOT/sshd.log" 2>&1 &
        echo "$!" >"$ZT_ROOT/sshd.pid"
    fi
    for _ in $(seq 100); do
        if ip netns exec "$ZT_NS" ss -ltnH 'sport = :22' | grep . >/dev/null; then
            echo "lab host $ZT_NS at ${ZT_ADDRESS_CIDR:-} ${ZT_ADDRESS6_CIDR:-}"
            exit 0
        fi
        kill -0 "$(cat "$ZT_ROOT/sshd.pid")" 2>/dev/null || break
        sleep 0.1
    done
    echo "zerotrust lab: sshd in $ZT_NS did not start: $(tail -n 5 "$ZT_ROOT/sshd.log")" >&2
    exit 1
    ;;
delete)
    stop_processes
    ip link del "$ZT_VETH" 2>/dev/null || true
    ip netns del "$ZT_NS" 2>/dev/null || true
    rm -rf "$ZT_ROOT"
    echo "removed lab host $ZT_NS"
    ;;
esac
