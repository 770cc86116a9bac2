// The seeds' scenario on a release lab: each host rooted in a Debian release's own file tree, so
// its sshd, bash, nft, wg and nginx are that release's. The gateway on Debian 11 (nginx 1.18,
// OpenSSH 8.4: the oldest); its peers on all three releases. release-lab-b has the gateway on 13.
import { seedScenarioTests } from "./seed-scenario";

seedScenarioTests({
    lab: "rla", meshCidr: "10.71.0.0/24", labSubnet: "10.213.70.0/24",
    releases: { gateway: "debian-11", "app-1": "debian-11", "app-2": "debian-12", db: "debian-13", "dev-box": "debian-13" },
});
