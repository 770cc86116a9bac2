// A real OpenSSH key pair (made by ssh-keygen) for tests and benchmarks that need one; never used to log in anywhere real.
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

export function sshKeyPair(): { privateKey: string; publicKey: string } {
    const dir = mkdtempSync(join(tmpdir(), "zt-key-"));
    try {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(dir, "key")]);
        return { privateKey: readFileSync(join(dir, "key"), "utf8"), publicKey: readFileSync(join(dir, "key.pub"), "utf8").trim() };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
