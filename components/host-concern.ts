// A concern that another component prepares and a ZeroTrustNode lays down on its host (its
// `concerns`), after its own, through the same apply protocol: an MtlsGateway's nginx. As data, so
// that the node stays the only component that connects to hosts, and any Pulumi language can pass
// it from the component that made it to the node.
import * as pulumi from "@pulumi/pulumi";
import { DriverRequest } from "./remote/driver";
import { Concern } from "./remote/script";
import { ValidationError, checkName } from "./validate";

export interface HostConcern {
    /** The name of the resource that lays it down (the preparing component's name, then the concern's). */
    name: string;
    /** Which host program applies it: "gateway". */
    concern: string;
    /** The mesh member it was prepared for: the node's must be the same. */
    member: string;
    /** The release its files were rendered for: the node's must be the same. */
    release: string;
    /** TCP ports it listens on from the underlay: the node must open them (publicTcpPorts). */
    tcpPorts: number[];
    /** The files the host gets (secret). */
    files: pulumi.Input<Record<string, string>>;
    /** CRLs to make at apply time from the CA keys in the request (secret). */
    crl?: pulumi.Input<DriverRequest["crl"]>;
    /** The component that prepared it: the resource's place in earlier stacks, where it was that component's child. */
    ownerUrn?: pulumi.Input<string>;
}

/** The concerns another component may prepare: the host programs that apply them. */
const PREPARED: Concern[] = ["gateway"];

/** Checks a prepared concern against the node that takes it (pure), naming the field and the fix. */
export function checkHostConcern(field: string, c: unknown, node: { member: string; release: string; publicTcpPorts: number[] }): HostConcern & { concern: Concern } {
    const fix = "pass the `concern` of the component that prepared it (an MtlsGateway's)";
    if (typeof c !== "object" || c === null) throw new ValidationError(field, c, `expected a prepared concern: ${fix}`);
    const d = c as Partial<HostConcern>;
    checkName(`${field}.name`, d.name);
    if (!PREPARED.includes(d.concern as Concern)) throw new ValidationError(`${field}.concern`, d.concern, `expected one of ${PREPARED.join(", ")}: ${fix}`);
    if (d.member !== node.member) {
        throw new ValidationError(`${field}.member`, d.member, `was prepared for another host than ${node.member}: give the gateway member: mesh.member("${node.member}")`);
    }
    if (d.release !== node.release) {
        throw new ValidationError(`${field}.release`, d.release, `differs from the node's release (${node.release}): give the gateway release: "${node.release}"`);
    }
    if (!Array.isArray(d.tcpPorts)) throw new ValidationError(`${field}.tcpPorts`, d.tcpPorts, `expected a list of ports: ${fix}`);
    const closed = d.tcpPorts.filter((p) => !node.publicTcpPorts.includes(p));
    if (closed.length > 0) {
        throw new ValidationError(`${field}.tcpPorts`, d.tcpPorts, `listens on tcp/${closed.join(", tcp/")}, which node '${node.member}' does not open on the underlay: ` +
            `add publicTcpPorts: [${closed.join(", ")}] to its ZeroTrustNode`);
    }
    if (d.files === undefined) throw new ValidationError(`${field}.files`, undefined, `is missing: ${fix}`);
    return d as HostConcern & { concern: Concern };
}
