// The stack and directory a pulumi command line names (--stack/-s NAME, --cwd/-C DIR), as
// `--stack NAME` arguments to pass on, and the directory.
export function stackArgs(argv: string[]): { stack: string[]; cwd?: string } {
    const stack: string[] = [];
    let cwd: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if ((a === "--stack" || a === "-s") && argv[i + 1]) stack.push("--stack", argv[++i]);
        else if (a.startsWith("--stack=")) stack.push("--stack", a.slice(8));
        else if ((a === "--cwd" || a === "-C") && argv[i + 1]) cwd = argv[++i];
    }
    return { stack, cwd };
}
