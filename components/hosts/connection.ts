// How ZeroTrustNode reaches a host. An `existing` host (a VPS) is just this, filled in by hand;
// LabHost and KvmHost produce one.
import * as pulumi from "@pulumi/pulumi";
import { checkHost, checkOpenSshPublicKey, checkPort, checkUserName } from "../validate";

export interface HostConnection {
    /** Underlay address or DNS name the deployer dials while bootstrapping. */
    host: pulumi.Input<string>;
    /** SSH port. Default: 22. */
    port?: number;
    /** Login user; zerotrust changes system files, so it logs in as root. Default: "root". */
    user?: string;
    /** OpenSSH private key of the deployer (secret). */
    privateKey: pulumi.Input<string>;
    /** The host's SSH public key ("ssh-ed25519 AAAA..."), pinned: no other key is accepted. */
    hostKey: pulumi.Input<string>;
    /**
     * Interfaces of the deploying machine that the route to the host must leave through; the
     * deployer refuses to connect otherwise. Lab hosts set the lab's own. Default: any route.
     */
    onlyVia?: string[];
    /** A resource that must exist before the host answers (the host's own creation). */
    ready?: pulumi.Resource;
}

/** An existing host, reached by address, user, key and pinned host key. */
export function existingHost(args: HostConnection): HostConnection {
    if (typeof args.host === "string") checkHost("host", args.host);
    if (args.port !== undefined) checkPort("port", args.port);
    if (args.user !== undefined) checkUserName("user", args.user);
    if (typeof args.hostKey === "string") checkOpenSshPublicKey("hostKey", args.hostKey);
    return args;
}
