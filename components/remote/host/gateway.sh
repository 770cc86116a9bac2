# shellcheck shell=bash disable=SC2034 # a fragment of the host program script.ts composes: its variables are read by the other parts
# Concern: the mTLS gateway, an nginx instance of its own (its own config, pid file and unit), so
# the distribution's nginx configuration is never touched. `nginx -t` before anything changes,
# reload (graceful: in-flight requests finish) rather than restart.
ZT_GW_DIR=/etc/zerotrust/gateway
ZT_GW_CONF="$ZT_GW_DIR/nginx.conf"
ZT_GW_PID=/run/zerotrust-gateway.pid   # the config's `pid`, fixed so a stop works without the config

ZT_GW_LOGS=/var/log/zerotrust   # gateway-log.ts GATEWAY_LOG_DIR: the access and error logs

zt_targets() {
    local f
    for f in nginx.conf server-chain.crt server.key client-cas.crt crl.pem; do echo "$f $ZT_GW_DIR/$f"; done
    # Only read where logrotate is installed (Debian's standard hosts); harmless elsewhere.
    echo "logrotate.conf /etc/logrotate.d/zerotrust-gateway"
}

# Relative paths in the config resolve against its own directory, so staging validates as is.
# nginx -t opens the logs: their directory is made first. Open to search: after a rotation each
# worker (nobody) reopens the log by its path, which the master has given it.
zt_validate() {
    [ -d "$ZT_GW_LOGS" ] || install -d -m 755 "$ZT_GW_LOGS"
    nginx -t -q -c "$1/nginx.conf"
}

zt_gw_running() { [ -s "$ZT_GW_PID" ] && kill -0 "$(cat "$ZT_GW_PID")" 2>/dev/null; }

zt_activate() {
    nginx -t -q -c "$ZT_GW_CONF" || return 1
    if zt_has_systemd; then
        zt_install_unit zerotrust-gateway.service <<UNIT
[Unit]
Description=zerotrust mTLS gateway (nginx)
After=network-online.target

[Service]
Type=forking
PIDFile=$ZT_GW_PID
ExecStartPre=/usr/sbin/nginx -t -q -c $ZT_GW_CONF
ExecStart=/usr/sbin/nginx -c $ZT_GW_CONF
ExecReload=/usr/sbin/nginx -s reload -c $ZT_GW_CONF
ExecStop=/usr/sbin/nginx -s quit -c $ZT_GW_CONF

[Install]
WantedBy=multi-user.target
UNIT
        if systemctl is-active --quiet zerotrust-gateway.service; then systemctl reload zerotrust-gateway.service; else systemctl start zerotrust-gateway.service; fi
    elif zt_gw_running; then
        nginx -s reload -c "$ZT_GW_CONF"
    else
        nginx -c "$ZT_GW_CONF"
    fi
}

zt_verify() {
    nginx -t -q -c "$ZT_GW_CONF" || return 1
    local _
    for _ in $(seq 50); do zt_gw_running && return 0; sleep 0.1; done
    return 1
}

zt_deactivate() {
    if zt_has_systemd && [ -e /etc/systemd/system/zerotrust-gateway.service ]; then
        zt_remove_unit zerotrust-gateway.service
    elif zt_gw_running; then
        kill -QUIT "$(cat "$ZT_GW_PID")"   # graceful shutdown of the master we started
    fi
}

ZT_SEMANTIC_FILES="crl.pem"

# Each CRL in a file by what it says: issuer, revoked serials, and whether it is still current
# (nginx refuses every client once a CRL has expired).
zt_crl_lines() { # file
    [ -s "$1" ] || { echo "crl absent"; return 0; }
    local dir f issuer next serials
    dir="$(mktemp -d "$ZT_STAGE/crl.XXXXXX")"
    awk -v d="$dir" '/-----BEGIN X509 CRL-----/ { n++ } n { print > (d "/" n ".pem") }' "$1"
    for f in "$dir"/*.pem; do
        issuer="$(openssl crl -in "$f" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')"
        next="$(openssl crl -in "$f" -noout -nextupdate | sed 's/^nextUpdate=//')"
        serials="$(openssl crl -in "$f" -noout -text | sed -n 's/^ *Serial Number: *//p' | tr 'a-f' 'A-F' | sort | paste -sd, -)"
        if [ "$(date -d "$next" +%s)" -gt "$(date +%s)" ]; then next=current; else next="expired since $next"; fi
        echo "crl issuer=$issuer revoked=${serials:-none} $next"
    done | sort
    rm -rf "$dir"
}

zt_concern_state() { # dir | live
    if [ "$1" = live ]; then
        zt_crl_lines "$ZT_GW_DIR/crl.pem"
        if zt_gw_running; then echo "nginx running"; else echo "nginx not running"; fi
        zt_unit_state zerotrust-gateway.service live active
    else
        zt_crl_lines "$1/crl.pem"
        echo "nginx running"
        zt_unit_state zerotrust-gateway.service expected active
    fi
}
