// What every placement (lab, kvm, existing) gives the program for each scenario node.
import * as pulumi from "@pulumi/pulumi";
import { HostConnection } from "../../components/hosts/connection";

/** Where a scenario node lives: how to reach it, its WireGuard endpoint and underlay address. */
export interface Placed {
    connection: HostConnection;
    endpoint: pulumi.Input<string>;
    underlay: pulumi.Input<string>;
    /** A dual-stack host's IPv6 address, and the endpoint IPv6-only peers dial there. */
    underlay6?: string;
    ipv6Endpoint?: string;
    /** The host has no IPv4 underlay. */
    ipv6Only?: boolean;
}

/** A placement's result: every node placed, and the underlay sources that may SSH while bootstrapping. */
export interface Placement {
    placed: Record<string, Placed>;
    bootstrapSshSources: string[];
}
