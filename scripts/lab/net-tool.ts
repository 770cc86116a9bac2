// A tiny network tool run inside lab namespaces (`ip netns exec NS node net-tool.js ...`). Targets
// are HOST:PORT or [IPv6]:PORT; listeners take both families.
//   listen PORT...                 accept TCP connections on every port (and close them)
//   probe TIMEOUT_MS HOST:PORT...  try each TCP connection at once; prints JSON {target: "open"|"refused"|"filtered"}
//   udp-echo PORT...               send every UDP datagram back to where it came from
//   udp-probe TIMEOUT_MS HOST:PORT...  send one datagram to each; prints JSON {target: "answered"|"silent"}
//   http-echo PORT                 answer every HTTP request with 200 and the request's headers as JSON
//   https-load URL CERT KEY CA     one request per new TLS connection, back to back, until SIGTERM;
//                                  then prints JSON {ok, failed, statuses}
import { createSocket } from "dgram";
import { readFileSync } from "fs";
import { createServer as createHttpServer } from "http";
import { request as httpsRequest } from "https";
import { Socket, createServer, isIPv6 } from "net";
import { splitHostPort } from "../../components/validate";

function listen(ports: number[]): void {
    for (const port of ports) {
        // "::" takes IPv4 too (as ::ffff:a.b.c.d): one listener for both families.
        // A scanner's connect-and-reset must not end the listener.
        createServer((s) => { s.on("error", () => undefined); s.end(); }).listen(port, "::");
    }
    process.stdout.write("ready\n");
}

function probeOne(target: string, timeoutMs: number): Promise<string> {
    const { host, port } = hostPort(target);
    return new Promise((resolve) => {
        const socket = new Socket();
        const done = (result: string) => { socket.destroy(); resolve(result); };
        socket.setTimeout(timeoutMs, () => done("filtered"));
        socket.once("connect", () => done("open"));
        socket.once("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED" ? "refused" : "filtered"));
        socket.connect(Number(port), host);
    });
}

function hostPort(target: string): { host: string; port: string } {
    const parts = splitHostPort(target);
    if (!parts) throw new Error(`net-tool: ${JSON.stringify(target)} is not HOST:PORT or [IPv6]:PORT`);
    return parts;
}

function udpEcho(ports: number[]): void {
    for (const port of ports) {
        const socket = createSocket({ type: "udp6" });
        socket.on("message", (msg, from) => socket.send(msg, from.port, from.address));
        socket.bind(port, "::");
    }
    process.stdout.write("ready\n");
}

function udpProbeOne(target: string, timeoutMs: number): Promise<string> {
    const { host, port } = hostPort(target);
    const socket = createSocket({ type: isIPv6(host) ? "udp6" : "udp4" });
    return new Promise((resolve) => {
        const done = (result: string) => { clearTimeout(timer); socket.close(); resolve(result); };
        const timer = setTimeout(() => done("silent"), timeoutMs);
        socket.on("message", () => done("answered"));
        socket.on("error", () => done("silent"));
        socket.send("zerotrust probe", Number(port), host);
    });
}

async function udpProbe(timeoutMs: number, targets: string[]): Promise<void> {
    const results = await Promise.all(targets.map((t) => udpProbeOne(t, timeoutMs)));
    process.stdout.write(JSON.stringify(Object.fromEntries(targets.map((t, i) => [t, results[i]]))) + "\n");
}

async function probe(timeoutMs: number, targets: string[]): Promise<void> {
    const results = await Promise.all(targets.map((t) => probeOne(t, timeoutMs)));
    process.stdout.write(JSON.stringify(Object.fromEntries(targets.map((t, i) => [t, results[i]]))) + "\n");
}

function httpEcho(port: number): void {
    createHttpServer((req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(req.headers));
    }).listen(port, "::", () => process.stdout.write("ready\n"));
}

function httpsLoad(url: string, cert: string, key: string, ca: string): void {
    const tls = { cert: readFileSync(cert), key: readFileSync(key), ca: readFileSync(ca), agent: false as const };
    const counts = { ok: 0, failed: 0, statuses: {} as Record<string, number> };
    let stopping = false;
    process.on("SIGTERM", () => { stopping = true; });
    const once = () => {
        if (stopping) {
            process.stdout.write(JSON.stringify(counts) + "\n");
            return;
        }
        const req = httpsRequest(url, tls, (res) => {
            res.resume();
            res.on("end", () => {
                const code = String(res.statusCode);
                counts.statuses[code] = (counts.statuses[code] ?? 0) + 1;
                if (code === "200") counts.ok++; else counts.failed++;
                once();
            });
        });
        req.on("error", () => { counts.failed++; once(); });
        req.end();
    };
    process.stdout.write("ready\n");
    once();
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === "listen") listen(rest.map(Number));
else if (mode === "http-echo") httpEcho(Number(rest[0]));
else if (mode === "https-load") httpsLoad(rest[0], rest[1], rest[2], rest[3]);
else if (mode === "probe") void probe(Number(rest[0]), rest.slice(1));
else if (mode === "udp-echo") udpEcho(rest.map(Number));
else if (mode === "udp-probe") void udpProbe(Number(rest[0]), rest.slice(1));
else {
    process.stderr.write("usage: net-tool listen PORT... | probe TIMEOUT_MS HOST:PORT... | udp-echo PORT... | udp-probe TIMEOUT_MS HOST:PORT... | http-echo PORT | https-load URL CERT KEY CA\n");
    process.exit(2);
}
