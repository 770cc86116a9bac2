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
 * How a command names a file of this package: relative to the program's working directory, which
 * is where the engine starts the command provider and so where local.Command runs (the directory of
 * the project's `main`; measured: a `pwd` command prints it). The absolute path differs between
 * checkouts (two operators, a CI clone), and a command's text is what the engine stores and diffs,
 * so an absolute path there makes every command "changed" from another copy. Relative works both
 * for this repository (main in build/stacks: ../../components/...) and for a user's program that
 * imports the package (./node_modules/@zerotrust/components/...). A file outside the project (an
 * inline Automation API program, whose project is a temporary directory, or a package linked from
 * elsewhere) keeps its absolute path: no relative form of it is stable.
 */
export function commandPath(absolute: string, root: string = pulumi.runtime.getRootDirectory() || process.cwd(), cwd: string = process.cwd()): string {
    const inProject = relative(root, absolute);
    if (inProject === "" || isAbsolute(inProject) || inProject === ".." || inProject.startsWith(`..${sep}`)) return absolute;
    const rel = relative(cwd, absolute).split(sep).join("/");
    return rel.startsWith("../") ? rel : `./${rel}`;
}
