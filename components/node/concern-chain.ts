// A host's concerns, one at a time: each a local.Command that runs the driver (remote/driver.ts)
// with its request on stdin, ordered after the one before it, through the apply protocol.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { existsSync } from "fs";
import { join } from "path";
import { commandPath } from "../assets";
import { DriverRequest } from "../remote/driver";
import { Concern } from "../remote/script";
import { SshTarget } from "../remote/ssh";

/** How the chain reaches its host: the connection (its host the management host), and what it applies with. */
export interface ChainHost {
    connection: pulumi.Output<Omit<SshTarget, "host"> & { host: string }>;
    managementHost: pulumi.Output<string>;
    release: string;
    rollbackSeconds: number;
    /** The host's own creation, when it is a resource (a LabHost, a KvmHost): its configuration goes with it. */
    hostResource?: pulumi.Resource;
}

export function driverCommand(action: DriverRequest["action"]): string {
    const driver = join(__dirname, "..", "remote", "driver.js");
    if (!existsSync(driver)) throw new Error(`zerotrust: ${driver} is missing; build the package (tsc) before deploying`);
    // Relative to the project directory, so two checkouts store the same command (see commandPath).
    return `node ${commandPath(driver)} ${action}`;
}

/**
 * What a concern runs instead of applying when one before it on the host failed in this update
 * (names are checked member and resource names: no quoting issue). It fails too, naming the cause,
 * and keeps its recorded state, so the next `pulumi up` applies it.
 */
export function blockedCommand(resourceName: string, failedBefore: string): string {
    if (!/^[A-Za-z0-9 ._-]+$/.test(resourceName + failedBefore)) throw new Error(`unsafe resource name ${resourceName} / ${failedBefore}`);
    return `echo 'zerotrust: ${resourceName} not applied: ${failedBefore}, which comes before it on this host, failed in this update; ` +
        "run pulumi up again once it applies' >&2; exit 1";
}

export interface ApplyExtra {
    /** Connect here instead of the management host (the bootstrap's underlay); confirm on the management host. */
    via?: pulumi.Input<string>;
    crl?: pulumi.Input<DriverRequest["crl"]>;
    keySwitchAt?: pulumi.Input<number | undefined>;
    options?: pulumi.CustomResourceOptions;
}

export class ConcernChain {
    private last: pulumi.Resource[];
    private lastNames: (string | undefined)[];

    /** `start`: what the first concern waits for (the host's creation, the deployer's tunnel). */
    constructor(private readonly parent: pulumi.Resource, private readonly host: ChainHost, start: pulumi.Resource[]) {
        this.last = start;
        this.lastNames = [];
    }

    /** The chain's last resource: what runs after the host is configured depends on it. */
    get tip(): pulumi.Resource {
        return this.last[0];
    }

    /** One more concern, after everything already chained on the host. */
    apply(resourceName: string, concern: Concern, files: pulumi.Input<Record<string, string>>, vars: Record<string, string>,
        extra: ApplyExtra = {}): command.local.Command {
        const host = this.host;
        const request = pulumi.all([files, host.connection, extra.via ?? host.managementHost, extra.crl, extra.keySwitchAt]).apply(([f, conn, target, crl, keySwitchAt]): string =>
            JSON.stringify({
                action: "apply", concern, vars: { ...vars, ZT_RELEASE: host.release }, files: f, connection: { ...conn, host: target }, confirmHost: conn.host,
                rollbackSeconds: host.rollbackSeconds, crl, keySwitchAt,
            } satisfies DriverRequest));
        // Ordered after the host's previous concern through this input, not dependsOn: a dependsOn on a
        // failed resource makes the SDK drop this registration, and `pulumi up --continue-on-error`
        // would then delete (tear down) this concern. Here it registers, and fails naming the cause.
        const names = [...this.lastNames];
        const previous = this.last.map((r, i) => pulumi.recover(r.urn.apply((): string | undefined => undefined),
            () => names[i] ?? "a resource this host depends on"));
        const create = pulumi.all(previous).apply((failed) => {
            const first = failed.find((f) => f !== undefined);
            return first === undefined ? driverCommand("apply") : blockedCommand(resourceName, first);
        });
        const cmd = new command.local.Command(resourceName, {
            create,
            delete: driverCommand("teardown"),
            stdin: pulumi.secret(request),
            // Nothing secret is printed, but keep the driver's output out of logs all the same.
            logging: "none",
            addPreviousOutputInEnv: false,
        }, {
            parent: this.parent, additionalSecretOutputs: ["stdin"],
            // A host removed in the same update takes its configuration with it: no teardown over
            // SSH (its peers may already have dropped it, so the mesh path is gone).
            deletedWith: host.hostResource,
            ...extra.options,
        });
        this.last = [cmd];
        this.lastNames = [resourceName];
        return cmd;
    }
}
