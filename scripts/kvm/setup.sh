#!/usr/bin/env bash
# Set-up for KvmHost on this machine (idempotent): qemu, qemu-img, debootstrap and genisoimage
# from Debian, and libvirt (libvirtd with its qemu driver, virt-install) for the test's libvirt VM.
# Nothing is started here: where no service manager runs libvirtd, the KVM test starts it itself.
set -euo pipefail
DEB_PACKAGES=(qemu-system-x86 qemu-utils debootstrap genisoimage openssh-client e2fsprogs
    libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients virtinst)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
kvm_device_mode() {
    # Without udev (no service manager here) /dev/kvm keeps the kernel's root-only mode. libvirtd
    # probes qemu as root (KVM found) but checks KVM as its qemu user (KVM not usable), takes its
    # cached capabilities for outdated and probes again on every call, so virt-install never gets
    # on. Debian's udev rule gives the device to group kvm, as here; KvmHost picks TCG regardless
    # when KVM cannot run a guest.
    if [ -c /dev/kvm ] && getent group kvm >/dev/null && [ "$(stat -c %G:%a /dev/kvm)" != kvm:660 ]; then
        chgrp kvm /dev/kvm && chmod 660 /dev/kvm
        echo "==> kvm: /dev/kvm to group kvm, mode 660 (as Debian's udev rule)"
    fi
}
if ((${#missing[@]} == 0)); then
    echo "==> kvm: Debian packages present"
    kvm_device_mode
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "missing Debian packages: ${missing[*]}; run this as root or install them first" >&2; exit 1; }
echo "==> kvm: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# libvirt's "default" NAT network would start with libvirtd and give this machine a bridge in
# 192.168.122.0/24 plus NAT rules: KvmHost attaches VMs to bridges it is given, so the freshly
# installed network is kept from starting on its own.
rm -f /etc/libvirt/qemu/networks/autostart/default.xml
kvm_device_mode
