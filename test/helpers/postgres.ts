// Debian's PostgreSQL server for a test: its own data directory in a temporary directory (initdb),
// its own loopback port, its unix socket in that directory, run as the `postgres` user when the
// test runs as root (the server refuses root), and stopped by its pid afterwards.
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

export interface PostgresServer {
    /** The backend URL for Pulumi (password inside: keep it in the environment, never argv). */
    url: string;
    port: number;
    password: string;
    /** Runs SQL as the server's superuser over its unix socket; returns psql's unaligned output. */
    sql(query: string): string;
    stop(): Promise<void>;
}

function binDir(): string {
    const root = "/usr/lib/postgresql";
    const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "postgres"))) : [];
    if (versions.length === 0) throw new Error("no PostgreSQL server in /usr/lib/postgresql: run scripts/setup.sh (it installs Debian's postgresql)");
    return join(root, versions.sort((a, b) => Number(b) - Number(a))[0], "bin");
}

const uidOf = (user: string) => Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
const gidOf = (user: string) => Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());

export async function startPostgres(port: number): Promise<PostgresServer> {
    const bin = binDir();
    const dir = mkdtempSync(join(tmpdir(), `zt-pg-${port}-`));
    const asRoot = process.getuid?.() === 0;
    // As root, the server's files and process are the postgres user's (Debian's package makes it).
    const as = (cmd: string[]) => (asRoot ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", ...cmd] : cmd);
    if (asRoot) {
        chmodSync(dir, 0o700);
        chownSync(dir, uidOf("postgres"), gidOf("postgres"));
    }
    const password = randomBytes(18).toString("base64url");
    const pwfile = join(dir, "pw");
    writeFileSync(pwfile, password, { mode: 0o600 });
    if (asRoot) chownSync(pwfile, uidOf("postgres"), gidOf("postgres"));
    const data = join(dir, "data");
    const initdb = as([join(bin, "initdb"), "-D", data, "-U", "zt", `--pwfile=${pwfile}`, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8"]);
    const init = spawnSync(initdb[0], initdb.slice(1), { encoding: "utf8" });
    rmSync(pwfile);
    if (init.status !== 0) { rmSync(dir, { recursive: true, force: true }); throw new Error(`initdb failed: ${init.stderr}`); }
    const argv = as([join(bin, "postgres"), "-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]);
    const server: ChildProcess = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    server.stderr!.on("data", (d) => (log += d));
    const exited = new Promise<void>((r) => server.once("exit", () => r()));
    const stop = async () => {
        // SIGINT: the fast shutdown (ends the sessions), by the postmaster's pid (setpriv execs it).
        if (server.exitCode === null && server.signalCode === null) server.kill("SIGINT");
        await exited;
        rmSync(dir, { recursive: true, force: true });
    };
    const sql = (query: string) => {
        const r = spawnSync("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", dir, "-p", String(port), "-U", "zt", "-d", "postgres"], { input: query, encoding: "utf8" });
        if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
        return r.stdout;
    };
    try {
        for (let i = 0; ; i++) {
            if (spawnSync("pg_isready", ["-q", "-h", dir, "-p", String(port)]).status === 0) break;
            if (server.exitCode !== null || i > 300) throw new Error(`PostgreSQL on port ${port} did not start:\n${log}`);
            await new Promise((r) => setTimeout(r, 100));
        }
        sql("CREATE DATABASE zerotrust;\n");
    } catch (e) {
        await stop();
        throw e;
    }
    return { url: `postgres://zt:${password}@127.0.0.1:${port}/zerotrust?sslmode=disable`, port, password, sql, stop };
}
