// The zerotrust program: one stack per environment. `dev` runs the seeds' scenario on lab hosts on
// this machine; `staging` and `prod` configure existing hosts (see Pulumi.<env>.yaml).
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { HostConnection, existingHost } from "../components/hosts/connection";
import { LabHost, LabNetwork, LabOperator } from "../components/hosts/lab";
import { MeshNetwork } from "../components/mesh-network";
import { allowMatrix } from "../components/policy";
import { ZeroTrustNode } from "../components/zero-trust-node";
import { SEED_EXPECT, SEED_NODES, SEED_OPERATOR, SEED_RULES, ScenarioNode } from "./seed-scenario";

const cfg = new pulumi.Config("zerotrust");
const stack = pulumi.getStack();
const hostKind = cfg.get("hostKind") ?? "lab";
const meshCidr = cfg.require("meshCidr");
const sshOverMeshOnly = cfg.getBoolean("sshOverMeshOnly") ?? false;
const rollbackSeconds = cfg.getNumber("rollbackSeconds") ?? 60;

// More app servers on request: the scenario grows without renumbering anyone.
const extraApps: ScenarioNode[] = Array.from({ length: cfg.getNumber("extraAppServers") ?? 0 },
    (_, i) => ({ name: `app-${i + 3}`, tags: ["app"] }));
const nodes = [...SEED_NODES, ...extraApps];

interface Placed {
    connection: HostConnection;
    endpoint: pulumi.Input<string>;
    underlay: pulumi.Input<string>;
}

let placed: Record<string, Placed>;
let bootstrapSshSources: string[];
let lab: LabNetwork | undefined;

if (hostKind === "lab") {
    lab = new LabNetwork(stack, { subnet: cfg.get("labSubnet"), alsoUnrouted: [meshCidr] });
    const deployerKey = new tls.PrivateKey("deployer-key", { algorithm: "ED25519" });
    placed = Object.fromEntries(nodes.map((n, i) => {
        const host = new LabHost(n.name, { network: lab!, address: lab!.addressFor(i), authorizedKey: deployerKey.publicKeyOpenssh });
        return [n.name, {
            connection: { ...host.connection, privateKey: deployerKey.privateKeyOpenssh },
            endpoint: `${host.address}:51820`,
            underlay: host.address,
        }];
    }));
    bootstrapSshSources = cfg.getObject<string[]>("bootstrapSshSources") ?? [lab.gatewayAddress];
} else if (hostKind === "existing") {
    const hosts = cfg.requireObject<Record<string, { address: string; hostKey: string; port?: number; user?: string }>>("hosts");
    // Preview runs offline without the key; a deployment needs it.
    const privateKey = cfg.getSecret("sshPrivateKey") ?? (pulumi.runtime.isDryRun()
        ? pulumi.secret("(zerotrust:sshPrivateKey is not set; `pulumi up` needs it)")
        : (() => { throw new Error("zerotrust:sshPrivateKey is not set: pulumi config set --secret zerotrust:sshPrivateKey < ~/.ssh/deploy_key"); })());
    placed = Object.fromEntries(nodes.map((n) => {
        const h = hosts[n.name];
        if (!h) throw new Error(`zerotrust:hosts has no entry for '${n.name}': add { address, hostKey } for it`);
        return [n.name, {
            connection: existingHost({ host: h.address, port: h.port, user: h.user, hostKey: h.hostKey, privateKey }),
            endpoint: `${h.address}:51820`,
            underlay: h.address,
        }];
    }));
    bootstrapSshSources = cfg.requireObject<string[]>("bootstrapSshSources");
} else {
    throw new Error(`zerotrust:hostKind: ${JSON.stringify(hostKind)} is not valid: use "lab" or "existing"`);
}

const mesh = new MeshNetwork(stack, {
    cidr: meshCidr,
    nodes: nodes.map((n) => ({ ...n, endpoint: placed[n.name].endpoint })),
    operators: [{ name: SEED_OPERATOR, tags: ["admin"] }],
    rules: SEED_RULES,
    expect: SEED_EXPECT,
});

// In the lab this machine is the operator peer; once SSH is mesh-only, it deploys over the mesh.
const operator = lab ? new LabOperator("operator", { network: lab, mesh, member: SEED_OPERATOR }) : undefined;

const configured = nodes.map((n) => new ZeroTrustNode(n.name, {
    mesh,
    connection: placed[n.name].connection,
    sshOverMeshOnly,
    bootstrapSshSources,
    rollbackSeconds,
}, { dependsOn: operator ? [operator.tunnel] : [] }));

export const hosts = Object.fromEntries(nodes.map((n, i) => [n.name, {
    underlay: placed[n.name].underlay,
    mesh: mesh.addresses[n.name],
    publicKey: mesh.members[n.name].publicKey,
    managedVia: configured[i].managementHost,
}]));
export const operatorAddress = mesh.addresses[SEED_OPERATOR];
export const operatorInterface = operator?.interfaceName;
export const labNamespaces = lab ? nodes.map((n) => `zt-${lab!.labName}-${n.name}`) : [];
export const policyMatrix = allowMatrix(mesh.plan.policy);
export const sshMode = sshOverMeshOnly ? "mesh-only (management peers over the mesh)" : "bootstrap (underlay sources and the mesh)";
