// A user's Pulumi program that installs the library as a tarball: the package packed from this
// checkout or from an earlier commit of it (built in a directory of its own), the program's files,
// and the commands run as a user runs them (the real CLI, its diagnostics kept on failure).
import { execFile } from "child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { randomBytes } from "crypto";
import { tmpdir } from "os";
import { dirname, join } from "path";
import { promisify } from "util";

export const PROJECT_ROOT = join(__dirname, "..", "..", "..");

/**
 * A user's environment for a program under `work`: its own file backend and passphrase; the node
 * running the test first on PATH, none of this project's node_modules/.bin (it holds a JavaScript `nft`).
 */
export function userEnv(work: string): NodeJS.ProcessEnv {
    return {
        ...process.env,
        PATH: [dirname(process.execPath), ...(process.env.PATH ?? "").split(":").filter((p) => !p.endsWith("node_modules/.bin"))].join(":"),
        PULUMI_BACKEND_URL: `file://${join(work, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
    };
}

export async function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
    try {
        return (await promisify(execFile)(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 << 20 })).stdout;
    } catch (e) {
        // pulumi writes its diagnostics to stdout: keep both streams.
        const { stdout, stderr } = e as { stdout?: string; stderr?: string };
        throw new Error(`${cmd} ${args.join(" ")} failed:\n${stdout ?? ""}\n${stderr ?? ""}`);
    }
}

/** `npm pack` of a built project directory into `dest`; the tarball's path. */
export async function pack(projectDir: string, dest: string, env: NodeJS.ProcessEnv): Promise<string> {
    mkdirSync(dest, { recursive: true });
    const [packed] = JSON.parse(await run("npm", ["pack", "--json", "--pack-destination", dest], projectDir, env));
    return join(dest, packed.filename);
}

/**
 * The package as it was at `commit`: its tree from git (no work tree of it is kept), built with
 * this checkout's dependencies, packed into `dest`. Needs the commit in this clone's history.
 */
export async function packAtCommit(commit: string, dest: string, env: NodeJS.ProcessEnv): Promise<string> {
    await run("git", ["cat-file", "-e", `${commit}^{commit}`], PROJECT_ROOT, env).catch(() => {
        throw new Error(`commit ${commit} is not in this clone's history: clone without --depth (the upgrade test builds the release it starts from)`);
    });
    const dir = mkdtempSync(join(tmpdir(), `zerotrust-${commit.slice(0, 8)}-`));
    try {
        await run("bash", ["-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "_", PROJECT_ROOT, commit, dir], PROJECT_ROOT, env);
        symlinkSync(join(PROJECT_ROOT, "node_modules"), join(dir, "node_modules"));
        await run(join(PROJECT_ROOT, "node_modules", ".bin", "tsc"), ["-p", "."], dir, env);
        // A different file name from this checkout's tarball of the same version.
        const tarball = await pack(dir, join(dest, commit.slice(0, 8)), env);
        return tarball;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** The program's files: the library from `tarball`, the SDKs at the pinned versions beside it. */
export function writeProgram(dir: string, name: string, tarball: string, indexTs: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "Pulumi.yaml"), `name: ${name}\nruntime: nodejs\nmain: index.ts\n`);
    writeFileSync(join(dir, "package.json"), JSON.stringify({
        name,
        private: true,
        dependencies: {
            "@zerotrust/components": `file:${tarball}`,
            "@pulumi/pulumi": "3.259.0",
            "@pulumi/command": "1.2.1",
            "@pulumi/tls": "5.5.1",
            "@pulumi/random": "4.21.1",
        },
        // The language host compiles index.ts with the program's TypeScript; the SDK's vendored 3.8
        // rejects this tsconfig (target es2022). Its vendored ts-node 7 works with TypeScript 5.
        devDependencies: { "typescript": "5.9.3", "@types/node": "22.20.5" },
    }, null, 2));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
        compilerOptions: { strict: true, target: "es2022", module: "commonjs", moduleResolution: "node", outDir: "bin" },
        files: ["index.ts"],
    }, null, 2));
    writeFileSync(join(dir, "index.ts"), indexTs);
}

export async function npmInstall(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], dir, env);
}
