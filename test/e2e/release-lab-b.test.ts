// The seeds' scenario on a release lab (see release-lab-a): the gateway on Debian 13 (nginx 1.26,
// OpenSSH 10.0 with ML-KEM), db on Debian 11. Debian 12's gateway is lab-mesh's (this machine's).
import { seedScenarioTests } from "./seed-scenario";

seedScenarioTests({
    lab: "rlb", meshCidr: "10.72.0.0/24", labSubnet: "10.213.71.0/24",
    releases: { gateway: "debian-13", "app-1": "debian-13", "app-2": "debian-11", db: "debian-11", "dev-box": "debian-12" },
});
