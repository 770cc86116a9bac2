# shellcheck shell=bash disable=SC2034 # a fragment of the host program script.ts composes: its variables are read by the other parts
# Concern: the nftables firewall. One `nft -f` transaction that replaces only table inet zerotrust.
ZT_NFT_FILE=/etc/zerotrust/firewall.nft

zt_targets() { echo "firewall.nft $ZT_NFT_FILE"; }

zt_validate() { nft -c -f "$1/firewall.nft"; }

zt_persist() {
    zt_has_systemd || return 0
    zt_install_unit zerotrust-firewall.service <<UNIT
[Unit]
Description=zerotrust firewall (table inet zerotrust)
DefaultDependencies=no
Before=network-pre.target
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f $ZT_NFT_FILE

[Install]
WantedBy=multi-user.target
UNIT
}

# The drop record (drop-record.ts) lives in the table, so loading a new table empties it: what it
# held is kept first, as access-record.sh prints it (the report reads both). The newest 30 stay.
ZT_DROP_SETS="drops4 drops4_last drops6 drops6_last"
ZT_DROP_ARCHIVE=/var/lib/zerotrust/firewall/drops   # access-record.sh reads it there

zt_archive_drop_record() {
    nft list table inet zerotrust >/dev/null 2>&1 || return 0
    local f s
    install -d -m 700 "$ZT_DROP_ARCHIVE"
    f="$ZT_DROP_ARCHIVE/$(date +%s).record"
    {
        echo "now $(date +%s)"
        for s in $ZT_DROP_SETS; do nft -j list set inet zerotrust "$s" 2>/dev/null && echo; done
    } >"$f.tmp" && mv -f "$f.tmp" "$f"
    find "$ZT_DROP_ARCHIVE" -name '*.record' -printf '%f\n' | sort -rn | tail -n +31 | while read -r s; do rm -f "$ZT_DROP_ARCHIVE/$s"; done
}

zt_activate() { zt_archive_drop_record; nft -f "$ZT_NFT_FILE" && zt_persist; }

zt_verify() { nft list table inet zerotrust >/dev/null; }

zt_deactivate() {
    printf 'table inet zerotrust\ndelete table inet zerotrust\n' | nft -f -
    if zt_has_systemd; then zt_remove_unit zerotrust-firewall.service; fi
}

# The table without the drop record's elements: they are what the host saw, not configuration.
zt_without_drop_record() {
    awk '/^\tset drops[46](_last)? [{]/ { inset = 1 }
        inset && /^\t\telements = [{]/ { skip = 1 }
        skip { if (/[}]$/) skip = 0; next }
        /^\t[}]/ { inset = 0 }
        { print }'
}

# The table as nft lists it, without counters: live, or loaded from the payload into a network
# namespace of its own that ends with the command (nft itself normalizes both sides).
zt_concern_state() { # dir | live
    if [ "$1" = live ]; then
        { nft -s list table inet zerotrust 2>/dev/null || echo "table inet zerotrust absent"; } | zt_without_drop_record
        zt_unit_state zerotrust-firewall.service live
    else
        # shellcheck disable=SC2016 # $1 is the inner bash's argument, expanded there
        unshare --net /bin/bash -c 'nft -f "$1" && nft -s list table inet zerotrust' _ "$1/firewall.nft"
        zt_unit_state zerotrust-firewall.service expected
    fi
}
