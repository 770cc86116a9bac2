// What the KVM test sets up around the engine, each piece ended by the pid or name it recorded:
// libvirtd (Debian's, started here when no service manager runs it), an ssh-agent holding the key
// the hypervisor trusts (KvmHost reaches a hypervisor with the deployer's own agent), and base
// images copied where libvirt's qemu user and a hypervisor's own /root can reach them.
import { ChildProcess, execFile, spawn, spawnSync } from "child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { promisify } from "util";

const execFileAsync = promisify(execFile);

/** Runs a program without blocking the event loop (VMs are probed in parallel); stdout, or throws with stderr. */
export async function runAsync(cmd: string, args: string[], timeoutMs = 60_000, env?: Record<string, string>): Promise<string> {
    const r = await execFileAsync(cmd, args, { encoding: "utf8", timeout: timeoutMs, maxBuffer: 16 << 20, env: env ? { ...process.env, ...env } : process.env });
    return r.stdout;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid's command name, if it runs and is not a zombie (a recorded pid may have been reused). */
function commandOf(pid: number): string | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const m = /^\d+ \((.*)\) (\S)/.exec(stat);
        return m && m[2] !== "Z" ? m[1] : undefined;
    } catch { return undefined; }
}

async function endPid(pid: number, name: string): Promise<void> {
    if (commandOf(pid) !== name) return;
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 150 && commandOf(pid) === name; i++) await sleep(100);
    if (commandOf(pid) === name) process.kill(pid, "SIGKILL");
}

const libvirtAnswers = () => spawnSync("virsh", ["-c", "qemu:///system", "uri"], { stdio: "ignore", timeout: 10_000 }).status === 0;

/** Pids of the daemons this test started, kept on disk so that a killed run's are ended by the next. */
const DAEMON_PIDS = "/run/zerotrust-kvm-test-daemons";

/** Ends the libvirtd and virtlogd a killed run of this test left, by their recorded pids. */
export async function stopLeftoverDaemons(): Promise<void> {
    if (!existsSync(DAEMON_PIDS)) return;
    for (const line of readFileSync(DAEMON_PIDS, "utf8").trim().split("\n")) {
        const [pid, name] = line.split(" ");
        if (pid && name) await endPid(Number(pid), name);
    }
    rmSync(DAEMON_PIDS, { force: true });
}

export interface Libvirt {
    /** True when this test started libvirtd (and so stops it); false when something else runs it. */
    startedHere: boolean;
    stop(): Promise<void>;
}

/**
 * libvirtd for the test's libvirt VM. Where a service manager (or anyone) already runs it, that
 * one is used and left alone. Otherwise virtlogd (libvirt's qemu driver logs through it) and
 * libvirtd are started here in the foreground, in sessions of their own, and stopped by pid.
 */
export async function startLibvirtd(logDir: string): Promise<Libvirt> {
    if (libvirtAnswers()) return { startedHere: false, stop: async () => undefined };
    const daemons: { child: ChildProcess; name: string }[] = [];
    const start = (name: string) => {
        const log = openSync(join(logDir, `${name}.log`), "a");
        const child = spawn(`/usr/sbin/${name}`, [], { detached: true, stdio: ["ignore", log, log] });
        closeSync(log);
        if (child.pid === undefined) throw new Error(`${name} did not start`);
        daemons.push({ child, name });
        writeFileSync(DAEMON_PIDS, daemons.map((d) => `${d.child.pid} ${d.name}`).join("\n") + "\n");
    };
    const stop = async () => {
        for (const d of [...daemons].reverse()) await endPid(d.child.pid!, d.name);
        rmSync(DAEMON_PIDS, { force: true });
    };
    start("virtlogd");
    start("libvirtd");
    for (let i = 0; i < 120; i++) {
        if (libvirtAnswers()) return { startedHere: true, stop };
        if (daemons.some((d) => d.child.exitCode !== null)) break;
        await sleep(500);
    }
    await stop();
    throw new Error(`libvirtd did not answer on qemu:///system: ${readFileSync(join(logDir, "libvirtd.log"), "utf8").slice(-2000)}`);
}

export interface Agent {
    socket: string;
    publicKey: string;
    stop(): Promise<void>;
}

/** An ssh-agent of the test's own holding a new key: the one the remote hypervisor authorizes. */
export async function startSshAgent(): Promise<Agent> {
    const dir = mkdtempSync(join(tmpdir(), "zt-kvm-agent-"));
    const socket = join(dir, "agent.sock");
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "zt-kvm-test-hypervisor", "-f", join(dir, "key")]);
    const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    const stop = async () => {
        if (agent.exitCode === null && agent.pid !== undefined) await endPid(agent.pid, "ssh-agent");
        rmSync(dir, { recursive: true, force: true });
    };
    for (let i = 0; i < 50 && !existsSync(socket); i++) await sleep(100);
    const added = spawnSync("ssh-add", ["-q", join(dir, "key")], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: "utf8" });
    if (added.status !== 0) {
        await stop();
        throw new Error(`ssh-add: ${added.stderr}`);
    }
    rmSync(join(dir, "key"));   // the agent holds it now
    return { socket, publicKey: readFileSync(join(dir, "key.pub"), "utf8").trim(), stop };
}

/**
 * A copy of a base image (and its kernel, initrd, command line) in `dir`, which must be
 * world-traversable: libvirt's qemu runs as its own user and takes ownership of the files it is
 * given, and a lab hypervisor has a /root of its own, so the cache under this machine's /root
 * serves neither. Sparse copies: about a second each.
 */
export function publishImage(image: string, dir: string): string {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const target = join(dir, "rootfs.img");
    for (const suffix of ["", ".vmlinuz", ".initrd", ".cmdline"]) {
        const r = spawnSync("cp", ["--sparse=always", `${image}${suffix}`, `${target}${suffix}`], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`copying ${image}${suffix}: ${r.stderr}`);
    }
    return target;
}
