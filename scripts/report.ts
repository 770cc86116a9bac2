// `npm run report`: the audit report of one stack of this project (default: dev), as a
// self-contained HTML page, the same as Markdown, and the reach diagram as SVG, in audit/ (or
// `-- --out DIR`). On lab stacks it probes the access matrix and runs ssh-audit, nmap and testssl
// (about two minutes; `-- --no-scan` leaves the scanners out).
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { mkdirSync, writeFileSync } from "fs";
import { join, resolve } from "path";
import { auditHtml, auditMarkdown, reachDiagram } from "../components/report";
import { collectAuditData } from "./audit/collect";
import { cliReason } from "./cli-error";

function parseArgs(argv: string[]): { stack: string; scan: boolean; out: string } {
    const args = { stack: "dev", scan: true, out: "audit" };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--no-scan") args.scan = false;
        else if ((a === "--stack" || a === "-s") && argv[i + 1]) args.stack = argv[++i];
        else if (a === "--out" && argv[i + 1]) args.out = argv[++i];
        else throw new Error(`unknown argument ${JSON.stringify(a)}: use [--stack NAME] [--no-scan] [--out DIR]`);
    }
    return args;
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    const stack = await LocalWorkspace.selectStack({ stackName: args.stack, workDir: process.cwd() });
    const data = await collectAuditData(stack, { scan: args.scan });
    const dir = resolve(args.out);
    mkdirSync(dir, { recursive: true });
    const base = join(dir, args.stack);
    writeFileSync(`${base}-reach.svg`, reachDiagram(data.members, data.allowed) + "\n");
    writeFileSync(`${base}.html`, auditHtml(data));
    writeFileSync(`${base}.md`, auditMarkdown(data, `${args.stack}-reach.svg`));
    process.stdout.write(`audit report of stack ${args.stack}: ${base}.html, ${base}.md, ${base}-reach.svg\n`);
}

main().catch((e: Error) => {
    process.stderr.write(`zerotrust report: ${cliReason(e)}\n`);
    process.exit(1);
});
