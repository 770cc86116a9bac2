// InternalCA: a private certificate authority whose keys and certificates are tracked resources.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { ValidationError, checkDnValue, checkDnsName, checkIPAddress, checkName, checkPositiveInt } from "./validate";
import { caKeySpec, KeySpec } from "./key-spec";
import { lastRecordedOutputs, renewalNotice } from "./certificate-renewal";
import { CaData } from "./ca-data";

export interface InternalCAArgs {
    /** Subject CN of the root certificate. Default: "<name> root CA". */
    commonName?: string;
    /** Subject O of every certificate this CA makes. Default: "zerotrust". */
    organization?: string;
    /** "ECDSA" (P-256) or "RSA". Default: "ECDSA". Decides the resources, so it is a plain value. */
    keyAlgorithm?: string;
    /** RSA key size when keyAlgorithm is "RSA". Default: 4096 for CA keys. */
    rsaBits?: number;
    /** Root certificate lifetime in hours. Default: 87600 (10 years). */
    validityHours?: number;
    /** Issue leaves from an intermediate CA under the root. Default: false. */
    intermediate?: boolean;
    /** Intermediate lifetime in hours. Default: 43800 (5 years). */
    intermediateValidityHours?: number;
    /** Protect the CA keys from deletion (pulumi refuses to delete or replace them). Default: false. */
    protectKeys?: boolean;
}

export interface CertificateArgs {
    /** Subject CN. Default: the name given to issueServerCertificate / issueClientCertificate. */
    commonName?: string;
    /** DNS subject alternative names. Default: none. */
    dnsNames?: string[];
    /** IP subject alternative names. Default: none. */
    ipAddresses?: string[];
    /** Lifetime in hours. Default: 2160 (90 days). */
    validityHours?: number;
    /**
     * Replace the certificate on a deployment this many hours before expiry; `pulumi preview` warns
     * about a certificate inside this window, naming it and its expiry. Equal to validityHours:
     * reissue on every deployment. Default: 720 (30 days).
     */
    earlyRenewalHours?: number;
    /** "ECDSA" (P-256) or "RSA". Default: the CA's algorithm. */
    keyAlgorithm?: string;
    /** RSA key size when keyAlgorithm is "RSA". Default: 2048. */
    rsaBits?: number;
}

/**
 * Key usages of a leaf certificate (pure). Key encipherment is what an RSA key does in RSA key
 * transport; an ECDSA key only signs, so scanners flag the usage on one (RFC 5480 section 3).
 */
export function leafUses(algorithm: string, purpose: "server_auth" | "client_auth"): string[] {
    return ["digital_signature", ...(algorithm === "RSA" ? ["key_encipherment"] : []), purpose];
}
const CA_USES = ["cert_signing", "crl_signing", "digital_signature"];

/** A certificate issued by an InternalCA, with its own key. */
export class IssuedCertificate extends pulumi.ComponentResource {
    /** PEM private key (secret). */
    readonly privateKeyPem: pulumi.Output<string>;
    /** PEM certificate. */
    readonly certPem: pulumi.Output<string>;
    /** The certificate followed by the issuing intermediate, if any: what a server presents. */
    readonly fullChainPem: pulumi.Output<string>;
    /** RFC 3339 expiry. */
    readonly notAfter: pulumi.Output<string>;
    readonly commonName: string;

    constructor(name: string, ca: CaData, args: CertificateArgs & { purpose: "server_auth" | "client_auth" }, opts?: pulumi.ComponentResourceOptions) {
        const field = (f: string) => `certificate '${name}'.${f}`;
        const commonName = checkDnValue(field("commonName"), args.commonName ?? name);
        const dnsNames = (args.dnsNames ?? []).map((d, i) => checkDnsName(field(`dnsNames[${i}]`), d, true));
        const ipAddresses = (args.ipAddresses ?? []).map((a, i) => checkIPAddress(field(`ipAddresses[${i}]`), a));
        const validity = checkPositiveInt(field("validityHours"), args.validityHours ?? 2160);
        const renewal = checkPositiveInt(field("earlyRenewalHours"), args.earlyRenewalHours ?? 720);
        if (renewal > validity) {
            throw new ValidationError(field("earlyRenewalHours"), renewal, `must not exceed validityHours (${validity})`);
        }
        const spec = caKeySpec(field("keyAlgorithm"), args.keyAlgorithm ?? ca.keyAlgorithm, args.rsaBits ?? 2048);
        super("zerotrust:index:IssuedCertificate", name, {}, opts);
        this.commonName = commonName;
        const key = new tls.PrivateKey(`${name}-key`, spec, { parent: this });
        const csr = new tls.CertRequest(`${name}-csr`, {
            privateKeyPem: key.privateKeyPem,
            subject: { commonName: this.commonName, organization: ca.organization },
            dnsNames,
            ipAddresses,
        }, { parent: this });
        const cert = new tls.LocallySignedCert(`${name}-cert`, {
            certRequestPem: csr.certRequestPem,
            caPrivateKeyPem: ca.issuerKeyPem,
            caCertPem: ca.issuerCertPem,
            validityPeriodHours: validity,
            earlyRenewalHours: renewal,
            allowedUses: leafUses(spec.algorithm, args.purpose),
        }, { parent: this });
        // Inside its renewal window the provider plans a new certificate; say so, with the old one's expiry.
        pulumi.all([cert.urn, lastRecordedOutputs()]).apply(([urn, last]) => {
            const notice = renewalNotice({ name, commonName }, last[urn]?.outputs?.validityEndTime as string | undefined, renewal,
                new Date(), pulumi.runtime.isDryRun());
            if (notice) void pulumi.log.warn(notice, this);
        });
        this.privateKeyPem = pulumi.secret(key.privateKeyPem);
        this.certPem = cert.certPem;
        this.fullChainPem = pulumi.all([cert.certPem, ca.intermediateCertPem]).apply(([leaf, mid]) => leaf + (mid ?? ""));
        this.notAfter = cert.validityEndTime;
        this.registerOutputs({ certPem: this.certPem, fullChainPem: this.fullChainPem, notAfter: this.notAfter });
    }
}

export class InternalCA extends pulumi.ComponentResource {
    /** The root certificate: the trust anchor clients and servers install. */
    readonly rootCertPem: pulumi.Output<string>;
    /** The intermediate certificate, when there is one. */
    readonly intermediateCertPem: pulumi.Output<string | undefined>;
    /** The certificate that signs leaves (the intermediate, or the root). */
    readonly issuerCertPem: pulumi.Output<string>;
    /** Every CA certificate, issuer first then root: what a verifier loads. */
    readonly chainPem: pulumi.Output<string>;
    /** The issuer's private key (secret); needed to sign leaves and CRLs. */
    readonly issuerKeyPem: pulumi.Output<string>;
    /** The root's private key (secret); needed to sign the root's CRL. */
    readonly rootKeyPem: pulumi.Output<string>;
    /** Root expiry, RFC 3339. */
    readonly rootNotAfter: pulumi.Output<string>;
    readonly organization: string;
    readonly keySpec: KeySpec;
    /** Verify depth a verifier needs for leaves of this CA (leaf + intermediate + root). */
    readonly verifyDepth: number;
    /** Its name: the prefix of the certificates it issues itself. */
    readonly name: string;

    constructor(name: string, args: InternalCAArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        // Validate before registering anything: bad input leaves no resource behind.
        checkName("InternalCA name", name);
        const organization = checkDnValue("organization", args.organization ?? "zerotrust");
        const commonName = checkDnValue("commonName", args.commonName ?? `${name} root CA`);
        const keySpec = caKeySpec("keyAlgorithm", args.keyAlgorithm ?? "ECDSA", args.rsaBits ?? 4096);
        const rootValidity = checkPositiveInt("validityHours", args.validityHours ?? 87600);
        const midValidity = checkPositiveInt("intermediateValidityHours", args.intermediateValidityHours ?? 43800);
        if (args.intermediate && midValidity > rootValidity) {
            throw new ValidationError("intermediateValidityHours", midValidity,
                `exceeds the root's validityHours (${rootValidity}); the intermediate must expire first`);
        }
        super("zerotrust:index:InternalCA", name, {}, opts);
        this.name = name;
        this.organization = organization;
        this.keySpec = keySpec;
        const keyOpts = { parent: this, protect: args.protectKeys ?? false };

        const rootKey = new tls.PrivateKey(`${name}-root-key`, this.keySpec, keyOpts);
        const root = new tls.SelfSignedCert(`${name}-root-cert`, {
            privateKeyPem: rootKey.privateKeyPem,
            subject: { commonName, organization: this.organization },
            isCaCertificate: true,
            validityPeriodHours: rootValidity,
            allowedUses: CA_USES,
        }, { parent: this });
        this.rootCertPem = root.certPem;
        this.rootKeyPem = pulumi.secret(rootKey.privateKeyPem);
        this.rootNotAfter = root.validityEndTime;

        if (args.intermediate) {
            const midKey = new tls.PrivateKey(`${name}-intermediate-key`, this.keySpec, keyOpts);
            const midCsr = new tls.CertRequest(`${name}-intermediate-csr`, {
                privateKeyPem: midKey.privateKeyPem,
                subject: { commonName: checkDnValue("commonName", `${name} intermediate CA`), organization: this.organization },
            }, { parent: this });
            const mid = new tls.LocallySignedCert(`${name}-intermediate-cert`, {
                certRequestPem: midCsr.certRequestPem,
                caPrivateKeyPem: rootKey.privateKeyPem,
                caCertPem: root.certPem,
                isCaCertificate: true,
                validityPeriodHours: midValidity,
                allowedUses: CA_USES,
            }, { parent: this });
            this.intermediateCertPem = mid.certPem;
            this.issuerCertPem = mid.certPem;
            this.issuerKeyPem = pulumi.secret(midKey.privateKeyPem);
            this.verifyDepth = 2;
        } else {
            this.intermediateCertPem = pulumi.output(undefined);
            this.issuerCertPem = root.certPem;
            this.issuerKeyPem = this.rootKeyPem;
            this.verifyDepth = 1;
        }
        this.chainPem = pulumi.all([this.intermediateCertPem, this.rootCertPem]).apply(([mid, rootPem]) => (mid ?? "") + rootPem);
        this.registerOutputs({ rootCertPem: this.rootCertPem, chainPem: this.chainPem, rootNotAfter: this.rootNotAfter });
    }

    /** This CA as plain data: what an MtlsGateway takes (here or in another stack). */
    data(): CaData {
        return {
            name: this.name, organization: this.organization, keyAlgorithm: this.keySpec.algorithm, verifyDepth: this.verifyDepth,
            rootCertPem: this.rootCertPem, rootKeyPem: this.rootKeyPem, intermediateCertPem: this.intermediateCertPem,
            issuerCertPem: this.issuerCertPem, issuerKeyPem: this.issuerKeyPem, chainPem: this.chainPem, urn: this.urn,
        };
    }

    /** A server certificate (server_auth) for TLS endpoints. */
    issueServerCertificate(name: string, args: CertificateArgs = {}): IssuedCertificate {
        return new IssuedCertificate(`${this.name}-${checkName("certificate name", name)}`, this.data(),
            { commonName: name, ...args, purpose: "server_auth" }, { parent: this });
    }

    /** A client certificate (client_auth): the identity a client presents to a gateway. */
    issueClientCertificate(name: string, args: CertificateArgs = {}): IssuedCertificate {
        return new IssuedCertificate(`${this.name}-${checkName("certificate name", name)}`, this.data(),
            { commonName: name, ...args, purpose: "client_auth" }, { parent: this });
    }
}
