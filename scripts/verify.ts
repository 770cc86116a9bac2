// `npm run verify`: the drift check of one stack of this project (default: dev), read only, printed
// per host and concern; `-- --repair` re-applies exactly the drifted concerns through the apply
// protocol; `-- --json FILE` also writes the result; then the proof of what the live hosts let
// through. Exit status: 0 in sync and equal to the policy, 1 drift (left after a repair) or a
// difference from the policy, 2 a host could not be checked.
import { writeFileSync } from "fs";
import { cliReason } from "./cli-error";
import { exitCodeOf, formatVerifyReport, verifyStack } from "../components/verify";
import { formatProof, proofHolds } from "../components/proof";
import { proveStack } from "../components/proof/stack";

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
    const where = { stackName: args.stack, workDir: process.cwd() };
    const report = await verifyStack(where, { repair: args.repair });
    process.stdout.write(formatVerifyReport(report));
    // The proof of what the live hosts let through, after any repair: every port of every pair.
    const proof = await proveStack(where);
    process.stdout.write(`zerotrust proof of the live hosts (nft -j, wg, ss over the pinned SSH path): ${formatProof(proof).join("\n")}\n`);
    if (args.json) writeFileSync(args.json, JSON.stringify({ ...report, proof }, null, 2) + "\n", { mode: 0o600 });
    const drift = exitCodeOf(report);
    return drift === 0 && !proofHolds(proof) ? 1 : drift;
}

main().then((code) => process.exit(code), (e: Error) => {
    process.stderr.write(`zerotrust verify: ${cliReason(e)}\n`);
    process.exit(2);
});
