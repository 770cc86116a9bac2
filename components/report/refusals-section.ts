// The report's section of refused attempts (refusals.ts), laid out as the other sections are. Pure.
import type { Section } from "./sections";
import { RefusalReport, refusalWindow } from "./refusals";

export function refusalsSection(r: RefusalReport | undefined): Section {
    const base = { id: "refusals", title: "Refused attempts: who tried to reach what", tables: [], listings: [] };
    if (!r) return { ...base, text: ["Not read: the report was made without the hosts' logs."] };
    const window = refusalWindow(r.rows);
    const unread = r.hosts.filter((h) => h.state !== "read");
    return {
        ...base,
        text: [
            `Read ${r.readAt} over the deployer's pinned SSH path from ${r.hosts.length - unread.length} of ${r.hosts.length} hosts: ` +
                "each firewall's drop record (a day of dropped flows, and the records kept at each firewall change) and each gateway's access log " +
                "(the current file and the one before it).",
            window ? `${r.rows.length} refused flows or identities between ${window.from} and ${window.to}; ` +
                `the gateways let ${r.allowedRequests} requests through over the same logs.` : "Nothing was refused.",
            "A mesh source is named by its member (WireGuard binds its address to the member's key), an underlay source by its address, " +
                "a gateway client by its certificate's name.",
            ...unread.map((h) => `Not read from ${h.node}: ${h.state}.`),
        ],
        tables: r.rows.length ? [{
            head: ["Source", "Identified by", "Refused by", "Host", "Destination", "Reason", "Attempts", "First", "Last"],
            rows: r.rows.map((x) => [x.source, x.identifiedBy, x.refusedBy, x.host, x.destination, x.reason, String(x.attempts), x.first, x.last]),
        }] : [],
    };
}
