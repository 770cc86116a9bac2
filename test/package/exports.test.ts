// The package's entry points as a user gets them: the root loads only the components (not verify,
// the report, the proof or the lab), and each subpath resolves through package.json's `exports`
// map, at run time and for TypeScript, from a packed and installed tarball. Nothing is deployed.
import test from "ava";
import { execFile } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { promisify } from "util";

const ROOT = join(__dirname, "..", "..", "..");
const work = mkdtempSync(join(tmpdir(), "zerotrust-exports-"));
const userDir = join(work, "user");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const SUBPATHS: Record<string, string> = {
    "@zerotrust/components": "build/components/index.js",
    "@zerotrust/components/lab": "build/components/lab.js",
    "@zerotrust/components/verify": "build/components/verify/index.js",
    "@zerotrust/components/report": "build/components/report/index.js",
};

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
    try {
        return (await promisify(execFile)(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 })).stdout;
    } catch (e) {
        const { stdout, stderr } = e as { stdout?: string; stderr?: string };
        throw new Error(`${cmd} ${args.join(" ")} failed:\n${stdout ?? ""}\n${stderr ?? ""}`);
    }
}

// The library's own modules that requiring `entry` in a fresh node process loads.
async function ownModulesOf(entry: string, cwd: string): Promise<string[]> {
    const script = `require(${JSON.stringify(entry)});
const own = Object.keys(require.cache).filter((p) => p.includes("/build/components/"));
process.stdout.write(JSON.stringify(own.map((p) => p.slice(p.indexOf("build/components/")))));`;
    return JSON.parse(await run(process.execPath, ["-e", script], cwd));
}

test.after.always(() => rmSync(work, { recursive: true, force: true }));

test.serial("the root loads the components only: no verify, report, proof or lab module, no Automation API of its own", async (t) => {
    const own = await ownModulesOf(join(ROOT, "build", "components", "index.js"), ROOT);
    t.true(own.includes("build/components/zero-trust-node.js"));
    t.deepEqual(own.filter((m) => /^build\/components\/(verify|report|proof)\/|\/lab(-ipv6)?\.js$/.test(m)), []);
    // @pulumi/pulumi's own index requires its automation folder, so require.cache cannot tell; what the
    // root must not do is use it (LocalWorkspace and the CLI it runs) from a module of its own.
    const automationUsers = own.filter((m) => /@pulumi\/pulumi\/automation/.test(readFileSync(join(ROOT, m), "utf8")));
    t.deepEqual(automationUsers, []);
});

test.serial("each subpath resolves through the exports map from an installed tarball, with its types", async (t) => {
    const packDir = join(work, "pack");
    mkdirSync(packDir);
    mkdirSync(userDir);
    const [packed] = JSON.parse(await run("npm", ["pack", "--json", "--pack-destination", packDir], ROOT));
    const peers = Object.fromEntries(Object.keys(pkg.peerDependencies ?? {}).map((n) => [n, pkg.devDependencies[n]]));
    t.deepEqual(Object.keys(peers).sort(), ["@pulumi/command", "@pulumi/pulumi", "@pulumi/random", "@pulumi/tls"]);
    // Each peer range starts at the version the tests pin (and run at), up to the next major; npm
    // refuses the install below (ERESOLVE) if a pin falls outside its range.
    for (const [name, pin] of Object.entries(peers)) t.is(pkg.peerDependencies[name], `^${pin}`, name);
    t.false(Object.keys(pkg.dependencies ?? {}).some((n) => n.startsWith("@pulumi/")), "no SDK is a plain dependency");
    writeFileSync(join(userDir, "package.json"), JSON.stringify({
        name: "zerotrust-exports", private: true,
        dependencies: { "@zerotrust/components": `file:${join(packDir, packed.filename)}`, ...peers },
    }, null, 2));
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], userDir);

    for (const [spec, file] of Object.entries(SUBPATHS)) {
        const resolved = (await run(process.execPath, ["-p", `require.resolve(${JSON.stringify(spec)})`], userDir)).trim();
        t.is(resolved, join(userDir, "node_modules", "@zerotrust", "components", file), spec);
    }
    // A deep import of an internal module is refused: the exports map is the API.
    await t.throwsAsync(run(process.execPath, ["-e", `require("@zerotrust/components/build/components/policy.js")`], userDir),
        { message: /ERR_PACKAGE_PATH_NOT_EXPORTED/ });
    // The lab subpath loads the lab and what it builds on, not verify or the report.
    const lab = await ownModulesOf("@zerotrust/components/lab", userDir);
    t.true(lab.includes("build/components/hosts/lab.js"));
    t.deepEqual(lab.filter((m) => /^build\/components\/(verify|report|proof)\//.test(m)), []);

    // Types: the names a program imports from each entry, under node16 (exports map) and the older
    // `node` resolution (typesVersions), with this project's TypeScript.
    writeFileSync(join(userDir, "index.ts"), [
        `import { InternalCA, MeshNetwork, ZeroTrustNode, MtlsGateway, KvmHost, existingHost, ValidationError, PolicyRule } from "@zerotrust/components";`,
        `import { LabHost, LabNetwork, LabOperator } from "@zerotrust/components/lab";`,
        `import { verifyStack, formatVerifyReport } from "@zerotrust/components/verify";`,
        `import { auditHtml, auditMarkdown } from "@zerotrust/components/report";`,
        `export const used = [InternalCA, MeshNetwork, ZeroTrustNode, MtlsGateway, KvmHost, existingHost, ValidationError, LabHost, LabNetwork, LabOperator, verifyStack, formatVerifyReport, auditHtml, auditMarkdown];`,
        `export const rule: PolicyRule = { from: "a", to: "b", ports: ["tcp/1"] };`,
        // Internals are not API.
        `// @ts-expect-error parsePort is internal`,
        `import { parsePort } from "@zerotrust/components";`,
        `export const internal = parsePort;`,
        "",
    ].join("\n"));
    const tsc = join(ROOT, "node_modules", ".bin", "tsc");
    for (const [module, moduleResolution] of [["node16", "node16"], ["commonjs", "node"]]) {
        writeFileSync(join(userDir, "tsconfig.json"), JSON.stringify({
            compilerOptions: { strict: true, target: "es2022", module, moduleResolution, noEmit: true, skipLibCheck: true,
                typeRoots: [join(ROOT, "node_modules", "@types")], types: ["node"] },
            files: ["index.ts"],
        }));
        await t.notThrowsAsync(run(tsc, ["-p", "."], userDir), `moduleResolution ${moduleResolution}`);
    }
});
