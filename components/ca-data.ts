// An InternalCA as plain data: what an MtlsGateway takes instead of the CA object, so that the CA
// can live in another stack (a StackReference carries data) and any Pulumi language can pass it.
// InternalCA.data() makes it. The names and numbers are plain values (they decide resources and
// what the preview renders); the certificates and keys are inputs, the keys secret.
import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "./validate";

export interface CaData {
    /** The CA's name: certificates it issued for a gateway before gateways took data keep their place under it. */
    name: string;
    /** Subject O of its certificates: the gateway's allowlist matches CN and O. */
    organization: string;
    /** "ECDSA" or "RSA": the default algorithm of the certificates issued from it. */
    keyAlgorithm: string;
    /** The verify depth its leaves need: 1 (root only) or 2 (an intermediate). */
    verifyDepth: number;
    rootCertPem: pulumi.Input<string>;
    /** Secret: signs the root's CRL. */
    rootKeyPem: pulumi.Input<string>;
    /** The intermediate's certificate, when there is one. */
    intermediateCertPem?: pulumi.Input<string | undefined>;
    /** The certificate that signs leaves (the intermediate, or the root). */
    issuerCertPem: pulumi.Input<string>;
    /** Secret: signs leaves and the issuer's CRL. */
    issuerKeyPem: pulumi.Input<string>;
    /** Every CA certificate, issuer first then root: what a verifier loads. */
    chainPem: pulumi.Input<string>;
    /** The CA component's URN in its own stack: where its earlier certificates were (aliases). */
    urn?: pulumi.Input<string>;
}

/** Checks CA data before anything is registered (pure), naming the field and the fix. */
export function checkCaData(field: string, data: unknown): CaData {
    const fix = "pass what InternalCA.data() returns (or the same data from the CA's stack)";
    if (typeof data !== "object" || data === null) throw new ValidationError(field, data, `expected a CA's data: ${fix}`);
    const d = data as Partial<CaData>;
    for (const key of ["name", "organization", "keyAlgorithm"] as const) {
        if (typeof d[key] !== "string") throw new ValidationError(`${field}.${key}`, d[key], `expected a string: ${fix}`);
    }
    if (d.verifyDepth !== 1 && d.verifyDepth !== 2) throw new ValidationError(`${field}.verifyDepth`, d.verifyDepth, `expected 1 or 2: ${fix}`);
    for (const key of ["rootCertPem", "rootKeyPem", "issuerCertPem", "issuerKeyPem", "chainPem"] as const) {
        if (d[key] === undefined) throw new ValidationError(`${field}.${key}`, undefined, `is missing: ${fix}`);
    }
    return d as CaData;
}
