// Certificate renewal, seen at preview. The tls provider reissues a certificate on the first
// deployment inside its renewal window, and plans that replacement during preview, so the program
// never sees the old certificate's expiry through its outputs (they are unknown until the new one
// exists). The stack's last recorded outputs still hold it: read once per program run.
import * as pulumi from "@pulumi/pulumi";

/** The warning for a certificate inside its renewal window, or undefined (pure). */
export function renewalNotice(cert: { name: string; commonName: string }, notAfter: string | undefined, earlyRenewalHours: number,
    now: Date, dryRun: boolean): string | undefined {
    if (!notAfter) return undefined;
    const expiry = new Date(notAfter);
    if (Number.isNaN(expiry.getTime())) return undefined;
    const windowOpens = new Date(expiry.getTime() - earlyRenewalHours * 3600_000);
    if (now < windowOpens) return undefined;
    const state = expiry <= now ? "expired at" : "expires at";
    const action = dryRun ? "`pulumi up` reissues it" : "this update reissues it";
    return `certificate '${cert.name}' (CN=${cert.commonName}) ${state} ${expiry.toISOString()} and is inside its renewal window ` +
        `(the last ${earlyRenewalHours} h, since ${windowOpens.toISOString()}): ${action}, and its holder gets the new ` +
        "credentials from the stack outputs";
}

interface RecordedResource {
    type?: string;
    outputs?: Record<string, unknown>;
}

// One read per program run: a CLI run is a process, but an inline program (Automation API) runs
// again in the same process, so the read is kept per run's stack resource.
const readsPerRun = new WeakMap<object, Promise<Record<string, RecordedResource>>>();
const noRun = {};

/**
 * Every resource's outputs as the stack's last deployment recorded them, by URN (empty for a new
 * stack). Read through the engine's builtin provider, once per program run.
 */
export function lastRecordedOutputs(): Promise<Record<string, RecordedResource>> {
    const run = pulumi.runtime.getStackResource() ?? noRun;
    let read = readsPerRun.get(run);
    if (!read) {
        read = pulumi.runtime.invoke("pulumi:pulumi:readStackResourceOutputs", { stackName: pulumi.getStack() })
            .then((r) => (r && typeof r.outputs === "object" ? r.outputs as Record<string, RecordedResource> : {}))
            .catch(() => ({}));
        readsPerRun.set(run, read);
    }
    return read;
}
