// MtlsGateway: nginx on a ZeroTrustNode that admits only clients with a certificate from the
// InternalCA whose identity is on the allowlist, checks every CA's CRL, and hands the verified
// identity to the application. It takes plain data (the host's mesh member, the CAs' data) and
// makes the certificates and the files; the node it runs on lays them down as one more concern
// (its `concerns`) through its apply protocol (nginx -t, reload, previous config restored on
// failure), in its own chain, so that only nodes ever touch hosts.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { Pkcs12Bundle, pkcs12Bundle } from "./client-bundle";
import { CaData, checkCaData } from "./ca-data";
import { IssuedCertificate } from "./internal-ca";
import { MeshMemberData, checkMemberData } from "./mesh-member";
import { gatewayAllowlist } from "./policy";
import { CrlRequest, crlWindow, serialOf } from "./remote/crl";
// The gateway's nginx master (gateway.sh ZT_GW_PID): logrotate signals it to reopen its logs.
import { CONCERN_PARTS, GATEWAY_PID_FILE, concernResourceName } from "./remote/protocol";
import { GATEWAY_ACCESS_LOG, GATEWAY_ERROR_LOG, GATEWAY_LOGROTATE_FILE, renderGatewayLogrotate } from "./render/gateway-log";
import { GATEWAY_FILES, renderGatewayConfig } from "./render/nginx";
import { DEFAULT_RELEASE, releaseProfile } from "./render/releases";
import { HostConcern } from "./host-concern";
import {
    ValidationError, checkDnsName, checkIPAddress, checkIPv6, checkName, checkPort, checkPositiveInt, checkUnique, ipFamily, joinHostPort, parseIPv4,
    splitHostPort,
} from "./validate";

export interface MtlsGatewayArgs {
    /**
     * The mesh member of the host the gateway runs on, as data (`mesh.member("gw")`). Its node takes
     * the gateway's `concern` and must open listenPort (publicTcpPorts).
     */
    member: MeshMemberData;
    /** The release of that host, as its ZeroTrustNode has it: nginx's configuration is rendered for it. Default: "debian-12". */
    release?: string;
    /** The CA that issues the gateway's server certificate and its clients' certificates, as data (`ca.data()`). */
    ca: CaData;
    /**
     * Other CAs whose client certificates the gateway also accepts, and whose roots clients get in
     * their caPem: a CA being introduced or retired during a rollover (see the README). They must
     * share ca's organization (the allowlist matches CN and O). Default: none.
     */
    trustedCas?: CaData[];
    /** DNS name on the server certificate, the name clients connect to. */
    serverName: string;
    /** IPv4 or IPv6 addresses on the server certificate too. Default: none. */
    serverAddresses?: string[];
    /**
     * Also listen on IPv6 ([::]:listenPort), for a host on a dual-stack or IPv6-only underlay (the
     * node's firewall opens the port on both families). Default: true when serverAddresses holds an
     * IPv6 address, else false (IPv4 only, as before).
     */
    listenIPv6?: boolean;
    /**
     * Clients of the mesh (MeshNetwork `clients`) to issue certificates for; the CN is the name.
     * Who may pass is the policy's to say: a rule from the client to this node on listenPort. A
     * valid certificate whose client no rule admits gets 403. Default: the clients the policy admits.
     */
    clients?: string[];
    /** Clients whose certificates are revoked: listed in the CRL, refused in the handshake. Default: none. */
    revokedClients?: string[];
    /** host:port upstreams; the host is a mesh member's name (its mesh address) or an IPv4 address; or [IPv6]:port. */
    upstreams: string[];
    /** HTTPS port. Default: 443. */
    listenPort?: number;
    /** Also accept TLS 1.2 (ECDHE-ECDSA AEAD suites only). Default: false, TLS 1.3 only. */
    allowTls12?: boolean;
    /** CRLs are remade every this many days and stay valid for two such windows. Default: 7. */
    crlWindowDays?: number;
    /** Lifetime of the server and client certificates, in hours. Default: 2160 (90 days). */
    certificateValidityHours?: number;
    /** Reissue them on the first deployment this many hours before expiry. Default: 720 (30 days). */
    certificateRenewalHours?: number;
}


export interface ClientCredentials {
    certPem: pulumi.Output<string>;
    /** Secret. */
    privateKeyPem: pulumi.Output<string>;
    /** The CA certificates that verify the gateway's server certificate (every trusted CA's during a rollover). */
    caPem: pulumi.Output<string>;
    /** Key, certificate and chain in one PKCS#12 file, for browsers and keystores (secret). */
    pkcs12: Pkcs12Bundle;
}

/** The session cache's name changes with the set of revoked certificates (see GatewaySpec.sessionEpoch). */
export function sessionEpochOf(revokedSerials: string[]): string {
    return createHash("sha256").update([...revokedSerials].sort().join(",")).digest("hex").slice(0, 12);
}

function resolveUpstream(field: string, upstream: string, meshAddresses: Record<string, string>): string {
    const parts = typeof upstream === "string" ? splitHostPort(upstream) : undefined;
    if (!parts) {
        throw new ValidationError(field, upstream, "expected host:port, where host is a mesh member or an IPv4 address, or [IPv6 address]:port");
    }
    const port = checkPort(field, Number(parts.port));
    if (parts.bracketed) {
        try {
            return joinHostPort(checkIPv6(field, parts.host), port);
        } catch (e) {
            // The rule, shown with the whole upstream as written.
            throw e instanceof ValidationError ? new ValidationError(field, upstream, e.rule) : e;
        }
    }
    if (parseIPv4(parts.host) !== null) return `${parts.host}:${port}`;
    const address = meshAddresses[checkName(field, parts.host)];
    if (!address) throw new ValidationError(field, upstream, `'${parts.host}' is not a member of the mesh`);
    return joinHostPort(address, port);
}

export class MtlsGateway extends pulumi.ComponentResource {
    readonly clients: Record<string, ClientCredentials>;
    readonly serverCertificate: IssuedCertificate;
    readonly listenPort: number;
    /** What the gateway's node lays down: pass it in that ZeroTrustNode's `concerns`. */
    readonly concern: HostConcern;

    constructor(name: string, args: MtlsGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        checkName("MtlsGateway name", name);
        const listenPort = checkPort("listenPort", args.listenPort ?? 443);
        const member = checkMemberData("member", args.member, "node");
        const release = releaseProfile("release", args.release ?? DEFAULT_RELEASE);
        const serverName = checkDnsName("serverName", args.serverName);
        const serverAddresses = (args.serverAddresses ?? []).map((a, i) => checkIPAddress(`serverAddresses[${i}]`, a));
        const listenIPv6 = args.listenIPv6 ?? serverAddresses.some((a) => ipFamily(a) === 6);
        if (typeof listenIPv6 !== "boolean") throw new ValidationError("listenIPv6", listenIPv6, "expected true or false");
        const policy = member.policy;
        const allowed = gatewayAllowlist(policy, member.name, listenPort);
        if (allowed.length === 0) {
            throw new ValidationError("listenPort", listenPort, `no policy rule lets a client reach '${member.name}' on tcp/${listenPort}, ` +
                `so the gateway would admit nobody: add one such as { from: "tag:staff", to: "${member.name}", ports: ["tcp/${listenPort}"] }`);
        }
        const meshClients = policy.members.filter((m) => m.kind === "client").map((m) => m.name);
        const clients = (args.clients ?? allowed).map((c, i) => {
            if (!meshClients.includes(checkName(`clients[${i}]`, c))) {
                throw new ValidationError(`clients[${i}]`, c, `is not a client of the mesh: add { name: "${c}" } to MeshNetwork clients`);
            }
            return c;
        });
        checkUnique("clients", clients, "client");
        const revoked = (args.revokedClients ?? []).map((c, i) => {
            if (!clients.includes(c)) throw new ValidationError(`revokedClients[${i}]`, c, "is not one of clients");
            return c;
        });
        const upstreams = args.upstreams.map((u, i) => resolveUpstream(`upstreams[${i}]`, u, member.addresses));
        if (upstreams.length === 0) throw new ValidationError("upstreams", [], "the gateway needs at least one upstream");
        const windowDays = checkPositiveInt("crlWindowDays", args.crlWindowDays ?? 7, 365);
        const ca = checkCaData("ca", args.ca);
        const trusted = (args.trustedCas ?? []).map((c, i) => checkCaData(`trustedCas[${i}]`, c));
        trusted.forEach((other, i) => {
            if (other.name === ca.name) throw new ValidationError(`trustedCas[${i}]`, "(the issuing ca)", "is ca itself; list only the other CAs");
            if (other.organization !== ca.organization) {
                throw new ValidationError(`trustedCas[${i}].organization`, other.organization,
                    `differs from ca's (${ca.organization}); the allowlist matches CN and O, so its clients would all get 403: give both CAs one organization`);
            }
        });
        const validityHours = args.certificateValidityHours;
        const earlyRenewalHours = args.certificateRenewalHours;
        super("zerotrust:index:MtlsGateway", name, {}, opts);
        this.listenPort = listenPort;
        const allCas = [ca, ...trusted];
        // What verifies a client (nginx) and what verifies the server (clients): every trusted CA.
        const trustedChains = pulumi.all(allCas.map((c) => c.chainPem)).apply((chains) => chains.join(""));

        const lifetime = { validityHours, earlyRenewalHours };
        // Named after this gateway (two gateways on one CA may share a client); before gateways took
        // data the CA issued them, as its children named after itself: aliases keep those in place.
        const issue = (own: string, before: string, certArgs: ConstructorParameters<typeof IssuedCertificate>[2]) =>
            new IssuedCertificate(own, ca, certArgs, { parent: this, aliases: ca.urn ? [{ name: before, parent: ca.urn }] : [] });
        this.serverCertificate = issue(`${name}-server`, `${ca.name}-${name}-server`,
            { commonName: serverName, dnsNames: [serverName], ipAddresses: serverAddresses, ...lifetime, purpose: "server_auth" });
        const issued = Object.fromEntries(clients.map((c) => [c, issue(`${name}-client-${c}`, `${ca.name}-${c}`,
            { commonName: c, ...lifetime, purpose: "client_auth" })]));
        this.clients = Object.fromEntries(clients.map((c) => [c, {
            certPem: issued[c].certPem, privateKeyPem: issued[c].privateKeyPem, caPem: trustedChains,
            pkcs12: pkcs12Bundle(`${name}-${c}-p12`, c, { certPem: issued[c].certPem, privateKeyPem: issued[c].privateKeyPem, chainPem: ca.chainPem }, this),
        }]));

        // Revoked clients were issued by the issuing CA; the root's own CRL revokes nothing.
        const revokedSerials = pulumi.all(revoked.map((c) => issued[c].certPem)).apply((pems) => pems.map(serialOf).sort());
        const config = revokedSerials.apply((serials) => renderGatewayConfig({
            listenPort, listenIPv6, serverName, upstreams,
            allowedDns: allowed.filter((c) => !revoked.includes(c)).map((c) => `CN=${c},O=${ca.organization}`),
            verifyDepth: Math.max(...allCas.map((c) => c.verifyDepth)),
            allowTls12: args.allowTls12 ?? false,
            pidFile: GATEWAY_PID_FILE,
            errorLog: GATEWAY_ERROR_LOG,
            accessLog: GATEWAY_ACCESS_LOG,
            sessionEpoch: sessionEpochOf(serials),
            release,
        }));
        const files = pulumi.all([config, this.serverCertificate.fullChainPem, this.serverCertificate.privateKeyPem, trustedChains])
            .apply(([conf, chain, key, cas]) => ({
                [GATEWAY_FILES.config]: conf,
                [GATEWAY_FILES.certificate]: chain,
                [GATEWAY_FILES.key]: key,
                [GATEWAY_FILES.clientCas]: cas,
                [GATEWAY_LOGROTATE_FILE]: renderGatewayLogrotate(GATEWAY_PID_FILE),
            }));

        const window = crlWindow(new Date(), windowDays);
        // nginx needs a CRL from every CA in every trusted chain; the revoked clients' certificates are the issuing CA's.
        const crlsOf = (c: CaData, serials: pulumi.Input<string[]>) =>
            pulumi.all([c.issuerCertPem, c.issuerKeyPem, c.rootCertPem, c.rootKeyPem, c.intermediateCertPem, serials])
                .apply(([issuerCert, issuerKey, rootCert, rootKey, mid, revokedHere]): CrlRequest[] => [
                    { caCertPem: issuerCert, caKeyPem: issuerKey, revokedSerials: revokedHere, window, windowDays },
                    ...(mid ? [{ caCertPem: rootCert, caKeyPem: rootKey, revokedSerials: [], window, windowDays }] : []),
                ]);
        const crl = pulumi.all(allCas.map((c) => crlsOf(c, c === ca ? revokedSerials : [])))
            .apply((perCa) => ({ file: GATEWAY_FILES.crl, lists: perCa.flat() }));
        this.concern = {
            name: concernResourceName(name, CONCERN_PARTS.gateway), concern: "gateway", member: member.name, release: release.name, tcpPorts: [listenPort],
            files: pulumi.secret(files), crl: pulumi.secret(crl), ownerUrn: this.urn,
        };
        this.registerOutputs({ listenPort, serverCertPem: this.serverCertificate.certPem });
    }
}
