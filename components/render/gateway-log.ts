// The gateway's access log: one JSON line per request, naming the client by its certificate, and
// its rotation. The verdict is the gateway's own reading of the request:
//   allowed             a valid certificate on the allowlist (the request went upstream)
//   forbidden           a valid certificate that is not on the allowlist (403)
//   revoked             a certificate the CRL lists (400)
//   no-certificate      no client certificate (400)
//   failed-certificate  any other failed verification: another CA, expired, ... (400)
// A TLS handshake that fails before any request (a TLS 1.2-only client) is no request: it is in the
// error log only. The path and query are left out on purpose: they can carry tokens.
// Pure.

/** Where the gateway's logs live: a directory of zerotrust's own, so that Debian's logrotate rule for
 * /var/log/nginx/*.log (which signals the distribution's nginx, not this one) never rotates them. */
export const GATEWAY_LOG_DIR = "/var/log/zerotrust";
export const GATEWAY_ACCESS_LOG = `${GATEWAY_LOG_DIR}/gateway-access.log`;
export const GATEWAY_ERROR_LOG = `${GATEWAY_LOG_DIR}/gateway-error.log`;
/** The logrotate rule the gateway concern installs (where the host has logrotate, it runs it daily). */
export const GATEWAY_LOGROTATE_PATH = "/etc/logrotate.d/zerotrust-gateway";
/** Its name in the gateway concern's payload (gateway.sh installs it at GATEWAY_LOGROTATE_PATH). */
export const GATEWAY_LOGROTATE_FILE = "logrotate.conf";

export const VERDICTS = ["allowed", "forbidden", "revoked", "no-certificate", "failed-certificate"] as const;
export type Verdict = typeof VERDICTS[number];

/** One access log line as the gateway writes it. */
export interface AccessLogLine {
    time: string;
    client: string;
    subject: string;
    fingerprint: string;
    verify: string;
    verdict: Verdict;
    method: string;
    status: number;
    upstream: string;
    upstream_status: string;
    bytes_in: number;
    bytes_out: number;
}

// escape=json: every value is escaped as a JSON string's content (nginx 1.11.8+). The numbers are
// nginx's own numeric variables, never empty.
const FIELDS: [keyof AccessLogLine, string, "string" | "number"][] = [
    ["time", "$time_iso8601", "string"],
    ["client", "$remote_addr", "string"],
    ["subject", "$ssl_client_s_dn", "string"],
    ["fingerprint", "$ssl_client_fingerprint", "string"],
    ["verify", "$ssl_client_verify", "string"],
    ["verdict", "$zt_verdict", "string"],
    ["method", "$request_method", "string"],
    ["status", "$status", "number"],
    ["upstream", "$upstream_addr", "string"],
    ["upstream_status", "$upstream_status", "string"],
    ["bytes_in", "$request_length", "number"],
    ["bytes_out", "$bytes_sent", "number"],
];

export const ACCESS_LOG_FORMAT = "{" + FIELDS.map(([k, v, type]) => type === "number" ? `"${k}":${v}` : `"${k}":"${v}"`).join(",") + "}";

/** The http-level lines: the verdict map, the format and the log. $zt_client_allowed is the allowlist's map. */
export function accessLogLines(path: string): string[] {
    if (!/^\/[A-Za-z0-9._/-]+$/.test(path)) throw new Error(`nginx: access log path ${JSON.stringify(path)} must be an absolute path of [A-Za-z0-9._/-]`);
    return [
        "    map \"$ssl_client_verify $zt_client_allowed\" $zt_verdict {",
        "        default failed-certificate;",
        "        \"SUCCESS 1\" allowed;",
        "        \"SUCCESS 0\" forbidden;",
        "        \"~^FAILED:certificate revoked \" revoked;",
        "        \"~^NONE \" no-certificate;",
        "    }",
        `    log_format zt_access escape=json '${ACCESS_LOG_FORMAT}';`,
        `    access_log ${path} zt_access;`,
    ];
}

/**
 * The logrotate rule: daily or past 100 MB, 14 kept, compressed from the second; then the gateway's
 * own nginx master reopens its logs (USR1), found by its pid file. `create` gives the new file the
 * mode nginx would (root-owned, readable by adm like Debian's other logs).
 */
export function renderGatewayLogrotate(pidFile: string): string {
    if (!/^\/[A-Za-z0-9._/-]+$/.test(pidFile)) throw new Error(`logrotate: pid file ${JSON.stringify(pidFile)} must be an absolute path of [A-Za-z0-9._/-]`);
    return [
        "# Managed by zerotrust: the mTLS gateway's logs.",
        `${GATEWAY_LOG_DIR}/gateway-*.log {`,
        "\tdaily",
        "\tmaxsize 100M",
        "\trotate 14",
        "\tmissingok",
        "\tnotifempty",
        "\tcompress",
        "\tdelaycompress",
        "\tcreate 0640 root adm",
        "\tsharedscripts",
        "\tpostrotate",
        `\t\t[ ! -s ${pidFile} ] || kill -USR1 "$(cat ${pidFile})"`,
        "\tendscript",
        "}",
        "",
    ].join("\n");
}

/** The postrotate command alone, as logrotate runs it (sh -c): what the lab runs after moving a log. */
export function postrotateCommand(rule: string): string {
    const m = /\tpostrotate\n\t\t(.*)\n\tendscript/.exec(rule);
    if (!m) throw new Error("logrotate rule without a postrotate script");
    return m[1];
}
