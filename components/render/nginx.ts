// nginx configuration for an mTLS gateway: the only server on its port (so no server skips client
// verification), TLS 1.3 by default, client certificates checked against the CA chain and its CRLs,
// an identity allowlist (403 for a valid certificate that is not on it), and the verified identity
// passed upstream in headers that replace anything a client sent under the same names.
// File paths are relative: nginx resolves them against the configuration file's own directory,
// so the same text validates in a staging directory and runs from its final place.
import { accessLogLines } from "./gateway-log";
import { ReleaseProfile } from "./releases";

export interface GatewaySpec {
    listenPort: number;
    /** Also listen on [::]:listenPort (IPv6 only on that socket: nginx sets ipv6only). */
    listenIPv6: boolean;
    serverName: string;
    /** Upstream servers, host:port or [IPv6]:port (mesh addresses, or addresses given). */
    upstreams: string[];
    /** Subject DNs (RFC 2253, as $ssl_client_s_dn shows them) allowed through. */
    allowedDns: string[];
    /** CAs between a client certificate and the root: 1 for a root-only CA, 2 with an intermediate. */
    verifyDepth: number;
    /** Also accept TLS 1.2, with ECDHE-ECDSA AEAD suites only. */
    allowTls12: boolean;
    pidFile: string;
    errorLog: string;
    /**
     * Where each request is logged as one JSON line (gateway-log.ts says what a line holds).
     * Default: no access log (the benchmarks' gateways).
     */
    accessLog?: string;
    /**
     * Names the session cache: a different value starts an empty cache at the reload. Derived from
     * the revoked serials, so that a revoked certificate cannot resume a session it already had.
     */
    sessionEpoch: string;
    /** The host's release: which directives its nginx knows. */
    release: ReleaseProfile;
}

export const GATEWAY_FILES = {
    config: "nginx.conf",
    certificate: "server-chain.crt",
    key: "server.key",
    clientCas: "client-cas.crt",
    crl: "crl.pem",
} as const;

// Headers the application may trust: set here, never taken from the client.
export const IDENTITY_HEADERS = {
    dn: "X-Client-DN",
    fingerprint: "X-Client-Fingerprint",
    verify: "X-Client-Verify",
};

const TLS12_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305";

const SESSIONS_PER_WORKER = 10000;

function checkEpoch(epoch: string): string {
    if (!/^[a-z0-9]{1,16}$/.test(epoch)) throw new Error(`nginx: session epoch ${JSON.stringify(epoch)} must be 1-16 of [a-z0-9]`);
    return epoch;
}

function quoted(s: string): string {
    if (/["\\\n\r$;{}]/.test(s)) throw new Error(`nginx: ${JSON.stringify(s)} cannot be quoted safely`);
    return `"${s}"`;
}

export function renderGatewayConfig(g: GatewaySpec): string {
    if (g.upstreams.length === 0) throw new Error("gateway: at least one upstream is needed");
    const f = GATEWAY_FILES;
    // HTTP/2 in the syntax this release's nginx wants (ReleaseProfile.nginxHttp2); clients that
    // do not offer h2 in ALPN get HTTP/1.1 on the same port.
    const listenHttp2 = g.release.nginxHttp2 === "listen-parameter" ? " http2" : "";
    return [
        "# Managed by zerotrust.",
        "worker_processes auto;",
        `pid ${g.pidFile};`,
        `error_log ${g.errorLog} warn;`,
        "events { worker_connections 1024; }",
        "http {",
        ...(g.accessLog ? accessLogLines(g.accessLog) : ["    access_log off;"]),
        "    server_tokens off;",
        "    map $ssl_client_s_dn $zt_client_allowed {",
        "        default 0;",
        ...g.allowedDns.map((dn) => `        ${quoted(dn)} 1;`),
        "    }",
        "    upstream zt_upstream {",
        ...g.upstreams.map((u) => `        server ${u};`),
        "        keepalive 16;",
        "    }",
        "    server {",
        // default_server and the only server on this port: every connection is verified.
        `        listen ${g.listenPort} ssl${listenHttp2} default_server;`,
        ...(g.listenIPv6 ? [`        listen [::]:${g.listenPort} ssl${listenHttp2} default_server;`] : []),
        ...(g.release.nginxHttp2 === "directive" ? ["        http2 on;"] : []),
        `        server_name ${g.serverName};`,
        `        ssl_certificate ${f.certificate};`,
        `        ssl_certificate_key ${f.key};`,
        `        ssl_protocols ${g.allowTls12 ? "TLSv1.2 TLSv1.3" : "TLSv1.3"};`,
        ...(g.allowTls12 ? [`        ssl_ciphers ${TLS12_CIPHERS};`, "        ssl_prefer_server_ciphers on;"] : []),
        "        ssl_ecdh_curve X25519:prime256v1;",
        // The per-worker cache resumes without decoding the session (and its client certificate)
        // from shared memory; the shared one serves clients that come back to another worker.
        // Tickets off: sessions stay on the host and go away with their zone.
        `        ssl_session_cache builtin:${SESSIONS_PER_WORKER} shared:zt_${checkEpoch(g.sessionEpoch)}:10m;`,
        "        ssl_session_timeout 4h;",
        "        ssl_session_tickets off;",
        // OpenSSL sends two TLS 1.3 tickets per handshake; clients such as curl keep one. One ticket
        // halves the sessions each handshake writes, so the shared cache holds twice as many clients.
        // nginx 1.18 (Debian 11) has no ssl_conf_command: there the cache fills twice as fast.
        ...(g.release.nginxSslConfCommand ? ["        ssl_conf_command NumTickets 1;"] : []),
        `        ssl_client_certificate ${f.clientCas};`,
        "        ssl_verify_client on;",
        `        ssl_verify_depth ${g.verifyDepth};`,
        `        ssl_crl ${f.crl};`,
        "        if ($zt_client_allowed = 0) { return 403; }",
        "        location / {",
        "            proxy_pass http://zt_upstream;",
        "            proxy_http_version 1.1;",
        "            proxy_set_header Connection \"\";",
        "            proxy_set_header Host $host;",
        `            proxy_set_header ${IDENTITY_HEADERS.dn} $ssl_client_s_dn;`,
        `            proxy_set_header ${IDENTITY_HEADERS.fingerprint} $ssl_client_fingerprint;`,
        `            proxy_set_header ${IDENTITY_HEADERS.verify} $ssl_client_verify;`,
        "        }",
        "    }",
        "}",
        "",
    ].join("\n");
}
