// A mesh-only node's key cut-over: nothing on creation (a new node starts with its key); on an
// update, which only a new key (or a new way to reach the host) makes, it stages the key over the
// tunnel that still works, and the host switches a few seconds later by itself. It is outside the
// host's chain, so it runs before the deployer's tunnel changes.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { MeshMemberData } from "../mesh-member";
import { DriverRequest } from "../remote/driver";
import { CUTOVER_FILES, SWITCH_AT } from "../remote/protocol";
import { ChainHost, driverCommand } from "./concern-chain";

/** Seconds between staging a new WireGuard key and the host switching to it: the staging session ends first. */
export const KEY_SWITCH_SECONDS = 3;

/** When a key cut-over's output says the host switches (epoch seconds), or undefined (pure). */
export function keySwitchTime(cutoverStdout: string): number | undefined {
    const m = SWITCH_AT.exec(cutoverStdout);
    return m ? Number(m[1]) : undefined;
}

export function keyCutoverCommand(parent: pulumi.Resource, resourceName: string, member: MeshMemberData, deployer: MeshMemberData | undefined,
    vars: Record<string, string>, host: ChainHost): command.local.Command {
    // Only keys: the cut-over changes (and runs) when one of them does, not with every peer change.
    const privateKey = pulumi.secret(pulumi.output(member.privateKey));
    // The pair's pre-shared key too: the deployer's tunnel handshakes with it after the switch.
    const deployerPsk = deployer && member.policy.peers[member.name].includes(deployer.name)
        ? pulumi.output(member.operatorPresharedKeys).apply((k) => {
            if (!k[deployer.name]) throw new Error(`member data of ${member.name} holds no pre-shared key with ${deployer.name}: pass mesh.member("${member.name}") whole`);
            return k[deployer.name];
        }) : undefined;
    const deployerPeer = deployer
        ? pulumi.all([deployer.publicKey, deployerPsk]).apply(([key, psk]) => `${deployer.address} ${key}${psk ? ` ${psk}` : ""}`) : undefined;
    const request = pulumi.all([privateKey, deployerPeer, host.connection]).apply(([key, peer, conn]): string => JSON.stringify({
        action: "cutover", concern: "wireguard", vars: { ...vars, ZT_SWITCH_SECONDS: KEY_SWITCH_SECONDS },
        files: { [CUTOVER_FILES.key]: key, ...(peer ? { [CUTOVER_FILES.deployerPeer]: peer } : {}) },
        connection: conn, rollbackSeconds: host.rollbackSeconds,
    } satisfies DriverRequest));
    return new command.local.Command(resourceName, {
        create: "echo 'wireguard: nothing to switch, the node starts with this key'",
        update: driverCommand("cutover"),
        stdin: pulumi.secret(request),
        logging: "none",
        addPreviousOutputInEnv: false,
    }, { parent, additionalSecretOutputs: ["stdin"], deletedWith: host.hostResource });
}
