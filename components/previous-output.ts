// What this stack exported at its last deployment, as a plain value during preview and update: the
// memory that address allocation needs (addresses must be known at preview, for firewall rules and
// peers). Read through a StackReference to the stack itself; a first deployment reads nothing.
import * as pulumi from "@pulumi/pulumi";

export async function previousStackOutput<T>(outputName: string): Promise<T | undefined> {
    const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
    const ref = new pulumi.StackReference(`previous-${outputName}`, { name: self });
    const details = await ref.getOutputDetails(outputName);
    return (details.value ?? details.secretValue) as T | undefined;
}
