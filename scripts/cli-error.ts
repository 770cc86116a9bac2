// What a command prints when it fails: the Pulumi CLI's own "error: ..." line when the Automation
// API wraps one (its message also holds the command line, exit codes and empty streams).
export function cliReason(e: Error): string {
    return /^error: (.*)$/m.exec(e.message)?.[1] ?? e.message;
}
