#!/usr/bin/env bash
# Builds (or reuses) the file tree of one supported Debian release with debootstrap: the release
# lab's hosts are rooted in it (components/hosts/lab/host.sh) and the render tests run its own
# nginx, sshd, nft and wg on the files zerotrust renders for it. Nothing is mounted in the tree
# here; a lab host mounts an overlay of it in a mount namespace of its own.
# Usage: release-tree.sh debian-11|debian-12|debian-13. Output (stdout, last line): the tree's path.
# Cached in ${XDG_CACHE_HOME:-$HOME/.cache}/zerotrust/releases/<release>-<key>/, keyed by the suite and the package list.
# Environment: ZT_DEBIAN_MIRROR (default: the Debian archive URI in apt's sources).
set -euo pipefail
step() { printf '==> release tree: %s\n' "$*" >&2; }

release="${1:?usage: release-tree.sh debian-11|debian-12|debian-13}"
case "$release" in
    debian-11) suite=bullseye ;;
    debian-12) suite=bookworm ;;
    debian-13) suite=trixie ;;
    *) echo "release tree: $release is not supported; use debian-11, debian-12 or debian-13" >&2; exit 2 ;;
esac
# What a lab host's concerns run: sshd, nginx (light: ssl, proxy, map), nft, wg, and the tools the
# host scripts call. Also wireguard-go, where the release has it, since this machine has no
# WireGuard module: it stands in for the kernel's WireGuard, which on a lab host is this machine's
# kernel whatever the release. Bullseye has none; its lab hosts get this machine's (host.sh).
PACKAGES=(openssh-server nginx-light nftables wireguard-tools iproute2 procps openssl util-linux diffutils)
[ "$suite" = bullseye ] || PACKAGES+=(wireguard-go)
# logrotate, so that the gateway's log rule is checked by the release's own logrotate. Not on trixie:
# its logrotate needs cron, whose cron-daemon-common takes systemd first, which fails to configure in
# debootstrap's chroot (--include=anacron and --exclude=cron or systemd do not change debootstrap's pick).
[ "$suite" = trixie ] || PACKAGES+=(logrotate)

key="$(echo "$suite ${PACKAGES[*]}" | sha256sum | cut -c1-12)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/zerotrust/releases"
tree="$cache/$release-$key"
if [ -e "$tree/.complete" ]; then
    echo "$tree"
    exit 0
fi
# Lab hosts are made in parallel: one build per release, the others wait for it and reuse it.
mkdir -p "$cache"
exec 9>"$cache/$release.lock"
flock 9
if [ -e "$tree/.complete" ]; then
    echo "$tree"
    exit 0
fi

# The Debian archive apt uses here (deb822 sources first, then one-line ones), not the security one.
mirror_from_apt() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] && awk 'BEGIN{RS=""} $0 !~ /debian-security/ { for (i = 1; i <= NF; i++) if ($i == "URIs:" && $(i+1) ~ /debian\/?$/) { print $(i + 1); exit } }' "$f"
    done | head -n1 | grep . && return 0
    awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; exit } }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1 | grep .
}
mirror="${ZT_DEBIAN_MIRROR:-$(mirror_from_apt || true)}"
[ -n "$mirror" ] || { echo "release tree: no Debian archive in apt's sources; set ZT_DEBIAN_MIRROR" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "release tree: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }

work="$(mktemp -d "$cache/build.XXXXXX")"
# debootstrap mounts proc and sys in the tree while it runs: never remove through a mount.
cleanup() {
    local m
    while read -r m; do umount -l "$m"; done < <(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
started=$SECONDS
step "debootstrap $suite ($release) from $mirror"
debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
# A lab host brings its own host key, sshd_config and nginx settings; none is baked in.
rm -f "$work"/root/etc/ssh/ssh_host_* "$work"/root/etc/nginx/sites-enabled/default
rm -rf "$work"/root/var/cache/apt/archives/*.deb "$work"/root/var/lib/apt/lists/*
rm -rf "$tree"
mv "$work/root" "$tree"
touch "$tree/.complete"   # last: marks the tree whole
step "$release in $((SECONDS - started)) s: $tree"
echo "$tree"
