// The stack entry point: reads the stack's configuration (Pulumi.yaml's defaults, which are the dev
// stack, and stacks/Pulumi.<env>.yaml) and builds the program. `pulumi up -s dev` runs the seeds'
// scenario on lab hosts on this machine. An async program: the settings are checked first, and the
// checks that need the stack's last deployment run before any resource is registered
// (stackProgram in program.ts).
import * as pulumi from "@pulumi/pulumi";
import { readSettings, stackProgram } from "./program";

export = () => stackProgram(pulumi.getStack(), readSettings(new pulumi.Config("zerotrust")));
