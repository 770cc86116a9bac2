// I/O: the rendered firewall files loaded by this machine's real nft into a scratch network
// namespace (`unshare --net`: private to the one process, gone when it exits, nothing to clean up)
// and listed back with `nft -j list table inet zerotrust`, one file after the other.
import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

/** The system's nft by absolute path (npm puts a JavaScript package called `nft` first on PATH). */
export const SYSTEM_NFT = "/usr/sbin/nft";

/** Why the scratch namespace cannot be had here, or undefined when it can. */
export function scratchUnavailable(nft = SYSTEM_NFT): string | undefined {
    if (!existsSync(nft)) return `${nft} is not installed (apt-get install nftables)`;
    const r = spawnSync("unshare", ["--net", nft, "list", "ruleset"], { encoding: "utf8", timeout: 30_000 });
    if (r.error) return `unshare cannot run: ${r.error.message}`;
    if (r.status !== 0) return `a scratch network namespace cannot be made here (unshare --net needs root or CAP_SYS_ADMIN): ${(r.stderr || "").trim().split("\n").pop()}`;
    return undefined;
}

// Each file is loaded and listed, or its error printed, between markers the reader splits on.
const SCRIPT = `set -u
for f in "$ZT_DIR"/*.nft; do
  name=$(basename "$f" .nft)
  echo "=== $name"
  if ! out=$("$ZT_NFT" -f "$f" 2>&1); then echo "!!! $out"; continue; fi
  "$ZT_NFT" -j list table inet zerotrust 2>&1 || echo "!!! listing failed"
done`;

/** Each node's `nft -j list table inet zerotrust` after loading its file; throws naming a node whose file nft refuses. */
export function listInScratchNamespace(files: Record<string, string>, nft = SYSTEM_NFT): Record<string, string> {
    const dir = mkdtempSync(join(tmpdir(), "zt-proof-"));
    try {
        for (const [node, text] of Object.entries(files)) writeFileSync(join(dir, `${node}.nft`), text, { mode: 0o600 });
        const r = spawnSync("unshare", ["--net", "bash", "-c", SCRIPT], {
            encoding: "utf8", timeout: 600_000, maxBuffer: 1 << 30, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ZT_DIR: dir, ZT_NFT: nft },
        });
        if (r.error) throw r.error;
        if (r.status !== 0) throw new Error(`the scratch namespace failed (exit ${r.status}): ${r.stderr.trim()}`);
        const out: Record<string, string> = {};
        for (const block of r.stdout.split(/^=== /m).slice(1)) {
            const nl = block.indexOf("\n");
            const node = block.slice(0, nl);
            const body = block.slice(nl + 1);
            if (body.startsWith("!!! ")) throw new Error(`nft refused ${node}'s rendered firewall: ${body.slice(4).trim()}`);
            out[node] = body;
        }
        for (const node of Object.keys(files)) if (!(node in out)) throw new Error(`no listing came back for ${node}`);
        return out;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
