// Prints PULUMI_BACKEND_URL (postgres://) as libpq's environment, as shell `export` lines, for
// scripts/run-lock.sh's psql: the password goes through the environment, not a command line.
import { pgConnection } from "../components/verify/pg-url";

const quote = (v: string) => `'${v.replace(/'/g, "'\\''")}'`;
const { env } = pgConnection(process.env.PULUMI_BACKEND_URL ?? "");
for (const [k, v] of Object.entries(env)) process.stdout.write(`export ${k}=${quote(v)}\n`);
