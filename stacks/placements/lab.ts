// Placement on lab hosts: each scenario node is a network namespace on this machine's lab bridge,
// reached with a deploy key made for the stack. `hostKind: lab`, the dev stack.
import * as tls from "@pulumi/tls";
import { LabHost, LabNetwork } from "../../components/hosts/lab";
import { joinHostPort } from "../../components/validate";
import { ScenarioNode } from "../seed-scenario";
import { Placed, Placement } from "./placed";

/**
 * `releases` roots the named nodes' hosts in that Debian release's file tree (a release lab). On a
 * dual-stack lab (LabNetwork ipv6) every host gets an IPv6 address too, and the `ipv6Only` nodes'
 * hosts only that one: their WireGuard endpoint and the deployer's SSH go over IPv6.
 */
export function placeOnLab(lab: LabNetwork, nodes: ScenarioNode[], bootstrapSshSources?: string[], releases: Record<string, string> = {},
    ipv6Only: string[] = []): Placement {
    const deployerKey = new tls.PrivateKey("deployer-key", { algorithm: "ED25519" });
    const placed: Record<string, Placed> = Object.fromEntries(nodes.map((n, i) => {
        const only6 = ipv6Only.includes(n.name);
        const host = new LabHost(n.name, {
            network: lab, address: only6 ? undefined : lab.addressFor(i), address6: lab.subnet6 ? lab.addressFor6(i) : undefined,
            authorizedKey: deployerKey.publicKeyOpenssh, release: releases[n.name],
        });
        const ipv6Endpoint = host.address6 ? joinHostPort(host.address6, 51820) : undefined;
        return [n.name, {
            connection: { ...host.connection, privateKey: deployerKey.privateKeyOpenssh },
            endpoint: joinHostPort(host.underlay, 51820),
            underlay: host.underlay,
            ...(host.address6 ? { underlay6: host.address6 } : {}),
            ...(ipv6Endpoint && !only6 ? { ipv6Endpoint } : {}),
            ...(only6 ? { ipv6Only: true } : {}),
        }];
    }));
    const deployer = [lab.gatewayAddress, ...(lab.gatewayAddress6 ? [lab.gatewayAddress6] : [])];
    return { placed, bootstrapSshSources: bootstrapSshSources ?? deployer };
}
