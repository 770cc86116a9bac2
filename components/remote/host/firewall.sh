# Concern: the nftables firewall. One `nft -f` transaction that replaces only table inet zerotrust.
ZT_NFT_FILE=/etc/zerotrust/firewall.nft
ZT_NFT_UNIT=/etc/systemd/system/zerotrust-firewall.service

zt_targets() { echo "firewall.nft $ZT_NFT_FILE"; }

zt_validate() { nft -c -f "$1/firewall.nft"; }

zt_persist() {
    zt_has_systemd || return 0
    cat >"$ZT_NFT_UNIT.zt-new" <<UNIT
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
    mv -f "$ZT_NFT_UNIT.zt-new" "$ZT_NFT_UNIT"
    systemctl daemon-reload
    systemctl enable --quiet zerotrust-firewall.service
}

zt_activate() { nft -f "$ZT_NFT_FILE" && zt_persist; }

zt_verify() { nft list table inet zerotrust >/dev/null; }

zt_deactivate() {
    printf 'table inet zerotrust\ndelete table inet zerotrust\n' | nft -f -
    if zt_has_systemd && [ -e "$ZT_NFT_UNIT" ]; then
        systemctl disable --quiet zerotrust-firewall.service || true
        rm -f "$ZT_NFT_UNIT"
        systemctl daemon-reload
    fi
}
