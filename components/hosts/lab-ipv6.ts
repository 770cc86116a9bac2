// A lab's IPv6 underlay, pure: a ULA /64 of its own (RFC 4193: fd + a 40-bit global ID, here the
// hash of the lab's name, and subnet 1), and its host addresses. Never fd00::/64, which machines
// like this one use for themselves; the range is also checked against the machine's routes (lab.ts).
import { createHash } from "crypto";
import { Cidr6, cidr6Contains, formatIPv6, parseIPv6 } from "../ipv6";
import { ValidationError, checkIPv6, parseCidr6 } from "../validate";

const ULA = { network: parseIPv6("fd00::")!, prefix: 8, text: "fd00::/8" };
const FORBIDDEN = "fd00::/64";

/** The lab's own ULA /64, from its name: fdXX:XXXX:XXXX:1::/64 (the same name, the same range). */
export function labUlaSubnet(labName: string): string {
    const id = createHash("sha256").update(`zerotrust lab ${labName}`).digest();
    const group = (i: number) => id.readUInt16BE(i).toString(16);
    return `${formatIPv6(parseIPv6(`fd${id.toString("hex", 0, 1)}:${group(1)}:${group(3)}:1::`)!)}/64`;
}

/** A lab's IPv6 range: a /64 inside fd00::/8 (locally assigned ULA), not fd00::/64. */
export function checkLabSubnet6(field: string, value: unknown): Cidr6 {
    const cidr = parseCidr6(field, value);
    if (cidr.prefix !== 64) throw new ValidationError(field, value, "use a /64, such as fd12:3456:789a:1::/64");
    if (cidr.text === FORBIDDEN) throw new ValidationError(field, value, "fd00::/64 is where machines like this one put their own addresses; choose a random ULA /64 (fdXX:XXXX:XXXX:YYYY::/64)");
    if (!cidr6Contains(ULA, cidr.network)) throw new ValidationError(field, value, "a lab range must be a locally assigned ULA inside fd00::/8, such as fd12:3456:789a:1::/64");
    return cidr;
}

/** The host address at `index`: ::10, ::11, ... (as IPv4 hosts get .10, .11). */
export function hostAddress6At(field: string, subnet6: string, index: number): string {
    return formatIPv6(checkLabSubnet6(field, subnet6).network + BigInt(`0x${10 + index}`));
}

/** A host's given IPv6 address, checked to be a host address inside the lab's range; returned canonical. */
export function checkLabAddress6(field: string, value: unknown, subnet6: string): string {
    const address = checkIPv6(field, value);
    const subnet = checkLabSubnet6("subnet6", subnet6);
    const n = parseIPv6(address)!;
    if (!cidr6Contains(subnet, n) || n === subnet.network) throw new ValidationError(field, value, `must be a host address inside the lab's IPv6 range ${subnet.text}`);
    return address;
}

/** The machine's own address on the lab bridge: ::1 of the range. */
export function gatewayAddress6(subnet6: string): string {
    return formatIPv6(parseCidr6("subnet6", subnet6).network + 1n);
}
