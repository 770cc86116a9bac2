// The stack's settings: what `zerotrust:*` config holds, read (readSettings) and checked
// (checkSettings). Every check of a setting is here and runs first, before the program reads the
// stack's last deployment or registers anything: a bad setting is refused within seconds,
// whatever the size of the stack, and a refusal changes nothing.
import * as pulumi from "@pulumi/pulumi";
import { checkPinnedHostKey } from "../components/hosts/connection";
import { checkLabNetwork } from "../components/hosts/lab";
import { planMesh } from "../components/mesh-plan";
import { releaseProfile } from "../components/render/releases";
import { ValidationError, checkHost, checkName, parseCidr, checkPort, checkPositiveInt, checkSource, checkUnique, checkUserName } from "../components/validate";
import { ExistingHostSettings } from "./placements/existing";
import { KvmPlacementSettings, kvmHostArgs } from "./placements/kvm";
import { SEED_CLIENTS, SEED_EXPECT, SEED_GATEWAY, SEED_NODES, SEED_OPERATOR, SEED_RULES, ScenarioNode } from "./seed-scenario";

/** More would not fit the default lab's /24 underlay (hosts from .10). */
const MAX_EXTRA_APP_SERVERS = 240;
const DEFAULT_VALIDITY_HOURS = 2160;
const DEFAULT_RENEWAL_HOURS = 720;

export interface StackSettings {
    hostKind: string;
    meshCidr: string;
    /** An IPv6 range for the mesh beside meshCidr (a ULA /64): every member on both, one policy. Default: none. */
    meshCidr6?: string;
    labSubnet?: string;
    /**
     * Lab only: a dual-stack underlay, each lab host with an IPv6 address too (a ULA /64 derived from
     * the stack's name, or `labSubnet6`); the gateway then listens on IPv6 as well. Default: false.
     */
    labIPv6?: boolean;
    /** Lab only: the dual-stack lab's IPv6 range (a ULA /64, never fd00::/64). Default: derived from the stack's name. */
    labSubnet6?: string;
    /**
     * Nodes whose host has no IPv4 underlay: their WireGuard endpoint and the deployer's SSH are
     * IPv6 (in the lab, labIPv6 is needed). Default: none.
     */
    ipv6OnlyNodes?: string[];
    sshOverMeshOnly: boolean;
    rollbackSeconds: number;
    extraAppServers: number;
    bootstrapSshSources?: string[];
    /** existing hosts only */
    hosts?: Record<string, ExistingHostSettings>;
    sshPrivateKey?: pulumi.Output<string>;
    /** kvm hosts only: where the VMs go (see stacks/Pulumi.prod-kvm.yaml.example). */
    kvm?: KvmPlacementSettings;
    /** kvm hosts only: the deployer's public key, authorized on every VM. */
    sshPublicKey?: string;
    /** Gateway clients whose certificates are revoked. */
    revokedClients?: string[];
    /**
     * Nodes on their way out (step 1 of removing a node): their zerotrust configuration is torn
     * down while their peers still have them, so the teardown can still reach them over the mesh.
     * Step 2 removes the node itself (and drops it from this list). Default: none.
     */
    retiredNodes?: string[];
    /**
     * The mesh addresses the stack allocated last time (its `meshAddresses` output): every member
     * keeps its own, so adding or removing others never renumbers it. Default: none (first deployment).
     */
    previousAddresses?: Record<string, string>;
    /** The same for the IPv6 mesh range (its `meshAddresses6` output). Default: none. */
    previousAddresses6?: Record<string, string>;
    /**
     * The CAs the gateway trusts, by name (a CA rollover lists two for a while; see the README).
     * Default: one CA named after the stack.
     */
    certificateAuthorities?: string[];
    /** The CA that issues the gateway's server and client certificates. Default: the first of certificateAuthorities. */
    issuingCa?: string;
    /**
     * WireGuard key generation per node, and of the operator peer ("operator"): raise one to rotate
     * that key (`pulumi config set --path 'zerotrust:keyGenerations.app-1' 2`). Default: 1 for each.
     */
    keyGenerations?: Record<string, number>;
    /**
     * The release each node's host runs, by node name ("debian-11", "debian-12", "debian-13"). In
     * the lab it roots that host in the release's own file tree (a release lab); on existing hosts
     * it says what they run. Default: this machine's release in the lab, "debian-12" elsewhere.
     */
    releases?: Record<string, string>;
    /** Lifetime of the gateway's server and client certificates, in hours. Default: 2160 (90 days). */
    certificateValidityHours?: number;
    /** Reissue them on the first deployment this many hours before expiry. Default: 720 (30 days). */
    certificateRenewalHours?: number;
}

/** The CA names and the issuing one, checked (pure). */
export function checkCertificateAuthorities(stack: string, names: string[] | undefined, issuing: string | undefined): { names: string[]; issuing: string } {
    const list = names ?? [stack];
    if (list.length === 0) throw new ValidationError("certificateAuthorities", [], "needs at least one CA name");
    list.forEach((n, i) => checkName(`certificateAuthorities[${i}]`, n));
    checkUnique("certificateAuthorities", list, "CA");
    const chosen = issuing ?? list[0];
    if (!list.includes(chosen)) {
        throw new ValidationError("issuingCa", chosen, `is not one of certificateAuthorities (${list.join(", ")}): a CA must be trusted to issue`);
    }
    return { names: list, issuing: chosen };
}

/** The retired nodes, checked against the scenario (pure). */
export function checkRetiredNodes(retired: string[], nodes: ScenarioNode[], gatewayNode: string): Set<string> {
    retired.forEach((name, i) => {
        if (!nodes.some((n) => n.name === name)) {
            throw new ValidationError(`retiredNodes[${i}]`, name, "names no node of the stack: once a node is removed, drop it from retiredNodes too");
        }
        if (name === gatewayNode) throw new ValidationError(`retiredNodes[${i}]`, name, "runs the mTLS gateway, which needs its host configured");
    });
    return new Set(retired);
}

/** The key generations, checked against the scenario's members, and their values (pure). */
export function checkKeyGenerations(generations: Record<string, number>, nodes: ScenarioNode[], operator: string): Record<string, number> {
    if (typeof generations !== "object" || generations === null || Array.isArray(generations)) {
        throw new ValidationError("keyGenerations", generations, "expected a generation per node name, e.g. {\"app-1\": 2}");
    }
    for (const name of Object.keys(generations)) {
        if (name !== operator && !nodes.some((n) => n.name === name)) {
            throw new ValidationError(`keyGenerations.${name}`, generations[name], `names neither a node of the stack nor its operator peer (${operator})`);
        }
        checkPositiveInt(`keyGenerations.${name}`, generations[name]);
    }
    return generations;
}

/** The per-node releases, checked against the scenario's nodes, and their values (pure). */
export function checkReleases(releases: Record<string, string>, nodes: ScenarioNode[]): Record<string, string> {
    if (typeof releases !== "object" || releases === null || Array.isArray(releases)) {
        throw new ValidationError("releases", releases, "expected a release per node name, e.g. {\"db\": \"debian-11\"}");
    }
    for (const name of Object.keys(releases)) {
        if (!nodes.some((n) => n.name === name)) throw new ValidationError(`releases.${name}`, releases[name], "names no node of the stack");
        releaseProfile(`releases.${name}`, releases[name]);
    }
    return releases;
}

/** The IPv6-only nodes, checked against the scenario (pure). */
export function checkIpv6OnlyNodes(names: string[], nodes: ScenarioNode[], s: Pick<StackSettings, "hostKind" | "labIPv6" | "labSubnet6">): string[] {
    if (!Array.isArray(names)) throw new ValidationError("ipv6OnlyNodes", names, "expected a list of node names, e.g. [\"db\"]");
    names.forEach((name, i) => {
        if (!nodes.some((n) => n.name === name)) throw new ValidationError(`ipv6OnlyNodes[${i}]`, name, "names no node of the stack");
        if (s.hostKind === "lab" && !s.labIPv6 && s.labSubnet6 === undefined) {
            throw new ValidationError(`ipv6OnlyNodes[${i}]`, name, "the lab has no IPv6 underlay: set labIPv6 to true");
        }
    });
    return names;
}

/** The scenario's nodes: the seeds' and the extra app servers (pure). */
export function scenarioNodes(s: Pick<StackSettings, "extraAppServers">): ScenarioNode[] {
    if (!Number.isInteger(s.extraAppServers) || s.extraAppServers < 0 || s.extraAppServers > MAX_EXTRA_APP_SERVERS) {
        throw new ValidationError("extraAppServers", s.extraAppServers, `expected a whole number from 0 to ${MAX_EXTRA_APP_SERVERS}`);
    }
    // More app servers on request: the scenario grows without renumbering anyone.
    const extraApps: ScenarioNode[] = Array.from({ length: s.extraAppServers }, (_, i) => ({ name: `app-${i + 3}`, tags: ["app"] }));
    return [...SEED_NODES, ...extraApps];
}

/** The settings as `zerotrust:*` config holds them (keys with a default in Pulumi.yaml are always set). */
export function readSettings(cfg: pulumi.Config): StackSettings {
    return {
        hostKind: cfg.require("hostKind"),
        meshCidr: cfg.require("meshCidr"),
        labSubnet: cfg.require("labSubnet"),
        labIPv6: cfg.getBoolean("labIPv6"),
        labSubnet6: cfg.get("labSubnet6"),
        ipv6OnlyNodes: cfg.getObject<string[]>("ipv6OnlyNodes"),
        meshCidr6: cfg.get("meshCidr6"),
        sshOverMeshOnly: cfg.requireBoolean("sshOverMeshOnly"),
        rollbackSeconds: cfg.requireNumber("rollbackSeconds"),
        extraAppServers: cfg.requireNumber("extraAppServers"),
        bootstrapSshSources: cfg.getObject<string[]>("bootstrapSshSources"),
        hosts: cfg.getObject<Record<string, ExistingHostSettings>>("hosts"),
        sshPrivateKey: cfg.getSecret("sshPrivateKey"),
        sshPublicKey: cfg.get("sshPublicKey"),
        kvm: cfg.getObject<KvmPlacementSettings>("kvm"),
        revokedClients: cfg.getObject<string[]>("revokedClients"),
        retiredNodes: cfg.getObject<string[]>("retiredNodes"),
        certificateAuthorities: cfg.getObject<string[]>("certificateAuthorities"),
        issuingCa: cfg.get("issuingCa"),
        keyGenerations: cfg.getObject<Record<string, number>>("keyGenerations"),
        releases: cfg.getObject<Record<string, string>>("releases"),
        certificateValidityHours: cfg.getNumber("certificateValidityHours"),
        certificateRenewalHours: cfg.getNumber("certificateRenewalHours"),
    };
}

/** What the checks derive from the settings, for the program to build with. */
export interface CheckedSettings {
    nodes: ScenarioNode[];
    retired: Set<string>;
    keyGenerations: Record<string, number>;
    releases: Record<string, string>;
    ipv6Only: string[];
    cas: { names: string[]; issuing: string };
}

/** The revoked clients, checked against the gateway's clients (pure). */
export function checkRevokedClients(revoked: unknown, clients: string[]): string[] {
    if (!Array.isArray(revoked)) throw new ValidationError("revokedClients", revoked, "expected a list of client names, e.g. [\"bob\"]");
    revoked.forEach((c, i) => {
        if (!clients.includes(c)) throw new ValidationError(`revokedClients[${i}]`, c, `names no client of the gateway (${clients.join(", ")})`);
    });
    checkUnique("revokedClients", revoked as string[], "client");
    return revoked as string[];
}

/** The gateway certificates' lifetime and renewal window, in hours (pure). */
export function checkCertificateLifetime(validity: unknown, renewal: unknown): void {
    const v = checkPositiveInt("certificateValidityHours", validity ?? DEFAULT_VALIDITY_HOURS);
    const r = checkPositiveInt("certificateRenewalHours", renewal ?? DEFAULT_RENEWAL_HOURS);
    if (r > v) throw new ValidationError("certificateRenewalHours", r, `must not exceed certificateValidityHours (${v})`);
}

/** Each node's existing host: an entry with an address and a pinned host key; the deploy key for a deployment. */
function checkExistingHosts(s: StackSettings, nodes: ScenarioNode[]): void {
    const hosts = s.hosts ?? {};
    if (typeof hosts !== "object" || Array.isArray(hosts)) throw new ValidationError("hosts", hosts, "expected an entry per node name, e.g. {\"db\": {address, hostKey}}");
    for (const n of nodes) {
        const h = hosts[n.name];
        if (!h) throw new Error(`zerotrust:hosts has no entry for '${n.name}': add { address, hostKey } for it`);
        checkHost(`hosts.${n.name}.address`, h.address);
        checkPinnedHostKey(`hosts.${n.name}.hostKey`, h.hostKey);
        if (h.port !== undefined) checkPort(`hosts.${n.name}.port`, h.port);
        if (h.user !== undefined) checkUserName(`hosts.${n.name}.user`, h.user);
    }
    if (!s.bootstrapSshSources) throw new Error("zerotrust:bootstrapSshSources is not set: list the deployer's underlay addresses");
    // A preview needs no key (nothing connects); a deployment does.
    if (s.sshPrivateKey === undefined && !pulumi.runtime.isDryRun()) {
        throw new Error("zerotrust:sshPrivateKey is not set: pulumi config set --secret zerotrust:sshPrivateKey < ~/.ssh/deploy_key");
    }
}

/**
 * Every check of the settings that needs neither the stack's last deployment nor a host: the
 * program runs it first. Reads this machine's routing table for a lab (a lab range must not be
 * routed already), and nothing else.
 */
export function checkSettings(stack: string, s: StackSettings): CheckedSettings {
    if (!["lab", "kvm", "existing"].includes(s.hostKind)) {
        throw new Error(`zerotrust:hostKind: ${JSON.stringify(s.hostKind)} is not valid: use "lab", "kvm" or "existing"`);
    }
    if (typeof s.sshOverMeshOnly !== "boolean") throw new ValidationError("sshOverMeshOnly", s.sshOverMeshOnly, "expected true or false");
    checkPositiveInt("rollbackSeconds", s.rollbackSeconds, 3600);
    const nodes = scenarioNodes(s);
    const retired = checkRetiredNodes(s.retiredNodes ?? [], nodes, SEED_GATEWAY.node);
    const keyGenerations = checkKeyGenerations(s.keyGenerations ?? {}, nodes, SEED_OPERATOR);
    const releases = checkReleases(s.releases ?? {}, nodes);
    const ipv6Only = checkIpv6OnlyNodes(s.ipv6OnlyNodes ?? [], nodes, s);
    (s.bootstrapSshSources ?? []).forEach((src, i) => checkSource(`bootstrapSshSources[${i}]`, src));
    if (s.hostKind === "existing") checkExistingHosts(s, nodes);
    if (s.hostKind === "kvm") {
        if (!s.kvm) throw new Error("zerotrust:kvm is not set: hostKind kvm needs { image, bridge, subnet } (see stacks/Pulumi.prod-kvm.yaml.example)");
        kvmHostArgs(nodes, { ...s.kvm, sshPrivateKey: s.sshPrivateKey, sshPublicKey: s.sshPublicKey });
    }
    // The ranges first, by their settings' names (the lab and the mesh name them after their own arguments).
    parseCidr("meshCidr", s.meshCidr);
    if (s.hostKind === "lab") {
        parseCidr("labSubnet", s.labSubnet ?? "10.213.7.0/24");
        checkLabNetwork(stack, { subnet: s.labSubnet, alsoUnrouted: [s.meshCidr, ...(s.meshCidr6 ? [s.meshCidr6] : [])], ...(s.labIPv6 ? { ipv6: true } : {}),
            ...(s.labSubnet6 ? { subnet6: s.labSubnet6 } : {}) });
    }
    const cas = checkCertificateAuthorities(stack, s.certificateAuthorities, s.issuingCa);
    checkRevokedClients(s.revokedClients ?? [], SEED_GATEWAY.clients);
    checkCertificateLifetime(s.certificateValidityHours, s.certificateRenewalHours);
    // The mesh's own checks of what the settings give it, planned without the last allocation (read
    // after this): the stack gives no explicit address, so that allocation keeps members where they
    // were and cannot make the plan fail.
    planMesh({
        cidr: s.meshCidr, ...(s.meshCidr6 ? { cidr6: s.meshCidr6 } : {}),
        nodes: nodes.map((n) => ({ ...n, keyGeneration: keyGenerations[n.name], ...(ipv6Only.includes(n.name) ? { ipv6Only: true } : {}) })),
        operators: [{ name: SEED_OPERATOR, tags: ["admin"], keyGeneration: keyGenerations[SEED_OPERATOR] }],
        clients: SEED_CLIENTS, rules: SEED_RULES, expect: SEED_EXPECT,
    });
    return { nodes, retired, keyGenerations, releases, ipv6Only, cas };
}
