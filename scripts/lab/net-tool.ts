// A tiny network tool run inside lab namespaces (`ip netns exec NS node net-tool.js ...`):
//   listen PORT...                 accept TCP connections on every port (and close them)
//   probe TIMEOUT_MS HOST:PORT...  try each TCP connection at once; prints JSON {target: "open"|"refused"|"filtered"}
import { Socket, createServer } from "net";

function listen(ports: number[]): void {
    for (const port of ports) {
        createServer((s) => s.end()).listen(port, "0.0.0.0");
    }
    process.stdout.write("ready\n");
}

function probeOne(target: string, timeoutMs: number): Promise<string> {
    const [host, port] = target.split(":");
    return new Promise((resolve) => {
        const socket = new Socket();
        const done = (result: string) => { socket.destroy(); resolve(result); };
        socket.setTimeout(timeoutMs, () => done("filtered"));
        socket.once("connect", () => done("open"));
        socket.once("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED" ? "refused" : "filtered"));
        socket.connect(Number(port), host);
    });
}

async function probe(timeoutMs: number, targets: string[]): Promise<void> {
    const results = await Promise.all(targets.map((t) => probeOne(t, timeoutMs)));
    process.stdout.write(JSON.stringify(Object.fromEntries(targets.map((t, i) => [t, results[i]]))) + "\n");
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === "listen") listen(rest.map(Number));
else if (mode === "probe") void probe(Number(rest[0]), rest.slice(1));
else { process.stderr.write("usage: net-tool listen PORT... | probe TIMEOUT_MS HOST:PORT...\n"); process.exit(2); }
