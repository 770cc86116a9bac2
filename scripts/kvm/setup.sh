#!/usr/bin/env bash
# Set-up for KvmHost on this machine (idempotent): qemu, qemu-img, debootstrap and genisoimage
# from Debian. libvirt is not installed: where libvirtd runs, KvmHost uses it; elsewhere qemu.
set -euo pipefail
DEB_PACKAGES=(qemu-system-x86 qemu-utils debootstrap genisoimage openssh-client e2fsprogs)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    echo "==> kvm: Debian packages present"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "missing Debian packages: ${missing[*]}; run this as root or install them first" >&2; exit 1; }
echo "==> kvm: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
