// The seeds' scenario on lab hosts that run this machine's own programs (see seed-scenario.ts).
import { seedScenarioTests } from "./seed-scenario";

seedScenarioTests({ lab: "e2e", meshCidr: "10.76.0.0/24", labSubnet: "10.213.8.0/24" });
