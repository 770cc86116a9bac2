// Removes, by name, whatever a lab test left behind when a run was killed half-way: the hosts (whose
// script also ends their processes, which `ip netns del` would leave running), the operator's
// interface, the bridge and the lab's directory. Never by a broad pattern.
import { spawnSync } from "child_process";
import { labLayout } from "../../components/hosts/lab";
import { assetPath } from "../../components/assets";

export function removeLabLeftovers(labName: string, hosts: string[]): void {
    const lab = labLayout(labName);
    const script = (name: string, env: Record<string, string>) =>
        spawnSync("bash", [assetPath(`hosts/lab/${name}`), "delete"], { env: { ...process.env, ...env }, stdio: "ignore" });
    for (const h of hosts) script("host.sh", { ZT_NS: lab.namespaceOf(h), ZT_ROOT: lab.hostRootOf(h), ZT_VETH: "unused" });
    script("operator.sh", { ZT_IFACE: lab.operatorInterface, ZT_DIR: lab.operatorDir });
    spawnSync("ip", ["link", "del", lab.bridge], { stdio: "ignore" });
    spawnSync("rmdir", [lab.root], { stdio: "ignore" });
}
