// A Debian release's own file tree (components/hosts/lab/release-tree.sh) and scripts run inside it
// with that release's programs: chrooted into a writable overlay of the tree, in private mount, pid
// and (optionally) network namespaces. The cached tree is only ever the overlay's lower layer, and
// every mount goes with the namespaces when the script ends; the scratch directory goes in t.teardown.
import { SpawnSyncReturns, execFileSync, spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { assetPath } from "../../components/assets";
import { Teardown } from "./netns";

/** The tree's path: built on first use (debootstrap, a few minutes), then cached by the script. */
export function releaseTree(release: string): string {
    const out = execFileSync("bash", [assetPath("hosts/lab/release-tree.sh"), release],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20 * 60_000 });
    return out.trim().split("\n").pop()!;
}

export interface TreeRunOptions {
    /** Files (name -> content) for the script, as /scratch/<name> in the tree (also its working directory). */
    files?: Record<string, string | Buffer>;
    /** Its own network namespace, lo up (for nft -c, or a daemon that listens). */
    net?: boolean;
    /** Bash run with the machine's programs in the namespaces just before the chroot; $root is the tree's root. */
    setup?: string;
}

export interface TreeRun {
    status: number | null;
    stdout: string;
    stderr: string;
}

// Runs in the new namespaces with the machine's programs; the last line enters the tree.
const ENTER = `set -e
s="$ZT_SCRATCH" root="$ZT_SCRATCH/root"
mount -t tmpfs -o mode=755 zt-rw "$s/rw"
mkdir "$s/rw/upper" "$s/rw/work"
mount -t overlay zt-tree -o "lowerdir=$ZT_TREE,upperdir=$s/rw/upper,workdir=$s/rw/work" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=755 zt-run "$root/run"
mount -t tmpfs -o mode=1777 zt-tmp "$root/tmp"
mkdir -p "$root/scratch" && mount --bind "$s/files" "$root/scratch"
[ -z "$ZT_NET" ] || ip link set lo up
eval "$ZT_SETUP"
cd "$root/scratch"
exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C /bin/bash -c "cd /scratch; $ZT_SCRIPT"`;

/** Runs `script` (bash) inside `tree`; the pid namespace ends whatever it started when it returns (or is killed). */
export function runInTree(t: Teardown, tree: string, script: string, opts: TreeRunOptions = {}): TreeRun {
    const scratch = mkdtempSync(join(tmpdir(), "zt-tree-"));
    t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
    for (const d of ["root", "rw", "files"]) mkdirSync(join(scratch, d));
    for (const [name, content] of Object.entries(opts.files ?? {})) writeFileSync(join(scratch, "files", name), content, { mode: 0o600 });
    const r: SpawnSyncReturns<string> = spawnSync("unshare",
        ["--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", ...(opts.net ? ["--net"] : []), "bash", "-c", ENTER], {
            encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"], // a socket as stdin makes bash read ~/.bashrc
            env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ZT_SCRATCH: scratch, ZT_TREE: tree, ZT_SCRIPT: script, ZT_SETUP: opts.setup ?? "", ZT_NET: opts.net ? "1" : "" },
        });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** As runInTree, but a failing script throws with its output; returns stdout. */
export function inTree(t: Teardown, tree: string, script: string, opts: TreeRunOptions = {}): string {
    const r = runInTree(t, tree, script, opts);
    if (r.status !== 0) throw new Error(`in ${tree}: exit ${r.status}\n${r.stderr}${r.stdout}`);
    return r.stdout;
}

/** The upstream part of a Debian version: no epoch, no Debian revision ("1:9.2p1-2+deb12u3" -> "9.2p1"). */
export function upstreamVersion(debian: string): string {
    return debian.replace(/^\d+:/, "").replace(/-[^-]*$/, "");
}
