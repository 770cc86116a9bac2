#!/bin/bash
# A KvmHost's virtual machine. Usage: vm.sh create|delete
# create: a copy-on-write overlay on the base image, a NoCloud seed (ISO, label "cidata"), the VM
# started with libvirt (virt-install) where libvirtd runs, or qemu directly (-daemonize, -pidfile)
# where it does not; then it waits until SSH answers with the pinned host key and prints the time
# from start to SSH. delete: stops the VM and removes its disks, seed, tap and directory.
# stdin (create): the seed's user-data (it holds the VM's SSH host private key).
# Environment: ZT_VM, ZT_VM_DIR, ZT_IMAGE, ZT_VCPUS, ZT_MEMORY_MIB, ZT_DISK_GIB, ZT_NETWORK
# (bridge|nat), ZT_BRIDGE, ZT_TAP, ZT_MAC, ZT_ADDRESS (what SSH is dialed at), ZT_SSH_PORT,
# ZT_NAT_FORWARDS (qemu user-mode hostfwd rules, nat only), ZT_META_DATA, ZT_NETWORK_CONFIG,
# ZT_HOST_PUBLIC_KEY, ZT_ACCEL (auto|kvm|tcg|kvm:tcg, default auto), ZT_DRIVER (auto|qemu|libvirt), ZT_BOOT_TIMEOUT.
# With ZT_HYPERVISOR=user@host[:port] (and ZT_HYPERVISOR_HOST_KEY pinned), the same script runs on
# that hypervisor over SSH, authenticated by the deployer's own SSH agent or keys.
set -euo pipefail
umask 077
action="$1"

if [ -n "${ZT_HYPERVISOR:-}" ]; then
    hv="${ZT_HYPERVISOR%:*}"; port=22
    [ "$hv" != "$ZT_HYPERVISOR" ] && port="${ZT_HYPERVISOR##*:}"
    known="$(mktemp)"
    trap 'rm -f "$known"' EXIT
    hvhost="${hv#*@}"
    [ "$port" = 22 ] && printf '%s %s\n' "$hvhost" "$ZT_HYPERVISOR_HOST_KEY" >"$known" ||
        printf '[%s]:%s %s\n' "$hvhost" "$port" "$ZT_HYPERVISOR_HOST_KEY" >"$known"
    userdata=""
    [ "$action" = create ] && userdata="$(cat)"
    {
        # shellcheck disable=SC2046 # variable names (no blanks, no glob characters), split on purpose
        declare -p $(compgen -v ZT_ | grep -v '^ZT_HYPERVISOR')
        echo "ZT_USER_DATA=\"\$(cat <<'ZT_USER_DATA_END_5f1c'"
        printf '%s\n' "$userdata"
        echo "ZT_USER_DATA_END_5f1c"
        echo ")\""
        echo "export ZT_USER_DATA"
        echo "set -- $action"
        sed '1,/^# --- local part ---$/d' "$0"
    } | ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$known" -o ConnectTimeout=20 \
        -p "$port" "$hv" 'bash -s'
    exit $?
fi
# --- local part ---
set -euo pipefail
umask 077
action="$1"
dir="$ZT_VM_DIR"
log() { printf 'kvm %s: %s\n' "$ZT_VM" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

driver() {
    case "${ZT_DRIVER:-auto}" in
        qemu|libvirt) echo "$ZT_DRIVER" ;;
        *) if command -v virsh >/dev/null && virsh -c qemu:///system uri >/dev/null 2>&1; then echo libvirt; else echo qemu; fi ;;
    esac
}

qemu_pid() { # the pid of this VM's qemu, if it runs (checked against its command line, never a reused pid)
    local pid
    [ -s "$dir/qemu.pid" ] || return 1
    pid="$(cat "$dir/qemu.pid")"
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -F -- "-pidfile $dir/qemu.pid" >/dev/null || return 1
    echo "$pid"
}

stop_vm() {
    if [ "$(driver)" = libvirt ]; then
        virsh -q -c qemu:///system destroy "$ZT_VM" >/dev/null 2>&1 || true
        virsh -q -c qemu:///system undefine "$ZT_VM" >/dev/null 2>&1 || true
        return 0
    fi
    local pid
    pid="$(qemu_pid)" || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

remove_all() {
    stop_vm
    if [ "$ZT_NETWORK" = bridge ] && [ "$(driver)" = qemu ]; then ip link del "$ZT_TAP" 2>/dev/null || true; fi
    rm -rf "$dir"
}

host_key_matches() { # the key SSH answers with, compared with the pinned one
    local got want
    want="$(awk '{print $1" "$2}' <<<"$ZT_HOST_PUBLIC_KEY")"
    got="$(ssh-keyscan -T 3 -t ed25519 -p "$ZT_SSH_PORT" "$ZT_ADDRESS" 2>/dev/null | awk '{print $2" "$3}')"
    [ -n "$got" ] && [ "$got" = "$want" ]
}

make_seed() {
    rm -rf "$dir/seed" && mkdir -m 700 "$dir/seed"
    if [ -n "${ZT_USER_DATA+x}" ]; then printf '%s\n' "$ZT_USER_DATA"; else cat; fi >"$dir/seed/user-data"
    printf '%s\n' "$ZT_META_DATA" >"$dir/seed/meta-data"
    printf '%s\n' "$ZT_NETWORK_CONFIG" >"$dir/seed/network-config"
    grep -q '^#cloud-config' "$dir/seed/user-data" || fail "the user-data on stdin is not a #cloud-config document"
    genisoimage -quiet -output "$dir/seed.iso.new" -volid cidata -joliet -rock \
        "$dir/seed/user-data" "$dir/seed/meta-data" "$dir/seed/network-config"
    mv -f "$dir/seed.iso.new" "$dir/seed.iso"
    rm -rf "$dir/seed"   # the ISO holds the host key: owner-only, and no loose copy
}

make_disk() {
    local format
    [ -e "$dir/disk.qcow2" ] || {
        format="$(qemu-img info --output=json "$ZT_IMAGE" | sed -n 's/.*"format": *"\([a-z0-9]*\)".*/\1/p' | head -n1)"
        qemu-img create -q -f qcow2 -b "$ZT_IMAGE" -F "$format" "$dir/disk.qcow2"
    }
    # Grow (never shrink) the overlay to the requested size; the guest grows its file system.
    local want=$((ZT_DISK_GIB * 1024 * 1024 * 1024)) have
    have="$(qemu-img info --output=json "$dir/disk.qcow2" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p' | head -n1)"
    [ "$have" -ge "$want" ] || qemu-img resize -q "$dir/disk.qcow2" "$want"
}

kernel_args=()
boot_files() { # direct kernel boot when the image ships its kernel beside it (the images scripts/kvm builds)
    if [ -s "$ZT_IMAGE.vmlinuz" ] && [ -s "$ZT_IMAGE.initrd" ]; then
        kernel_args=(kernel "$ZT_IMAGE.vmlinuz" initrd "$ZT_IMAGE.initrd"
            cmdline "$(cat "$ZT_IMAGE.cmdline" 2>/dev/null || echo 'root=/dev/vda rw console=ttyS0')")
    fi
}

accelerator() {
    # "auto": KVM when it really works, TCG otherwise. `accel=kvm:tcg` falls back only when KVM
    # cannot be opened; a nested hypervisor without full VMX support opens it and then aborts at the
    # first vCPU (e.g. "failed to set MSR 0x10a"), so a paused VM is started and quit as a probe.
    case "${ZT_ACCEL:-auto}" in
        auto)
            if [ -w /dev/kvm ] && echo quit | timeout 20 qemu-system-x86_64 -machine q35,accel=kvm -cpu host -nodefaults \
                -display none -S -monitor stdio >/dev/null 2>&1; then echo kvm; else echo tcg; fi ;;
        *) echo "$ZT_ACCEL" ;;
    esac
}

start_qemu() {
    local net boot=() accel cpu=max
    if [ "$ZT_NETWORK" = bridge ]; then
        ip link show "$ZT_BRIDGE" >/dev/null 2>&1 || fail "bridge $ZT_BRIDGE does not exist on this hypervisor; create it (or choose network \"nat\")"
        ip link show "$ZT_TAP" >/dev/null 2>&1 || ip tuntap add dev "$ZT_TAP" mode tap
        ip link set "$ZT_TAP" master "$ZT_BRIDGE" up
        net="tap,id=n0,ifname=$ZT_TAP,script=no,downscript=no"
    else
        net="user,id=n0,net=10.0.2.0/24${ZT_NAT_FORWARDS:+,$ZT_NAT_FORWARDS}"
    fi
    boot_files
    if ((${#kernel_args[@]})); then boot=(-kernel "${kernel_args[1]}" -initrd "${kernel_args[3]}" -append "${kernel_args[5]}"); fi
    accel="$(accelerator)"
    [ "$accel" = kvm ] && cpu=host
    [ "$accel" = tcg ] && accel="tcg,thread=multi"
    log "qemu with accel=$accel"
    : >"$dir/console.log"
    qemu-system-x86_64 -name "$ZT_VM" -machine q35 -accel "$accel" -cpu "$cpu" \
        -smp "$ZT_VCPUS" -m "$ZT_MEMORY_MIB" -nodefaults -display none -vga none \
        -serial "file:$dir/console.log" "${boot[@]}" \
        -drive "file=$dir/disk.qcow2,if=virtio,format=qcow2,discard=unmap" \
        -drive "file=$dir/seed.iso,if=virtio,format=raw,readonly=on" \
        -netdev "$net" -device "virtio-net-pci,netdev=n0,mac=$ZT_MAC" \
        -device virtio-rng-pci -daemonize -pidfile "$dir/qemu.pid" 2>"$dir/qemu.err" ||
        fail "qemu did not start: $(tail -n 5 "$dir/qemu.err")"
}

start_libvirt() {
    local net boot=()
    if [ "$ZT_NETWORK" = bridge ]; then net="bridge=$ZT_BRIDGE,mac=$ZT_MAC,model=virtio"; else net="network=default,mac=$ZT_MAC,model=virtio"; fi
    boot_files
    if ((${#kernel_args[@]})); then boot=(--boot "kernel=${kernel_args[1]},initrd=${kernel_args[3]},kernel_args=${kernel_args[5]}"); fi
    chmod 755 "$dir"; chmod 644 "$dir/disk.qcow2" "$dir/seed.iso"   # read by libvirt's qemu user
    virt-install --connect qemu:///system --name "$ZT_VM" --memory "$ZT_MEMORY_MIB" --vcpus "$ZT_VCPUS" --import \
        --disk "path=$dir/disk.qcow2,format=qcow2,bus=virtio" --disk "path=$dir/seed.iso,device=cdrom" \
        --network "$net" "${boot[@]}" --graphics none --noautoconsole --osinfo detect=on,require=off \
        >"$dir/virt-install.log" 2>&1 || fail "virt-install: $(tail -n 5 "$dir/virt-install.log")"
}

running() {
    if [ "$(driver)" = libvirt ]; then virsh -q -c qemu:///system domstate "$ZT_VM" 2>/dev/null | grep -q running; else qemu_pid >/dev/null; fi
}

case "$action" in
create)
    for v in ZT_VM ZT_VM_DIR ZT_IMAGE ZT_VCPUS ZT_MEMORY_MIB ZT_DISK_GIB ZT_NETWORK ZT_MAC ZT_ADDRESS ZT_SSH_PORT ZT_HOST_PUBLIC_KEY; do
        [ -n "${!v:-}" ] || fail "$v is not set"
    done
    [ -r "$ZT_IMAGE" ] || fail "base image $ZT_IMAGE not found on this hypervisor (build one with scripts/kvm/build-image.sh)"
    for tool in qemu-img genisoimage ssh-keyscan; do command -v "$tool" >/dev/null || fail "$tool is not installed"; done
    mkdir -p "$(dirname "$dir")"
    [ -d "$dir" ] || mkdir -m 700 "$dir"
    # The settings this VM runs with; a create with other settings restarts it on the same disk.
    settings="$(declare -p ZT_IMAGE ZT_VCPUS ZT_MEMORY_MIB ZT_DISK_GIB ZT_NETWORK ZT_BRIDGE ZT_TAP ZT_MAC ZT_META_DATA ZT_NETWORK_CONFIG ZT_NAT_FORWARDS ZT_ACCEL 2>/dev/null || true)"
    make_seed
    settings="$settings $(sha256sum "$dir/seed.iso" | cut -c1-64)"
    if running && [ "$(cat "$dir/settings" 2>/dev/null)" = "$settings" ] && host_key_matches; then
        log "already running with these settings"
        exit 0
    fi
    running && { log "settings changed: restarting on the same disk"; stop_vm; }
    make_disk
    printf '%s' "$settings" >"$dir/settings"
    started=$(date +%s.%N)
    if [ "$(driver)" = libvirt ]; then start_libvirt; else start_qemu; fi
    deadline=$((SECONDS + ${ZT_BOOT_TIMEOUT:-600}))
    until host_key_matches; do
        if ! running; then
            log "the VM stopped while booting; console: $(tail -n 20 "$dir/console.log" 2>/dev/null)"
            remove_all; exit 1
        fi
        if ((SECONDS >= deadline)); then
            log "SSH on $ZT_ADDRESS:$ZT_SSH_PORT did not answer with the pinned host key within ${ZT_BOOT_TIMEOUT:-600} s; console: $(tail -n 20 "$dir/console.log" 2>/dev/null)"
            remove_all; exit 1
        fi
        sleep 1
    done
    elapsed="$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}')"
    printf 'vm %s (%s): SSH at %s:%s answered with the pinned host key %s s after start\n' \
        "$ZT_VM" "$(driver)" "$ZT_ADDRESS" "$ZT_SSH_PORT" "$elapsed"
    ;;
delete)
    remove_all
    echo "removed vm $ZT_VM"
    ;;
*) fail "usage: vm.sh create|delete" ;;
esac
