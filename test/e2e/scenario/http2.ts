// The lab gateway over HTTP/2, next to HTTP/1.1: the real curl against the host's own nginx (in
// a release lab, that release's nginx). Every case must get the same answer over both protocols,
// and the --http2 request must really have negotiated HTTP/2 (ALPN h2), not fallen back. And a
// client's open connection over each protocol, kept busy, to see what a change to the gateway does to it.
import { ExecutionContext } from "ava";
import { readFileSync } from "fs";
import { connect as h2Connect } from "http2";
import { request as httpsRequest } from "https";
import { connect as tlsConnect } from "tls";
import { IDENTITY_HEADERS } from "../../../components/render/nginx";
import { CurlResult, curl } from "../gateway-clients";
import { getH2 } from "../../../scripts/bench/http-versions";

export interface GatewayCase {
    /** Who asks, for the messages: "alice", "carol (not on the allowlist)". */
    label: string;
    /** curl arguments: the client's --cert/--key, headers. */
    args: string[];
    /** The status expected over both protocols. */
    status: string;
    /** For a 200: the subject DN the upstream must get in X-Client-DN. */
    dn?: string;
}

/** The identity headers the echo app got, DN first. */
const identityOf = (r: CurlResult) => {
    const seen = JSON.parse(r.body);
    return [IDENTITY_HEADERS.dn, IDENTITY_HEADERS.fingerprint, IDENTITY_HEADERS.verify].map((h) => seen[h.toLowerCase()]);
};

/** Asks each case over --http1.1 and over --http2; the answers must be equal, and as expected. */
export function sameOverHttp2(t: ExecutionContext, url: string, resolveTo: string, ca: string, cases: GatewayCase[]): void {
    const rows: string[] = [];
    for (const c of cases) {
        const h1 = curl(url, resolveTo, ca, ["--http1.1", ...c.args]);
        const h2 = curl(url, resolveTo, ca, ["--http2", ...c.args]);
        rows.push(`${c.label}: HTTP/${h1.version} ${h1.status}, HTTP/${h2.version} ${h2.status}`);
        t.deepEqual([h1.version, h1.status], ["1.1", c.status], `${c.label} over HTTP/1.1: ${h1.body}`);
        t.deepEqual([h2.version, h2.status], ["2", c.status], `${c.label} over HTTP/2 (negotiated, not fallen back): ${h2.body}`);
        // An answer from the upstream (the echo app) shows the identity headers it got: the same on both.
        if (c.status === "200") {
            t.deepEqual(identityOf(h2), identityOf(h1), `${c.label}: the same identity headers reach the upstream over HTTP/2`);
            const [dn, fingerprint, verify] = identityOf(h2);
            t.deepEqual([dn, verify], [c.dn, "SUCCESS"], `${c.label}: the verified identity over HTTP/2, not the one the client sent`);
            t.regex(fingerprint, /^[0-9a-f]{40}$/, c.label);
        }
    }
    t.log(`the gateway over HTTP/1.1 and HTTP/2:\n  ${rows.join("\n  ")}`);
}

/** A connection a client keeps open across a change to the gateway. */
export interface HeldConnection {
    protocol: "http/1.1" | "h2";
    /** Answers on this connection: 200s, and anything else. */
    ok: number;
    other: number;
    /** When the gateway closed it (the socket's close), if it did. */
    closedAt?: number;
    stop(): void;
}

/**
 * Opens one connection as `client` and sends a GET on it every second, so it never idles out
 * (nginx's keepalive_timeout is 75 s): if it closes, the gateway closed it. Only this connection:
 * nothing reconnects.
 */
export async function holdConnection(address: string, host: string, ca: string, client: { cert: string; key: string },
    protocol: "http/1.1" | "h2"): Promise<HeldConnection> {
    const socket = tlsConnect({
        host: address, port: 443, servername: host, ca: readFileSync(ca), cert: readFileSync(client.cert), key: readFileSync(client.key), ALPNProtocols: [protocol],
    });
    socket.on("error", () => undefined);
    const h2 = protocol === "h2" ? h2Connect(`https://${host}`, { createConnection: () => socket }) : undefined;
    h2?.on("error", () => undefined);
    const held: HeldConnection = { protocol, ok: 0, other: 0, stop: () => { clearInterval(timer); h2?.destroy(); socket.destroy(); } };
    socket.once("close", () => { held.closedAt = Date.now(); });
    const get = (): Promise<number> => new Promise((resolve, reject) => {
        if (h2) {
            getH2(h2).then(resolve, reject);
        } else {
            // No agent: the request goes over this socket, which stays open for the next (keep-alive).
            const req = httpsRequest({ host, path: "/", createConnection: () => socket, headers: { Connection: "keep-alive" } },
                (res) => { res.resume(); res.on("end", () => resolve(res.statusCode ?? 0)); });
            req.on("error", reject);
            req.end();
        }
    });
    const ask = () => get().then((s) => { if (s === 200) held.ok++; else held.other++; }, () => undefined); // a request cut by the close
    await ask();
    const timer = setInterval(() => { if (held.closedAt === undefined) void ask(); }, 1000);
    return held;
}
