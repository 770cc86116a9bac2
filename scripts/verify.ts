// `npm run verify`: the drift check of one stack of this project (default: dev), read only, printed
// per host and concern; `-- --repair` re-applies exactly the drifted concerns through the apply
// protocol; `-- --json FILE` also writes the result. Exit status: 0 in sync, 1 drift (left after a
// repair), 2 a host could not be checked.
import { writeFileSync } from "fs";
import { cliReason } from "./cli-error";
import { exitCodeOf, formatVerifyReport, verifyStack } from "../components/verify";

interface Args {
    stack: string;
    repair: boolean;
    json?: string;
}

function parseArgs(argv: string[]): Args {
    const args: Args = { stack: "dev", repair: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--repair") args.repair = true;
        else if ((a === "--stack" || a === "-s") && argv[i + 1]) args.stack = argv[++i];
        else if (a === "--json" && argv[i + 1]) args.json = argv[++i];
        else throw new Error(`unknown argument ${JSON.stringify(a)}: use [--repair] [--stack NAME] [--json FILE]`);
    }
    return args;
}

async function main(): Promise<number> {
    const args = parseArgs(process.argv.slice(2));
    const report = await verifyStack({ stackName: args.stack, workDir: process.cwd() }, { repair: args.repair });
    process.stdout.write(formatVerifyReport(report));
    if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2) + "\n", { mode: 0o600 });
    return exitCodeOf(report);
}

main().then((code) => process.exit(code), (e: Error) => {
    process.stderr.write(`zerotrust verify: ${cliReason(e)}\n`);
    process.exit(2);
});
