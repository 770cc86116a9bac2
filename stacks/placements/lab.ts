// Placement on lab hosts: each scenario node is a network namespace on this machine's lab bridge,
// reached with a deploy key made for the stack. `hostKind: lab`, the dev stack.
import * as tls from "@pulumi/tls";
import { LabHost, LabNetwork } from "../../components/hosts/lab";
import { ScenarioNode } from "../seed-scenario";
import { Placed, Placement } from "./placed";

/** `releases` roots the named nodes' hosts in that Debian release's file tree (a release lab). */
export function placeOnLab(lab: LabNetwork, nodes: ScenarioNode[], bootstrapSshSources?: string[], releases: Record<string, string> = {}): Placement {
    const deployerKey = new tls.PrivateKey("deployer-key", { algorithm: "ED25519" });
    const placed: Record<string, Placed> = Object.fromEntries(nodes.map((n, i) => {
        const host = new LabHost(n.name, { network: lab, address: lab.addressFor(i), authorizedKey: deployerKey.publicKeyOpenssh, release: releases[n.name] });
        return [n.name, {
            connection: { ...host.connection, privateKey: deployerKey.privateKeyOpenssh },
            endpoint: `${host.address}:51820`,
            underlay: host.address,
        }];
    }));
    return { placed, bootstrapSshSources: bootstrapSshSources ?? [lab.gatewayAddress] };
}
