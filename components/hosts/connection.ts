// How ZeroTrustNode reaches a host. An `existing` host (a VPS) is just this, filled in by hand;
// LabHost and KvmHost produce one.
import * as pulumi from "@pulumi/pulumi";
import { SSHD_HOST_KEY_TYPES } from "../render/sshd";
import { ValidationError, checkHost, checkInterfaceName, checkOpenSshPublicKey, checkPort, checkPrivateKey, checkUserName } from "../validate";

export interface HostConnection {
    /** Underlay address (IPv4, or IPv6 without brackets) or DNS name the deployer dials while bootstrapping. */
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
    /**
     * The release the host runs, when whoever made the host knows it (a LabHost or KvmHost of a
     * given release): what ZeroTrustNode renders for unless its own `release` says otherwise.
     */
    release?: string;
    /** A resource that must exist before the host answers (the host's own creation). */
    ready?: pulumi.Resource;
}

/** A pinned host key: one of the types the hardened sshd still offers (render/sshd.ts). */
export function checkPinnedHostKey(field: string, value: unknown): string {
    const key = checkOpenSshPublicKey(field, value);
    const type = key.split(" ")[0];
    if (!SSHD_HOST_KEY_TYPES.includes(type)) {
        throw new ValidationError(field, key, `sshd is set to offer only ${SSHD_HOST_KEY_TYPES.join(" and ")} host keys, so a pinned ${type} key ` +
            "would never be presented again: pin the host's ed25519 key (its /etc/ssh/ssh_host_ed25519_key.pub, or `ssh-keyscan -t ed25519 HOST`)");
    }
    return key;
}

/**
 * Checks every field of a connection that is known during preview, whichever way it was made;
 * fields that are outputs (a LabHost's host key, say) are checked once they resolve.
 */
export function checkConnection(field: string, c: HostConnection): void {
    if (typeof c.host === "string") checkHost(`${field}.host`, c.host);
    if (c.port !== undefined) checkPort(`${field}.port`, c.port);
    if (c.user !== undefined) checkUserName(`${field}.user`, c.user);
    if (typeof c.hostKey === "string") checkPinnedHostKey(`${field}.hostKey`, c.hostKey);
    if (typeof c.privateKey === "string") checkPrivateKey(`${field}.privateKey`, c.privateKey);
    (c.onlyVia ?? []).forEach((d, i) => checkInterfaceName(`${field}.onlyVia[${i}]`, d));
}

/** An existing host, reached by address, user, key and pinned host key. */
export function existingHost(args: HostConnection): HostConnection {
    checkConnection("connection", args);
    return args;
}
