// A `postgres://` backend URL as libpq's environment (PGHOST, PGPASSWORD, ...), so that psql
// connects where Pulumi does without the password on a command line, and the table Pulumi uses
// (its own `table` parameter, which libpq does not know).

export interface PgConnection {
    env: Record<string, string>;
    table: string;
}

const PARAMS: Record<string, string> = {
    host: "PGHOST", hostaddr: "PGHOSTADDR", port: "PGPORT", sslmode: "PGSSLMODE", sslrootcert: "PGSSLROOTCERT",
    sslcert: "PGSSLCERT", sslkey: "PGSSLKEY", sslcrl: "PGSSLCRL", connect_timeout: "PGCONNECT_TIMEOUT",
    passfile: "PGPASSFILE", application_name: "PGAPPNAME", options: "PGOPTIONS", target_session_attrs: "PGTARGETSESSIONATTRS",
};

export function pgConnection(backendUrl: string): PgConnection {
    const u = new URL(backendUrl);
    if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") throw new Error(`PULUMI_BACKEND_URL: ${u.protocol}// is not a PostgreSQL URL`);
    const env: Record<string, string> = {};
    if (u.hostname) env.PGHOST = decodeURIComponent(u.hostname);
    if (u.port) env.PGPORT = u.port;
    if (u.username) env.PGUSER = decodeURIComponent(u.username);
    if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
    const db = decodeURIComponent(u.pathname.replace(/^\//, ""));
    if (db) env.PGDATABASE = db;
    let table = "pulumi_state";
    for (const [k, v] of u.searchParams) {
        if (k === "table") table = v;
        else if (PARAMS[k]) env[PARAMS[k]] = v;
    }
    // The name goes into SQL text: only what Pulumi itself would accept as a plain identifier.
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(table)) throw new Error(`PULUMI_BACKEND_URL: table=${table} is not a plain table name`);
    return { env, table };
}
