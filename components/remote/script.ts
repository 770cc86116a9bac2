// Composes the bash program a host runs for one concern: variables, the protocol library, the
// concern's functions and the payload as quoted here-documents. Pure; the whole program travels
// on stdin, so no value (secret or not) is ever part of a command line.
import { createHash, randomBytes } from "crypto";
import { readFileSync } from "fs";
import { assetPath } from "../assets";

export type Concern = "wireguard" | "firewall" | "ssh" | "gateway";
/**
 * apply, confirm and teardown change the host; check only reads it (see lib.sh zt_check); cutover
 * stages a WireGuard key that the host switches to by itself shortly after, and commit tells it the
 * deployer has recorded that key (see wireguard.sh).
 */
export type Action = "apply" | "confirm" | "teardown" | "check" | "cutover" | "commit";

function hostScript(name: string): string {
    return readFileSync(assetPath(`remote/host/${name}`), "utf8");
}

/** Identifies one version of a concern's payload: the same files give the same token. */
export function payloadToken(concern: Concern, files: Record<string, string>): string {
    const h = createHash("sha256").update(concern);
    for (const name of Object.keys(files).sort()) h.update(`\0${name}\0${files[name]}`);
    return h.digest("hex").slice(0, 16);
}

const SAFE_VALUE = /^[A-Za-z0-9._/:-]*$/;

function assignments(vars: Record<string, string | number>): string {
    return Object.entries(vars).map(([k, v]) => {
        const s = String(v);
        if (!/^ZT_[A-Z_]+$/.test(k) || !SAFE_VALUE.test(s)) throw new Error(`unsafe script variable ${k}`);
        return `${k}='${s}'`;
    }).join("\n");
}

function heredoc(name: string, content: string): string {
    if (!/^[a-z0-9.-]+$/.test(name)) throw new Error(`unsafe payload file name ${name}`);
    let tag: string;
    do tag = `ZT_PAYLOAD_${randomBytes(8).toString("hex")}`; while (content.split("\n").includes(tag));
    const body = content.endsWith("\n") ? content : content + "\n";
    return `zt_stage_file '${name}' <<'${tag}'\n${body}${tag}`;
}

export interface HostProgram {
    concern: Concern;
    action: Action;
    token: string;
    rollbackSeconds: number;
    /** Non-secret settings the concern script reads, e.g. ZT_IFACE. */
    vars: Record<string, string | number>;
    /** Payload files (apply and check). */
    files?: Record<string, string>;
}

export function composeHostProgram(p: HostProgram): string {
    const begin = { apply: "zt_stage_begin", cutover: "zt_stage_begin", check: "zt_check_begin" }[p.action as string];
    const staging = begin ? [begin, ...Object.entries(p.files ?? {}).map(([n, c]) => heredoc(n, c))] : [];
    return [
        "#!/bin/bash",
        "set -uo pipefail",
        "umask 077",
        assignments({ ZT_CONCERN: p.concern, ZT_ACTION: p.action, ZT_TOKEN: p.token, ZT_ROLLBACK_SECONDS: p.rollbackSeconds, ...p.vars }),
        hostScript("lib.sh"),
        // The WireGuard concern and the lab operator share the peer-by-peer update.
        ...(p.concern === "wireguard" ? [hostScript("wg-update.sh")] : []),
        hostScript(`${p.concern}.sh`),
        ...staging,
        "zt_main",
        "",
    ].join("\n");
}
