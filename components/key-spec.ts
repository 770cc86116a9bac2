// The tls.PrivateKey arguments for an algorithm name. ECDSA is always P-256: the provider's
// default curve is P-224, which browsers and nginx's modern profile do not accept.
import { ValidationError } from "./validate";

export interface KeySpec {
    algorithm: "ECDSA" | "RSA";
    ecdsaCurve?: "P256";
    rsaBits?: number;
}

export function caKeySpec(field: string, algorithm: string, rsaBits: number): KeySpec {
    if (algorithm === "ECDSA") return { algorithm: "ECDSA", ecdsaCurve: "P256" };
    if (algorithm === "RSA") {
        if (![2048, 3072, 4096].includes(rsaBits)) {
            throw new ValidationError("rsaBits", rsaBits, "use 2048, 3072 or 4096");
        }
        return { algorithm: "RSA", rsaBits };
    }
    throw new ValidationError(field, algorithm, "use \"ECDSA\" (P-256) or \"RSA\"");
}
