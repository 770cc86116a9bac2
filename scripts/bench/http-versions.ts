// Client load for the bench's HTTP/2 vs HTTP/1.1 comparison (gateway-handshakes.ts). Both protocols
// use the same client, Node's tls with the client certificate, offering only h2 or only http/1.1
// in ALPN, so the protocol is the one difference:
//   returning clients  every visit is a new connection that resumes the client's saved TLS session,
//                      one GET, then the connection closes;
//   one connection     GETs over one kept connection, `inFlight` at a time (HTTP/1.1 has one;
//                      HTTP/2 multiplexes streams); the next one when nginx closes it after
//                      keepalive_requests (1000, both protocols).
import { ClientHttp2Session, connect as h2Connect } from "http2";
import { Agent, request as httpsRequest } from "https";
import { TLSSocket, connect as tlsConnect } from "tls";

export type Protocol = "http/1.1" | "h2";

export interface Target {
    host: string;
    port: number;
    servername: string;
    ca: Buffer;
    cert: Buffer;
    key: Buffer;
}

export interface LoadCount {
    requests: number;
    /** Requests that did not answer 200, or failed. */
    failed: number;
    /** New TLS connections made, and how many of them resumed a session. */
    connections: number;
    resumed: number;
    /** The protocol every connection negotiated (a mismatch is an error, not a figure). */
    negotiated: Set<string>;
}

function connectTls(t: Target, protocol: Protocol, session: Buffer | undefined, count: LoadCount, onSession: (s: Buffer) => void): TLSSocket {
    const socket = tlsConnect({ host: t.host, port: t.port, servername: t.servername, ca: t.ca, cert: t.cert, key: t.key, ALPNProtocols: [protocol], session });
    count.connections++;
    socket.once("secureConnect", () => {
        if (socket.isSessionReused()) count.resumed++;
        count.negotiated.add(String(socket.alpnProtocol));
    });
    socket.on("session", onSession); // TLS 1.3: the session ticket comes after the handshake
    return socket;
}

/** One GET / over HTTP/1.1: on a new connection that closes after it, or through a keep-alive agent. */
function getH1(t: Target, via: { socket: TLSSocket } | { agent: Agent }): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = httpsRequest({
            host: t.servername, port: t.port, path: "/",
            // No agent with createConnection: the request goes over that socket (agent: false would make one).
            ...("socket" in via ? { createConnection: () => via.socket, headers: { Connection: "close" } } : { agent: via.agent }),
        }, (res) => { res.resume(); res.on("end", () => resolve(res.statusCode ?? 0)); });
        req.on("error", reject);
        req.end();
    });
}

/** One GET / on an open HTTP/2 session: its status, once the body is read. */
export function getH2(client: ClientHttp2Session): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = client.request({ ":path": "/" });
        let status = 0;
        req.on("response", (h) => { status = Number(h[":status"]); });
        req.on("error", reject);
        req.resume();
        req.on("end", () => resolve(status));
        req.end();
    });
}

/** Closes a session; one that nginx already closed (after GOAWAY) is done. */
function closeH2(h2: ClientHttp2Session): Promise<void> {
    return h2.closed || h2.destroyed ? Promise.resolve() : new Promise((r) => h2.close(() => r()));
}

function h2Session(t: Target, socket: TLSSocket): ClientHttp2Session {
    return h2Connect(`https://${t.servername}:${t.port}`, { createConnection: () => socket });
}

const newCount = (): LoadCount => ({ requests: 0, failed: 0, connections: 0, resumed: 0, negotiated: new Set() });

/** A stream the server refused, or could not start, because it is closing the connection: safe to retry. */
function refusedForGoaway(r: number | Error): boolean {
    const code = r instanceof Error ? (r as NodeJS.ErrnoException).code : undefined;
    return code === "ERR_HTTP2_GOAWAY_SESSION" || (code === "ERR_HTTP2_STREAM_ERROR" && /REFUSED_STREAM/.test((r as Error).message));
}

function tally(count: LoadCount, status: number | Error): void {
    count.requests++;
    if (status !== 200) count.failed++;
}

/** `clients` returning clients at once for `seconds`: each visit a new connection resuming the client's last session. */
export async function returningClients(t: Target, protocol: Protocol, clients: number, seconds: number): Promise<LoadCount> {
    const count = newCount();
    const end = Date.now() + seconds * 1000;
    const client = async () => {
        let session: Buffer | undefined;
        while (Date.now() < end) {
            const socket = connectTls(t, protocol, session, count, (s) => { session = s; });
            if (protocol === "h2") {
                const h2 = h2Session(t, socket);
                h2.on("error", () => undefined);
                tally(count, await getH2(h2).catch((e: Error) => e));
                await closeH2(h2);
            } else {
                tally(count, await getH1(t, { socket }).catch((e: Error) => e));
                socket.destroy();
            }
        }
    };
    await Promise.all(Array.from({ length: clients }, client));
    return count;
}

/** One connection for `seconds`, `inFlight` requests at a time on it (1 for HTTP/1.1: no pipelining). */
export async function oneConnection(t: Target, protocol: Protocol, inFlight: number, seconds: number): Promise<LoadCount> {
    if (protocol === "http/1.1" && inFlight !== 1) throw new Error("oneConnection: HTTP/1.1 carries one request at a time (inFlight: 1)");
    const count = newCount();
    const end = Date.now() + seconds * 1000;
    if (protocol === "h2") {
        // nginx ends a connection after keepalive_requests (1000) with GOAWAY, as an HTTP/1.1
        // keep-alive connection after as many requests: the client then opens the next one, and
        // retries the streams the server refused (count.connections shows how many it took).
        const sessions: ClientHttp2Session[] = [];
        let current: ClientHttp2Session;
        const open = (): ClientHttp2Session => {
            const h2 = h2Session(t, connectTls(t, protocol, undefined, count, () => undefined));
            h2.on("error", () => undefined);
            h2.once("goaway", () => { if (current === h2) current = open(); });
            sessions.push(h2);
            return h2;
        };
        current = open();
        const stream = async () => {
            while (Date.now() < end) {
                const r = await getH2(current).catch((e: Error) => e);
                if (!refusedForGoaway(r)) tally(count, r);
            }
        };
        await Promise.all(Array.from({ length: inFlight }, stream));
        await Promise.all(sessions.map(closeH2));
    } else {
        // A keep-alive agent with one socket, as an HTTP/1.1 client keeps its connection; count.connections shows it kept one.
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        agent.createConnection = () => connectTls(t, protocol, undefined, count, () => undefined);
        while (Date.now() < end) tally(count, await getH1(t, { agent }).catch((e: Error) => e));
        agent.destroy();
    }
    return count;
}
