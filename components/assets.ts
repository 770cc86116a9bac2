// Shell scripts ship as source files beside the TypeScript; compiled code finds them from build/.
import { existsSync } from "fs";
import { join } from "path";

/** Absolute path of a file under components/ (e.g. "remote/host/lib.sh"). */
export function assetPath(relative: string): string {
    for (const base of [__dirname, join(__dirname, "..", "..", "components")]) {
        const p = join(base, relative);
        if (existsSync(p)) return p;
    }
    throw new Error(`zerotrust: ${relative} not found beside ${__dirname}`);
}
