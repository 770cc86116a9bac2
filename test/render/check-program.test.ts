// The host side of a drift check, with the real nft: the check program of a firewall concern run
// in a throwaway namespace. Read only: it stages the payload in a scratch directory it removes.
import test from "ava";
import { existsSync, readdirSync } from "fs";
import { hostProgramFor } from "../../components/remote/driver";
import { parseCheckOutput } from "../../components/verify";
import { lineDiff } from "../../components/verify/line-diff";
import { IP, NFT, inNamespace, run, scratchNamespace } from "../helpers/netns";

const RULES = [
    "table inet zerotrust", "delete table inet zerotrust", "table inet zerotrust {", "\tchain input {",
    "\t\ttype filter hook input priority 0; policy drop;", "\t\tiif lo accept", "\t\ttcp dport 22 accept", "\t}", "}", "",
].join("\n");

function check(ns: string): { expected: string[]; live: string[] } {
    const program = hostProgramFor({
        action: "apply", concern: "firewall", vars: {}, files: { "firewall.nft": RULES }, rollbackSeconds: 10,
        connection: { host: "unused", port: 22, user: "root", privateKey: "unused", hostKey: "unused" },
    }, "check");
    // A host's own PATH, as an SSH session has it (npm's puts a JavaScript `nft` first).
    const env = { ...process.env, PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
    return parseCheckOutput(run(IP, ["netns", "exec", ns, "bash", "-s"], { input: program, env }));
}

const scratchDirs = () => readdirSync("/run").filter((f) => f.startsWith("zerotrust-check."));

test("the check sees the table as nft lists it, a hand-added rule as one line, and leaves nothing behind", (t) => {
    t.false(existsSync("/etc/zerotrust/firewall.nft"), "this test reads the machine's own /etc/zerotrust as the host's: it must be empty");
    const ns = scratchNamespace(t);
    const before = scratchDirs();
    // Nothing loaded: the whole table is missing.
    const empty = check(ns);
    t.true(empty.live.includes("table inet zerotrust absent"));
    // Loaded as the payload says: the table agrees; only the file (absent on this machine) differs.
    inNamespace(ns, NFT, ["-f", "-"], { input: RULES });
    const loaded = check(ns);
    t.deepEqual(lineDiff(loaded.expected, loaded.live).filter((l) => !l.includes(" file ")), []);
    t.true(loaded.expected.some((l) => l.includes('iif "lo" accept')), "nft's own listing, not the file's text");
    // One rule added by hand: one line.
    inNamespace(ns, NFT, ["insert", "rule", "inet", "zerotrust", "input", "tcp", "dport", "9999", "accept"]);
    const drifted = check(ns);
    t.deepEqual(lineDiff(drifted.expected, drifted.live).filter((l) => !l.includes(" file ")), ["+ \t\ttcp dport 9999 accept"]);
    t.deepEqual(scratchDirs(), before, "the scratch directory is gone");
});
