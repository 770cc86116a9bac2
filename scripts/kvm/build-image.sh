#!/usr/bin/env bash
# Builds (or reuses) the KvmHost base image from Debian packages: no image can be downloaded here.
# debootstrap (minbase) with sshd, WireGuard, nftables, systemd and the cloud kernel; the kernel and
# initrd are copied out beside the disk and booted directly (-kernel/-initrd, root=/dev/vda), so
# the disk needs no boot loader; the file system is made with `mke2fs -d` (no loop mount).
# The image reads its NoCloud seed with scripts/kvm/image/zerotrust-seed at every boot.
#
# Output (stdout, last line): the image path. Beside it: IMAGE.vmlinuz, IMAGE.initrd, IMAGE.cmdline.
# Cached in ${XDG_CACHE_HOME:-$HOME/.cache}/zerotrust/kvm/<key>/, keyed by the package list, the
# suite and this script with its image files: a second run reuses it.
# Environment: ZT_KVM_MIRROR (default: the Debian URI in apt's sources), ZT_KVM_SUITE (default: the
# machine's release), ZT_KVM_IMAGE_SIZE (default 2G).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
step() { printf '==> kvm image: %s\n' "$*" >&2; }

PACKAGES=(openssh-server wireguard-tools nftables iproute2 systemd-sysv udev dbus kmod linux-image-cloud-amd64 e2fsprogs
    initramfs-tools jq netbase iputils-ping procps)
suite="${ZT_KVM_SUITE:-$(. /etc/os-release && echo "$VERSION_CODENAME")}"
size="${ZT_KVM_IMAGE_SIZE:-2G}"

mirror_from_apt() {
    # deb822 (.sources) first, then one-line sources: the first Debian archive URI that serves $suite.
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        uri="$(awk -v s="$suite" 'BEGIN{RS=""} /Suites:/ && $0 ~ ("Suites:[^\n]*[ ]" s "([ \n]|$)") && $0 !~ /debian-security/ {
            for (i = 1; i <= NF; i++) if ($i == "URIs:") { print $(i + 1); exit } }' "$f")"
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -e "$f" ] || continue
        uri="$(awk -v s="$suite" '$1 == "deb" { u = ""; for (i = 2; i <= NF; i++) { if ($i ~ /^\[/) continue; if (u == "") { u = $i; continue } if ($i == s) { print u; exit } break } }' "$f")"
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
    # No source lists $suite (apt here names only the machine's release): the Debian archive apt
    # uses serves the other releases too. The first non-security URI ending in /debian.
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        awk 'BEGIN{RS=""} $0 !~ /debian-security/ { for (i = 1; i <= NF; i++) if ($i == "URIs:" && $(i + 1) ~ /\/debian\/?$/) { print $(i + 1); exit } }' "$f"
    done | head -n1 | grep . && return 0
    awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { if ($i ~ /\/debian\/?$/) print $i; break } }' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1 | grep .
}

key="$( { echo "$suite ${PACKAGES[*]} $size"; cat "$0" "$here"/image/*; } | sha256sum | cut -c1-16)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/zerotrust/kvm/$key"
image="$cache/rootfs.img"
if [ -s "$image" ] && [ -s "$image.vmlinuz" ] && [ -s "$image.initrd" ]; then
    step "reusing $image"
    echo "$image"
    exit 0
fi

mirror="${ZT_KVM_MIRROR:-$(mirror_from_apt || true)}"
[ -n "$mirror" ] || { echo "kvm image: no Debian archive in apt's sources to take $suite from; set ZT_KVM_MIRROR" >&2; exit 1; }
mkdir -p "$cache"
work="$(mktemp -d "$cache/build.XXXXXX")"
root="$work/root"
cleanup() {
    # Nothing is mounted inside the tree unless a step below mounted it; unmount before removing.
    for m in "$root/proc" "$root/sys" "$root/dev"; do mountpoint -q "$m" 2>/dev/null && umount -l "$m"; done
    rm -rf "$work"
}
trap cleanup EXIT

started=$SECONDS
step "debootstrap $suite from $mirror (${PACKAGES[*]})"
# The kernel's initramfs settings must be in place before its postinst builds the initrd: a
# small initrd (virtio disk + ext4) unpacks fast under TCG.
mkdir -p "$root/etc/initramfs-tools/conf.d"
printf 'MODULES=list\nCOMPRESS=gzip\n' >"$root/etc/initramfs-tools/conf.d/zerotrust.conf"
printf 'virtio_pci\nvirtio_blk\next4\n' >"$root/etc/initramfs-tools/modules"
debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
step "debootstrap done in $((SECONDS - started)) s"

step "configuring the image"
# shellcheck disable=SC2012 # kernel file names are plain; and ls fails (ending the build) if there is none
kernel="$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n1)"
initrd="$root/boot/initrd.img-${kernel##*/vmlinuz-}"
if [ ! -s "$initrd" ]; then
    mount -t proc proc "$root/proc"
    chroot "$root" update-initramfs -c -k "${kernel##*/vmlinuz-}" >&2
    umount "$root/proc"
fi
printf 'zerotrust-vm\n' >"$root/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
: >"$root/etc/machine-id"   # a fresh machine id at each VM's first boot
# Each VM gets its host key from its seed: none is baked into the image.
rm -f "$root"/etc/ssh/ssh_host_*
cat >>"$root/etc/ssh/sshd_config" <<'CONF'

# zerotrust image: the host key comes from the NoCloud seed; keys only.
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
CONF
install -m 755 "$here/image/zerotrust-seed" "$root/usr/local/sbin/zerotrust-seed"
install -m 644 "$here/image/zerotrust-seed.service" "$root/etc/systemd/system/zerotrust-seed.service"
chroot "$root" systemctl enable --quiet zerotrust-seed.service systemd-networkd.service ssh.service
chroot "$root" passwd -l root >/dev/null
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log

step "making the disk ($size ext4, mke2fs -d)"
cp "$kernel" "$work/rootfs.img.vmlinuz"
cp "$initrd" "$work/rootfs.img.initrd"
printf 'root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet\n' >"$work/rootfs.img.cmdline"
mke2fs -q -t ext4 -L rootfs -d "$root" "$work/rootfs.img" "$size" >&2
printf '%s\n' "${PACKAGES[@]}" >"$work/packages"
mv -f "$work"/rootfs.img.* "$work/packages" "$cache/"
mv -f "$work/rootfs.img" "$image"   # last: its presence marks the image complete
step "built $image in $((SECONDS - started)) s"
echo "$image"
