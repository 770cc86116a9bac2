// The lab operator's tunnel dials only endpoints this machine routes through the lab's own
// interfaces: operator.sh asks `ip -6 route get` / `ip -4 route get` for every Endpoint of its
// config before the interface is touched, and refuses one the default route would carry away.
import test from "ava";
import { randomBytes } from "crypto";
import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { assetPath } from "../../components/assets";
import { renderWireGuardConfig } from "../../components/render/wireguard";
import { clampPrivateKey, publicKeyOf } from "../../components/wireguard-keys";

const key = () => clampPrivateKey(randomBytes(32).toString("base64"));

for (const endpoint of ["[fd7e:57e5:1bad:ffff::1]:51820", "10.255.254.253:51820"]) {
    test(`an endpoint routed off the lab (${endpoint}) is refused before any interface exists`, (t) => {
        const dir = mkdtempSync(join(tmpdir(), "zt-op-"));
        t.teardown(() => rmSync(dir, { recursive: true, force: true }));
        const iface = `ztg${randomBytes(3).toString("hex")}`;
        const config = renderWireGuardConfig({ privateKey: key(), addressCidr: "10.71.0.9/24", mtu: 1420, behindNat: true, peers: [
            { name: "n", publicKey: publicKeyOf(key()), presharedKey: randomBytes(32).toString("base64"), address: "10.71.0.5", endpoint, behindNat: false }] });
        const r = spawnSync("bash", [assetPath("hosts/lab/operator.sh"), "create"], {
            input: config, encoding: "utf8", env: { ...process.env, ZT_IFACE: iface, ZT_DIR: join(dir, "operator"), ZT_ONLY_VIA: "ztbr-nolab zt-nolab-op" },
        });
        t.is(r.status, 1, r.stdout + r.stderr);
        t.regex(r.stderr, new RegExp(`refusing to dial ${endpoint.replace(/[[\]]/g, "\\$&")}: this machine routes it via \\S+, not through the lab's own interfaces \\(ztbr-nolab zt-nolab-op\\)`));
        t.false(existsSync(`/sys/class/net/${iface}`), "no interface was made");
        t.false(existsSync(join(dir, "operator", `${iface}.conf`)), "the config was not put in place");
    });
}
