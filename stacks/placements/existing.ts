// Placement on existing hosts (VPSs): each scenario node is a host given by address and pinned host
// key in the stack's config, reached with the deploy key. `hostKind: existing`.
import * as pulumi from "@pulumi/pulumi";
import { existingHost } from "../../components/hosts/connection";
import { joinHostPort } from "../../components/validate";
import { ScenarioNode } from "../seed-scenario";
import { Placed, Placement } from "./placed";

export interface ExistingHostSettings {
    address: string;
    hostKey: string;
    port?: number;
    user?: string;
}

export interface ExistingPlacementSettings {
    hosts?: Record<string, ExistingHostSettings>;
    sshPrivateKey?: pulumi.Output<string>;
    bootstrapSshSources?: string[];
    /** The release each host runs, by node name (StackSettings.releases). */
    releases?: Record<string, string>;
}

export function placeOnExisting(nodes: ScenarioNode[], s: ExistingPlacementSettings): Placement {
    const hosts = s.hosts ?? {};
    // A preview needs no key (nothing connects); a deployment does.
    const privateKey = s.sshPrivateKey ?? (pulumi.runtime.isDryRun()
        ? pulumi.secret("(zerotrust:sshPrivateKey is not set; `pulumi up` needs it)")
        : (() => { throw new Error("zerotrust:sshPrivateKey is not set: pulumi config set --secret zerotrust:sshPrivateKey < ~/.ssh/deploy_key"); })());
    const placed: Record<string, Placed> = Object.fromEntries(nodes.map((n) => {
        const h = hosts[n.name];
        if (!h) throw new Error(`zerotrust:hosts has no entry for '${n.name}': add { address, hostKey } for it`);
        return [n.name, {
            connection: existingHost({ host: h.address, port: h.port, user: h.user, hostKey: h.hostKey, privateKey, release: s.releases?.[n.name] }),
            endpoint: joinHostPort(h.address, 51820),
            underlay: h.address,
        }];
    }));
    if (!s.bootstrapSshSources) throw new Error("zerotrust:bootstrapSshSources is not set: list the deployer's underlay addresses");
    return { placed, bootstrapSshSources: s.bootstrapSshSources };
}
