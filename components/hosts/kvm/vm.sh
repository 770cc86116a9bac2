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
# ZT_HOST_PUBLIC_KEY, ZT_ACCEL (auto|kvm|tcg|kvm:tcg, default auto), ZT_DRIVER (auto|qemu|libvirt), ZT_BOOT_TIMEOUT,
# ZT_ONLY_VIA (interfaces the route to ZT_ADDRESS must leave through; empty: any).
# With ZT_HYPERVISOR=user@host[:port] (and ZT_HYPERVISOR_HOST_KEY pinned), the same script runs on
# that hypervisor over SSH, authenticated by the deployer's own SSH agent or keys; with
# ZT_HYPERVISOR_ONLY_VIA, only when the route to the hypervisor leaves through one of those interfaces.
set -euo pipefail
umask 077
action="$1"

# Refuses unless this machine's route to $1 leaves through one of the interfaces in $2 (none: any).
route_guard() {
    local address="$1" allowed="$2" dev
    [ -n "$allowed" ] || return 0
    [[ "$address" =~ ^[0-9.]+$ ]] || address="$(getent ahostsv4 "$address" | awk '{print $1; exit}')"
    dev="$(ip route get "$address" 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')"
    for d in $allowed; do [ "$d" = "$dev" ] && return 0; done
    printf 'kvm %s: FAILED: refusing to connect to %s: it is routed via %s, not via %s\n' "${ZT_VM:-?}" "$1" "${dev:-no interface}" "$allowed" >&2
    return 1
}

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
    route_guard "$hvhost" "${ZT_HYPERVISOR_ONLY_VIA:-}"
    {
        # shellcheck disable=SC2046 # variable names (no blanks, no glob characters), split on purpose
        declare -p $(compgen -v ZT_ | grep -v '^ZT_HYPERVISOR')
        echo "ZT_USER_DATA=\"\$(cat <<'ZT_USER_DATA_END_5f1c'"
        printf '%s\n' "$userdata"
        echo "ZT_USER_DATA_END_5f1c"
        echo ")\""
        echo "export ZT_USER_DATA"
        echo "set -- $action"
        declare -f route_guard
        sed '1,/^# --- local part ---$/d' "$0"
    # The whole script is read before it runs (bash -s would share its stdin with every program
    # the script starts, and one that reads stdin would eat the rest of the script).
    } | ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$known" -o GlobalKnownHostsFile=/dev/null \
        -o ConnectTimeout=20 -p "$port" "$hv" 's="$(cat)"; exec bash -c "$s" zt-vm.sh </dev/null'
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
    # The driver a VM was made with is kept beside it: a delete (or a later create) must not pick
    # another one because libvirtd started or stopped in between.
    if [ -s "$dir/driver" ]; then cat "$dir/driver"; return; fi
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
    route_guard "$ZT_ADDRESS" "${ZT_ONLY_VIA:-}" || exit 1
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

libvirt_qemu_user() { # the user libvirt runs qemu as (qemu.conf; Debian's default)
    local u
    u="$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' /etc/libvirt/qemu.conf 2>/dev/null | tail -n1)"
    echo "${u:-libvirt-qemu}"
}

start_libvirt() {
    local net boot=() virt_type u f cpu
    [ "$ZT_NETWORK" = bridge ] || fail "libvirt takes network \"bridge\" only"
    ip link show "$ZT_BRIDGE" >/dev/null 2>&1 || fail "bridge $ZT_BRIDGE does not exist on this hypervisor; create it"
    net="bridge=$ZT_BRIDGE,mac=$ZT_MAC,model=virtio"
    boot_files
    if ((${#kernel_args[@]})); then boot=(--boot "kernel=${kernel_args[1]},initrd=${kernel_args[3]},kernel_args=${kernel_args[5]}"); fi
    # libvirt's qemu runs as its own user: it must reach the base image (a backing file, which
    # libvirt does not copy) and the kernel beside it.
    u="$(libvirt_qemu_user)"
    chmod 711 "$(dirname "$dir")" "$dir"
    if [ "$u" != root ] && id "$u" >/dev/null 2>&1; then
        for f in "$ZT_IMAGE" "${kernel_args[1]:-}" "${kernel_args[3]:-}"; do
            [ -n "$f" ] || continue
            runuser -u "$u" -- test -r "$f" || fail "libvirt runs qemu as $u, which cannot read $f: put the base image (and its .vmlinuz, .initrd) where $u can read it, e.g. /var/lib/libvirt/images"
        done
    fi
    # Reached by libvirt's qemu user; the seed (the VM's host key) stays readable by that user alone.
    if [ "$u" != root ] && id "$u" >/dev/null 2>&1; then chown "$u:" "$dir/disk.qcow2" "$dir/seed.iso"; fi
    # The same accelerator choice as with qemu: a KVM that opens but cannot run a vCPU means TCG ("qemu").
    case "$(accelerator)" in
        kvm) virt_type=kvm; cpu=() ;;
        tcg) virt_type=qemu; cpu=(--cpu mode=maximum) ;;   # as qemu's -cpu max: libvirt's default qemu64 is slower
        *) fail "accelerator $ZT_ACCEL: use auto, kvm or tcg with libvirt" ;;
    esac
    log "libvirt with virt-type $virt_type"
    : >"$dir/console.log"   # libvirtd opens it and hands qemu the descriptor
    # The seed as a read-only virtio disk, as with qemu: the guest needs no CD-ROM driver for it.
    # The machine as with qemu (q35, no USB or balloon: emulated USB controllers poll, which costs CPU under TCG).
    virt-install --connect qemu:///system --name "$ZT_VM" --virt-type "$virt_type" "${cpu[@]}" --machine q35 --controller usb,model=none \
        --memballoon none --memory "$ZT_MEMORY_MIB" --vcpus "$ZT_VCPUS" --import \
        --disk "path=$dir/disk.qcow2,format=qcow2,bus=virtio" --disk "path=$dir/seed.iso,format=raw,bus=virtio,readonly=on" \
        --network "$net" "${boot[@]}" --graphics none --serial "file,path=$dir/console.log" --noautoconsole \
        --osinfo detect=on,require=off --rng /dev/urandom \
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
    # A VM made with another driver is gone now (stop_vm used the recorded one): record this one.
    rm -f "$dir/driver"
    drv="$(driver)"
    make_disk
    printf '%s' "$settings" >"$dir/settings"
    printf '%s\n' "$drv" >"$dir/driver"
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
