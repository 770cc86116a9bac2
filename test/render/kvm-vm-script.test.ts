// KvmHost's VM script (components/hosts/kvm/vm.sh) without a VM: real bash, with virsh, ssh and
// qemu replaced by stubs on PATH that record how they were called. Nothing is sent anywhere.
import test from "ava";
import { spawnSync } from "child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { assetPath } from "../../components/assets";

function sandbox(t: { teardown(fn: () => void): void }) {
    const dir = mkdtempSync(join(tmpdir(), "zt-vm-script-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    for (const tool of ["virsh", "ssh", "qemu-system-x86_64", "virt-install"]) {
        writeFileSync(join(bin, tool), `#!/bin/bash\necho "${tool} $*" >>"${dir}/calls"\nexit 0\n`);
        chmodSync(join(bin, tool), 0o755);
    }
    const run = (action: string, env: Record<string, string>, stdin = "") => spawnSync("bash", [assetPath("hosts/kvm/vm.sh"), action], {
        input: stdin, encoding: "utf8",
        env: { PATH: `${bin}:${process.env.PATH}`, ZT_VM: "zt-test", ZT_VM_DIR: join(dir, "vm"), ZT_NETWORK: "bridge", ZT_TAP: "zttnotthere0", ...env },
    });
    const calls = () => (existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8") : "");
    return { dir, run, calls };
}

test("delete stops the VM with the driver it was made with, not the one the environment names now", (t) => {
    const s = sandbox(t);
    mkdirSync(join(s.dir, "vm"));
    writeFileSync(join(s.dir, "vm", "driver"), "libvirt\n");
    const r = s.run("delete", { ZT_DRIVER: "qemu" });
    t.is(r.status, 0, r.stderr);
    t.regex(s.calls(), /^virsh -q -c qemu:\/\/\/system destroy zt-test$/m);
    t.regex(s.calls(), /^virsh -q -c qemu:\/\/\/system undefine zt-test$/m);
    t.false(existsSync(join(s.dir, "vm")), "its directory is gone");
});

test("a hypervisor whose route leaves through another interface is refused before any SSH", (t) => {
    const s = sandbox(t);
    // No interface of that name exists, so whatever the route is, it is not through it.
    const r = s.run("create", {
        ZT_HYPERVISOR: "root@10.213.99.9:22", ZT_HYPERVISOR_HOST_KEY: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDIycLuWbBD0B8c0zg+pcGK7kPDPt57U0Bb+coynd+Ix",
        ZT_HYPERVISOR_ONLY_VIA: "zt-none0",
    }, "#cloud-config\n{}\n");
    t.is(r.status, 1);
    t.regex(r.stderr, /FAILED: refusing to connect to 10\.213\.99\.9: it is routed via .*, not via zt-none0/);
    t.is(s.calls(), "", "ssh was never called");
});
