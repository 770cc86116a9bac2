// The host protocol's words, in one place: what the host scripts (remote/host/*.sh,
// remote/access-record.sh) print and keep where, as the TypeScript reads them, and the resource
// names and commands that the state readers (removal-check.ts, verify/applied.ts, verify/pending.ts)
// match. test/unit/host-protocol.test.ts checks each against the scripts and the components, so a
// change on one side alone fails a test. Pure.
import { GATEWAY_FILES } from "../render/nginx";
import { GATEWAY_LOGROTATE_FILE } from "../render/gateway-log";

// --- Where the host keeps things (lib.sh, the concern scripts) ---

/** lib.sh ZT_STATE: each concern's staging, snapshot, rollback mark and logs, under its own directory. */
export const HOST_STATE_DIR = "/var/lib/zerotrust";
/** wireguard.sh ZT_CUTOVER_DIR: the key cut-over's own state (a rollback of its own). */
export const CUTOVER_STATE_DIR = `${HOST_STATE_DIR}/wireguard-cutover`;
/** In a concern's directory: what the host's rollback timer wrote (lib.sh zt_rollback_if_armed). */
export const ROLLBACKS_LOG = "rollbacks.log";
/** firewall.sh and access-record.sh ZT_DROP_ARCHIVE: drop records kept when a new firewall loads. */
export const DROP_ARCHIVE_DIR = `${HOST_STATE_DIR}/firewall/drops`;
/** gateway.sh ZT_GW_PID: the gateway's nginx master, fixed so that a stop works without the config. */
export const GATEWAY_PID_FILE = "/run/zerotrust-gateway.pid";

/** Each concern's payload files: the keys of a request's `files`, the names of its script's zt_targets. */
export const PAYLOAD_FILES = {
    wireguard: { config: "wg.conf" },
    firewall: { ruleset: "firewall.nft" },
    ssh: { dropIn: "sshd.conf" },
    gateway: { ...GATEWAY_FILES, logrotate: GATEWAY_LOGROTATE_FILE },
} as const;
/** Where each target lands on the host (ZT_IFACE substituted for the WireGuard interface). */
export const TARGET_PATHS = {
    wireguard: (iface: string) => ({ [PAYLOAD_FILES.wireguard.config]: `/etc/wireguard/${iface}.conf` }),
    firewall: { [PAYLOAD_FILES.firewall.ruleset]: "/etc/zerotrust/firewall.nft" },
    ssh: { [PAYLOAD_FILES.ssh.dropIn]: "/etc/ssh/sshd_config.d/zerotrust.conf" },
    gateway: {
        ...Object.fromEntries(Object.values(GATEWAY_FILES).map((f) => [f, `/etc/zerotrust/gateway/${f}`])),
        [GATEWAY_LOGROTATE_FILE]: "/etc/logrotate.d/zerotrust-gateway",
    },
};
/** The key cut-over's payload (wireguard.sh zt_cutover_config): the new key, the deployer's peer line. */
export const CUTOVER_FILES = { key: "wg.key", deployerPeer: "deployer.peer" } as const;

// --- What an action answers: the last line of its stdout (lib.sh, wireguard.sh) ---

export const ANSWERS = {
    /** apply or cutover: the host already has it, nothing was touched. */
    unchanged: "unchanged",
    /** apply: swapped in and armed to roll back unless confirmed. */
    applied: "applied",
    confirmed: "confirmed",
    /** confirm: nothing armed (confirmed before, or never armed). */
    nothingToConfirm: "nothing to confirm",
    /** teardown. */
    removed: "removed",
    /** commit: the host keeps the staged key from now on. */
    committed: "committed",
} as const;

/** cutover: "switch at <epoch seconds>", when the host switches to the staged key. */
export const SWITCH_AT = /switch at (\d+)/;

/** confirm's refusals, on stderr: what an interrupted update's settlement tells apart. */
export const REFUSALS = {
    /** The host's timer restored the previous state before the confirmation came. */
    alreadyRolledBack: "already rolled back",
    /** Another payload's change is armed. */
    differentChange: "different change",
} as const;

/** check: the payload's state, then the host's, each headed by its marker line. */
export const CHECK_MARKERS = { expected: "=== expected", live: "=== live" } as const;

/** access-record.sh: its parts, each headed by "=== <part>" (the access counts follow on the line). */
export const ACCESS_RECORD = {
    head: "=== ",
    wireguard: "wireguard",
    dropsLive: "drops live",
    dropsArchive: "drops archive",
    accessAllowed: "access allowed",
    accessRefused: "access refused",
    end: "end",
} as const;

// --- Resource names and commands, as the stack's state holds them ---

export const NODE_TYPE = "zerotrust:index:ZeroTrustNode";
export const COMMAND_TYPE = "command:local:Command";
/** A node's commands are named `<node>-<part>`. */
export const CONCERN_PARTS = {
    bootstrap: "bootstrap",
    wireguard: "wireguard",
    firewall: "firewall",
    ssh: "ssh",
    keyCutover: "key-cutover",
    gateway: "gateway",
} as const;
export const concernResourceName = (owner: string, part: string): string => `${owner}-${part}`;

/** A node's WireGuard concern in a URN: the node's name (removal-check.ts). */
export const WIREGUARD_CONCERN_URN = new RegExp(`${NODE_TYPE}\\$${COMMAND_TYPE}::(.+)-${CONCERN_PARTS.wireguard}$`);
/** The driver's command line (zero-trust-node.ts driverCommand): which action it runs. */
export const DRIVER_COMMAND = /remote\/driver\.js (apply|teardown|cutover)$/;
