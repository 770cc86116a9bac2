// The deployer's SSH over IPv6 with the real OpenSSH client and server: a private sshd in a
// scratch namespace on a ULA link from this machine, reached by runOverSsh (the route guard asks
// `ip -6 route get` first), the host key pinned in the form OpenSSH looks up.
import test from "ava";
import { ChildProcess, spawn, spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { knownHostsLine, runOverSsh, sshArguments } from "../../components/remote/ssh";
import { checkHost } from "../../components/validate";
import { sshKeyPair } from "../../scripts/ssh-key-pair";
import { IP, inNamespace, linkToNamespace, run, scratchNamespace, scratchUlaPrefix } from "../helpers/netns";

const client = sshKeyPair();

async function ipv6Sshd(t: any) {
    const ns = scratchNamespace(t);
    const link = linkToNamespace(t, ns, scratchUlaPrefix());
    const dir = mkdtempSync(join(tmpdir(), "zt-ssh6-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", join(dir, "host_key")]);
    writeFileSync(join(dir, "authorized_keys"), `${client.publicKey}\n`);
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
    const sshd: ChildProcess = spawn(IP, ["netns", "exec", ns, "/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null",
        "-o", `HostKey=${join(dir, "host_key")}`, "-o", "PidFile=none", "-o", "ListenAddress=[::]:22", "-o", "ListenAddress=[::]:2222",
        "-o", `AuthorizedKeysFile=${join(dir, "authorized_keys")}`, "-o", "StrictModes=no", "-o", "PermitRootLogin=prohibit-password"], { stdio: "ignore" });
    t.teardown(() => { if (sshd.exitCode === null) sshd.kill(); });
    inNamespace(ns, "bash", ["-c", "for i in $(seq 100); do ss -ltnH 'sport = :2222' | grep -q . && ss -ltnH 'sport = :22' | grep -q . && exit 0; sleep 0.05; done; exit 1"]);
    return { link, hostKey: readFileSync(join(dir, "host_key.pub"), "utf8").trim() };
}

test("runOverSsh reaches an IPv6 host on port 22 and on another port, through the interface it must use", async (t) => {
    const { link, hostKey } = await ipv6Sshd(t);
    const host = checkHost("connection.host", link.thereAddress.toUpperCase().replace("::", ":0::")); // canonical again
    t.is(host, link.thereAddress);
    for (const port of [22, 2222]) {
        const r = await runOverSsh({ host, port, user: "root", privateKey: client.privateKey, hostKey, onlyVia: [link.here] }, "echo \"$SSH_CONNECTION\"\n");
        t.is(r.code, 0, r.stderr);
        // "client-address client-port server-address server-port": both ends IPv6, on the ULA link.
        const [from, , to, toPort] = r.stdout.trim().split(" ");
        t.deepEqual([from, to, toPort], [link.hereAddress, link.thereAddress, String(port)], r.stdout);
    }
    t.is(knownHostsLine({ host, port: 22, hostKey }), `${host} ${hostKey}\n`);
    t.is(knownHostsLine({ host, port: 2222, hostKey }), `[${host}]:2222 ${hostKey}\n`);
});

test("OpenSSH looks an IPv6 host on port 22 up bare, and on another port as [addr]:port (then bare): the other forms are refused", async (t) => {
    {
        const { link, hostKey } = await ipv6Sshd(t);
        const dir = mkdtempSync(join(tmpdir(), "zt-ssh6-kh-"));
        t.teardown(() => rmSync(dir, { recursive: true, force: true }));
        writeFileSync(join(dir, "key"), client.privateKey, { mode: 0o600 });
        const attempt = (port: number, knownAs: string, pinned = hostKey) => {
            writeFileSync(join(dir, "known_hosts"), `${knownAs} ${pinned}\n`, { mode: 0o600 });
            const args = sshArguments({ host: link.thereAddress, port, user: "root", privateKey: "", hostKey }, dir);
            const r = spawnSync("ssh", args, { input: "true\n", encoding: "utf8" });
            return r.status === 0 ? "accepted" : /host key|Host key verification failed/i.test(r.stderr) ? "host key unknown" : r.stderr.trim();
        };
        const a = link.thereAddress;
        t.is(attempt(22, a), "accepted");
        t.is(attempt(22, `[${a}]:22`), "host key unknown");
        t.is(attempt(22, `[${a}]`), "host key unknown");
        t.is(attempt(2222, `[${a}]:2222`), "accepted");
        // OpenSSH falls back to the name without the port ("found matching key w/out port"), not the other way round.
        t.is(attempt(2222, a), "accepted");
        t.is(attempt(2222, `[${a}]:22`), "host key unknown");
        // The pin is what is checked: the right name with another key is refused.
        t.is(attempt(22, a, sshKeyPair().publicKey), "host key unknown");
    }
});
