// Benchmark, on demand (`npm run bench:gateway`): mTLS handshakes per second through nginx on
// loopback, full and resumed, for four configurations side by side in one run:
//   gateway  the MtlsGateway's own config (ECDSA P-256 keys, TLS 1.3, session cache, CRL, allowlist)
//   seed     the seeds' style: RSA 4096 CA, RSA 2048 server and client keys, no session cache
//   bare     a minimal nginx mTLS server with the gateway's keys: the ceiling
//   no-mtls  bare without client certificates, for context: what mTLS itself costs here
// All four proxy each request to the same kind of upstream, so only TLS differs between them.
// Load: `openssl s_time` (Debian's openssl) with a client certificate, one connection at a time.
// The client shares the machine's two cores with nginx, so besides wall-clock rates the figures
// that decide are handshakes per second of nginx worker CPU (the server's capacity), measured from
// the workers' own CPU time. Configurations take turns, ROUNDS times; medians are reported.
// s_time offers no ALPN, so the handshake figures are HTTP/1.x on every configuration.
// Then HTTP/2 next to HTTP/1.1 on the gateway's own config (http-versions.ts: one client, Node's
// tls, offering h2 or http/1.1): returning clients (a new connection resuming a session per
// request) and many requests on one connection; requests per second, the same two ways.
import { execFileSync, spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { buildCrl } from "../../components/remote/crl";
import { GATEWAY_FILES, renderGatewayConfig } from "../../components/render/nginx";
import { RELEASES } from "../../components/render/releases";
import { LoadCount, Protocol, Target, oneConnection, returningClients } from "./http-versions";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
const openssl = (args: string[], cwd: string) => execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });

type KeyKind = "ec" | "rsa2048" | "rsa4096";
const keyArgs = (k: KeyKind) => k === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", `rsa:${k.slice(3)}`];

/** CA, server and client certificates in dir (names ca, server, client). */
function makePki(dir: string, caKey: KeyKind, leafKey: KeyKind): void {
    mkdirSync(dir, { recursive: true });
    openssl(["req", "-x509", "-nodes", ...keyArgs(caKey), "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/O=zerotrust/CN=bench CA", "-days", "2"], dir);
    for (const [name, eku, cn] of [["server", "serverAuth", "localhost"], ["client", "clientAuth", "alice"]]) {
        openssl(["req", "-new", "-nodes", ...keyArgs(leafKey), "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/O=zerotrust/CN=${cn}`], dir);
        writeFileSync(join(dir, `${name}.ext`), `extendedKeyUsage=${eku}\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n`);
        openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", `${name}.ext`, "-out", `${name}.crt`], dir);
    }
}

/** Every configuration proxies to the same kind of upstream, an nginx server on loopback that
 * answers 200, over keepalive connections: the HTTP work is the same, only TLS differs. */
const upstreamServer = (port: number) => `    server { listen 127.0.0.1:${port}; access_log off; location / { return 200 "ok"; } }`;

function gatewayConfig(dir: string, port: number, upstreamPort: number): void {
    const conf = renderGatewayConfig({
        listenPort: port, listenIPv6: false, serverName: "localhost", upstreams: [`127.0.0.1:${upstreamPort}`], allowedDns: ["CN=alice,O=zerotrust"],
        verifyDepth: 1, allowTls12: false, pidFile: join(dir, "nginx.pid"), errorLog: join(dir, "error.log"), sessionEpoch: "bench",
        release: RELEASES["debian-12"], // the nginx of this machine
    }).replace(/listen (\d+) ssl( http2)? default_server;/, "listen 127.0.0.1:$1 ssl$2 default_server;")
        .replace(/\n}\n$/, `\n${upstreamServer(upstreamPort)}\n}\n`);
    writeFileSync(join(dir, GATEWAY_FILES.config), conf);
    writeFileSync(join(dir, GATEWAY_FILES.certificate), readFileSync(join(dir, "server.crt")));
    writeFileSync(join(dir, GATEWAY_FILES.key), readFileSync(join(dir, "server.key")), { mode: 0o600 });
    writeFileSync(join(dir, GATEWAY_FILES.clientCas), readFileSync(join(dir, "ca.crt")));
    writeFileSync(join(dir, GATEWAY_FILES.crl), buildCrl({
        caCertPem: readFileSync(join(dir, "ca.crt"), "utf8"), caKeyPem: readFileSync(join(dir, "ca.key"), "utf8"),
        revokedSerials: [], window: Math.floor(Date.now() / (7 * 86400_000)), windowDays: 7,
    }));
}

interface PlainOptions {
    protocols: string;
    /** nginx's defaults (no shared cache, tickets on) are not what the seeds ran: they had no cache. */
    sessionCache: "shared" | "off";
    verifyClient: boolean;
}

function plainConfig(dir: string, port: number, upstreamPort: number, o: PlainOptions): void {
    writeFileSync(join(dir, "nginx.conf"), [
        "worker_processes auto;", `pid ${join(dir, "nginx.pid")};`, `error_log ${join(dir, "error.log")} warn;`,
        "events { worker_connections 1024; }", "http {", "    access_log off;",
        `    upstream backend { server 127.0.0.1:${upstreamPort}; keepalive 16; }`,
        "    server {",
        `        listen 127.0.0.1:${port} ssl default_server;`,
        "        ssl_certificate server.crt;", "        ssl_certificate_key server.key;",
        `        ssl_protocols ${o.protocols};`,
        ...(o.verifyClient ? ["        ssl_client_certificate ca.crt;", "        ssl_verify_client on;"] : []),
        ...(o.sessionCache === "shared" ? ["        ssl_session_cache shared:bench:10m;"] : ["        ssl_session_cache off;", "        ssl_session_tickets off;"]),
        "        location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; }", "    }",
        upstreamServer(upstreamPort), "}", "",
    ].join("\n"));
}

function startNginx(dir: string): void {
    execFileSync("nginx", ["-c", join(dir, "nginx.conf")], { stdio: ["ignore", "pipe", "pipe"] });
}

function stopNginx(dir: string): void {
    try {
        const pid = Number(readFileSync(join(dir, "nginx.pid"), "utf8"));
        process.kill(pid, "SIGQUIT"); // the master we started, by pid
    } catch { /* not running */ }
}

/** CPU seconds used so far by the workers of the nginx master whose pid file is in dir. */
function workerCpuSeconds(dir: string): number {
    const master = readFileSync(join(dir, "nginx.pid"), "utf8").trim();
    const workers = execFileSync("ps", ["--ppid", master, "-o", "pid="], { encoding: "utf8" }).trim().split(/\s+/);
    return workers.reduce((sum, pid) => {
        const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
        return sum + (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime
    }, 0);
}

interface Rate { wall: number; perCpu: number }

/** s_time fetching / over each (new or resumed) connection: per wall second and per worker CPU second. */
function measure(dir: string, port: number, mode: "-new" | "-reuse"): Rate {
    const cpuBefore = workerCpuSeconds(dir);
    // CLIENTS copies of s_time at once (a shell waits for all of them).
    const one = `openssl s_time -connect 127.0.0.1:${port} ${mode} -time ${SECONDS} -www / -cert client.crt -key client.key -CAfile ca.crt`;
    const r = spawnSync("bash", ["-c", `for i in $(seq ${CLIENTS}); do ${one} & done; wait`], { cwd: dir, encoding: "utf8" });
    const cpu = workerCpuSeconds(dir) - cpuBefore;
    const runs = [...r.stdout.matchAll(/(\d+) connections in (\d+) real seconds/g)];
    if (runs.length !== CLIENTS) throw new Error(`s_time printed ${runs.length} rates of ${CLIENTS} for port ${port}: ${r.stdout}\n${r.stderr}`);
    const connections = runs.reduce((n, m) => n + Number(m[1]), 0);
    return { wall: connections / SECONDS, perCpu: connections / Math.max(cpu, 1 / TICKS) };
}

/** One run of the HTTP version load against the gateway: requests per wall second and per worker CPU second. */
async function measureLoad(dir: string, label: string, want: Protocol, run: () => Promise<LoadCount>): Promise<{ rate: Rate; count: LoadCount }> {
    const cpuBefore = workerCpuSeconds(dir);
    const started = process.hrtime.bigint();
    const count = await run();
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = workerCpuSeconds(dir) - cpuBefore;
    if (count.failed > 0 || count.requests === 0) throw new Error(`${label}: ${count.failed} of ${count.requests} requests failed`);
    if ([...count.negotiated].join() !== want) throw new Error(`${label}: negotiated ${[...count.negotiated].join(", ")}, not ${want}`);
    return { rate: { wall: count.requests / wall, perCpu: count.requests / Math.max(cpu, 1 / TICKS) }, count };
}

const STREAMS = Number(process.env.BENCH_STREAMS ?? 16);

interface VersionCase { name: string; protocol: Protocol; run: (t: Target) => Promise<LoadCount>; note: (c: LoadCount) => string }

const VERSION_CASES: VersionCase[] = [
    ...(["http/1.1", "h2"] as const).map((protocol): VersionCase => ({
        name: `returning, ${protocol === "h2" ? "HTTP/2" : "HTTP/1.1"}`, protocol, run: (t) => returningClients(t, protocol, CLIENTS, SECONDS),
        note: (c) => `${CLIENTS} clients; ${(100 * c.resumed / c.connections).toFixed(0)}% of ${c.connections} connections resumed`,
    })),
    ...([["http/1.1", 1], ["h2", 1], ["h2", STREAMS]] as const).map(([protocol, inFlight]): VersionCase => ({
        name: `one conn, ${protocol === "h2" ? "HTTP/2" : "HTTP/1.1"} x${inFlight}`, protocol, run: (t) => oneConnection(t, protocol, inFlight, SECONDS),
        note: (c) => `${inFlight} in flight; ${c.connections} connection${c.connections > 1 ? "s" : ""} (nginx closes one after 1000 requests)`,
    })),
];

/** The HTTP/2 vs HTTP/1.1 table, from the gateway setup (its nginx already running). */
async function httpVersions(gateway: Setup): Promise<string[]> {
    const file = (f: string) => readFileSync(join(gateway.dir, f));
    const target: Target = { host: "127.0.0.1", port: gateway.port, servername: "localhost", ca: file("ca.crt"), cert: file("client.crt"), key: file("client.key") };
    const samples: Record<string, Rate[]> = {};
    const notes: Record<string, string> = {};
    for (let round = 0; round < ROUNDS; round++) {
        for (const c of VERSION_CASES) {
            const { rate, count } = await measureLoad(gateway.dir, c.name, c.protocol, () => c.run(target));
            (samples[c.name] ??= []).push(rate);
            notes[c.name] = c.note(count);
        }
    }
    const pick = (name: string, metric: keyof Rate) => median(samples[name].map((r) => r[metric]));
    const fmt = (n: number) => n.toFixed(0).padStart(9);
    const ratio = (a: string, b: string) => `${(pick(a, "perCpu") / pick(b, "perCpu")).toFixed(2)}x (${(pick(a, "wall") / pick(b, "wall")).toFixed(2)}x)`;
    const [h1Back, h2Back, h1One, h2One, h2Many] = VERSION_CASES.map((c) => c.name);
    return [
        "",
        `HTTP/2 next to HTTP/1.1 through the gateway's config (one GET / per request, proxied; Node's tls client, ${process.version}),`,
        `requests per second, median of ${ROUNDS} rounds of ${SECONDS} s:`,
        "                          per worker CPU s   per wall s",
        ...VERSION_CASES.map((c) => `  ${c.name.padEnd(22)}${fmt(pick(c.name, "perCpu"))}${fmt(pick(c.name, "wall"))}      ${notes[c.name]}`),
        "",
        "  ratios, per worker CPU second (per wall second in brackets):",
        `  returning clients, HTTP/2 / HTTP/1.1:               ${ratio(h2Back, h1Back)}`,
        `  one connection, one at a time, HTTP/2 / HTTP/1.1:   ${ratio(h2One, h1One)}`,
        `  one connection, HTTP/2 x${STREAMS} streams / HTTP/1.1:     ${ratio(h2Many, h1One)}`,
    ];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function versions(): string {
    const nginx = spawnSync("nginx", ["-v"], { encoding: "utf8" }).stderr.trim().replace("nginx version: ", "");
    return `${nginx}, ${execFileSync("openssl", ["version"], { encoding: "utf8" }).trim()}`;
}

interface Setup { name: string; port: number; dir: string; note: string }

async function main(): Promise<void> {
    const root = mkdtempSync(join(tmpdir(), "zt-bench-"));
    const at = (name: string, port: number, note: string): Setup => ({ name, port, dir: join(root, name), note });
    const gateway = at("gateway", 18443, "MtlsGateway's config: P-256, TLS 1.3, CRL, allowlist, session caches");
    const seed = at("seed", 18444, "RSA 4096 CA, RSA 2048 server and client keys, no session cache");
    const bare = at("bare", 18445, "the gateway's keys, ssl_verify_client and a shared cache, nothing else");
    const noMtls = at("no-mtls", 18446, "context: bare without client certificates");
    const setups = [gateway, seed, bare, noMtls];
    const started: string[] = [];
    try {
        makePki(gateway.dir, "ec", "ec");
        gatewayConfig(gateway.dir, gateway.port, gateway.port + 100);
        makePki(seed.dir, "rsa4096", "rsa2048");
        plainConfig(seed.dir, seed.port, seed.port + 100, { protocols: "TLSv1.2 TLSv1.3", sessionCache: "off", verifyClient: true });
        for (const [s, verifyClient] of [[bare, true], [noMtls, false]] as const) {
            mkdirSync(s.dir);
            for (const f of ["ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key"]) {
                writeFileSync(join(s.dir, f), readFileSync(join(gateway.dir, f)), { mode: 0o600 });
            }
            plainConfig(s.dir, s.port, s.port + 100, { protocols: "TLSv1.3", sessionCache: "shared", verifyClient });
        }
        for (const s of setups) { startNginx(s.dir); started.push(s.dir); }

        const samples: Record<string, Record<"full" | "resumed", Rate[]>> = {};
        for (let round = 0; round < ROUNDS; round++) {
            for (const s of setups) {
                samples[s.name] ??= { full: [], resumed: [] };
                samples[s.name].full.push(measure(s.dir, s.port, "-new"));
                samples[s.name].resumed.push(measure(s.dir, s.port, "-reuse"));
            }
        }
        const pick = (name: string, kind: "full" | "resumed", metric: keyof Rate) => median(samples[name][kind].map((r) => r[metric]));
        const fmt = (n: number) => n.toFixed(0).padStart(9);
        const ratio = (kind: "full" | "resumed", metric: keyof Rate, other: string) => pick("gateway", kind, metric) / pick(other, kind, metric);
        const lines = [
            `TLS connections per second over loopback (${CLIENTS} openssl s_time at once, each fetching / through a proxied upstream),`,
            `median of ${ROUNDS} rounds of ${SECONDS} s; ${versions()}:`,
            "             per worker CPU second    per wall second",
            "               full   resumed          full   resumed",
            ...setups.map((s) => `  ${s.name.padEnd(8)}${fmt(pick(s.name, "full", "perCpu"))}${fmt(pick(s.name, "resumed", "perCpu"))}   ` +
                `${fmt(pick(s.name, "full", "wall"))}${fmt(pick(s.name, "resumed", "wall"))}   ${s.note}`),
            "",
            "  ratios, per worker CPU second (per wall second in brackets):",
            `  gateway / seed, full handshakes:   ${ratio("full", "perCpu", "seed").toFixed(2)}x (${ratio("full", "wall", "seed").toFixed(2)}x)   goal >= 1.6x`,
            `  gateway / seed, returning clients: ${ratio("resumed", "perCpu", "seed").toFixed(2)}x (${ratio("resumed", "wall", "seed").toFixed(2)}x)   goal >= 3x`,
            `  gateway / bare ceiling, full:      ${(100 * ratio("full", "perCpu", "bare")).toFixed(0)}% (${(100 * ratio("full", "wall", "bare")).toFixed(0)}%)   goal >= 90%`,
            `  gateway / bare ceiling, resumed:   ${(100 * ratio("resumed", "perCpu", "bare")).toFixed(0)}% (${(100 * ratio("resumed", "wall", "bare")).toFixed(0)}%)`,
            `  what a client certificate costs here: bare / no-mtls, full: ${(pick("bare", "full", "perCpu") / pick("no-mtls", "full", "perCpu")).toFixed(2)}x the rate`,
            ...await httpVersions(gateway),
        ];
        process.stdout.write(lines.join("\n") + "\n");
    } finally {
        for (const dir of started) stopNginx(dir);
        setTimeout(() => rmSync(root, { recursive: true, force: true }), 500);
    }
}

main().catch((e) => { process.stderr.write(`${e instanceof Error ? e.stack : e}\n`); process.exitCode = 1; });

