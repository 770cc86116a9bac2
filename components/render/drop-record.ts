// The firewall's record of what it dropped: for each flow the input chain drops (interface,
// source, destination, protocol, destination port), nft keeps an element in a set of its own, with
// a packet counter, that expires a day after it was made. One set of each family holds the first
// drop of a flow ("add" leaves an element's timeout alone) and the count; its twin holds the last
// drop ("update" restarts the timeout). `nft -j list set` reads them on any host, in any network
// namespace, with no daemon, no journal and no machine-wide setting (the kernel log, by contrast,
// is silent in a network namespace unless net.netfilter.nf_log_all_netns is set for the whole
// machine). A flood cannot grow them past their size: once full, drops go unrecorded, not undropped.
// Pure.

export const DROP_RECORD_TIMEOUT_SECONDS = 86400;
export const DROP_RECORD_SIZE = 65536;

/** The sets, by family: first drop and count, and last drop. */
export const DROP_SETS = {
    4: { first: "drops4", last: "drops4_last" },
    6: { first: "drops6", last: "drops6_last" },
} as const;

/** The ports-less protocols (ICMP, ...) are recorded with port 0. */
const PORTED = "{ tcp, udp }";

function setBlock(name: string, family: 4 | 6): string[] {
    const addr = family === 4 ? "ipv4_addr" : "ipv6_addr";
    return [
        `\tset ${name} {`,
        `\t\ttype ifname . ${addr} . ${addr} . inet_proto . inet_service`,
        `\t\tsize ${DROP_RECORD_SIZE}`,
        "\t\tflags dynamic,timeout",
        `\t\ttimeout ${DROP_RECORD_TIMEOUT_SECONDS}s`,
        "\t}",
    ];
}

export function dropRecordSets(): string[] {
    return ([4, 6] as const).flatMap((f) => [...setBlock(DROP_SETS[f].first, f), ...setBlock(DROP_SETS[f].last, f)]);
}

/** The input chain's last rules, just before its policy drops the packet. */
export function dropRecordRules(): string[] {
    return ([4, 6] as const).flatMap((f) => {
        const ip = f === 4 ? "ip" : "ip6";
        const key = (port: string) => `iifname . ${ip} saddr . ${ip} daddr . meta l4proto . ${port}`;
        const { first, last } = DROP_SETS[f];
        return [
            `\t\tmeta nfproto ipv${f} meta l4proto ${PORTED} add @${first} { ${key("th dport")} counter }`,
            `\t\tmeta nfproto ipv${f} meta l4proto ${PORTED} update @${last} { ${key("th dport")} }`,
            `\t\tmeta nfproto ipv${f} meta l4proto != ${PORTED} add @${first} { ${key("0")} counter }`,
            `\t\tmeta nfproto ipv${f} meta l4proto != ${PORTED} update @${last} { ${key("0")} }`,
        ];
    });
}
