// Shell scripts ship as source files beside the TypeScript; compiled code finds them from build/.
import * as pulumi from "@pulumi/pulumi";
import { existsSync } from "fs";
import { isAbsolute, join, relative, sep } from "path";

/** Absolute path of a file under components/ (e.g. "remote/host/lib.sh"). */
export function assetPath(relative: string): string {
    for (const base of [__dirname, join(__dirname, "..", "..", "components")]) {
        const p = join(base, relative);
        if (existsSync(p)) return p;
    }
    throw new Error(`zerotrust: ${relative} not found beside ${__dirname}`);
}

/**
 * How a command names a file of this package: relative to the Pulumi project directory (where
 * Pulumi.yaml is), which is where the engine starts the command provider, so local.Command runs
 * there; the program's own cwd is not used, as an inline Automation API program keeps its host's. The absolute
 * path differs between checkouts (two operators, a CI clone), and a command's text is what the
 * engine stores and diffs, so an absolute path there makes every command "changed" from another copy.
 * Relative works both for this repository (build/components/...) and for a user's program that
 * imports the package (node_modules/@zerotrust/components/build/components/...); resolving by package
 * name at run time would not, since this repository does not install itself under node_modules.
 */
export function commandPath(absolute: string, cwd: string = pulumi.runtime.getRootDirectory() || process.cwd()): string {
    const rel = relative(cwd, absolute).split(sep).join("/");
    // Outside the project (an inline Automation API program, whose root is not where the provider
    // runs, or a package linked from elsewhere): no relative form is stable, keep the absolute path.
    if (rel === "" || isAbsolute(rel) || rel === ".." || rel.startsWith("../")) return absolute;
    return `./${rel}`;
}
