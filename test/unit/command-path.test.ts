// How commands name the package's files (assets.ts commandPath), pure: relative to the program's
// working directory (where local.Command runs), the same from any checkout; absolute outside the project.
import test from "ava";
import { commandPath } from "../../components/assets";

test("inside the project: relative to the program's directory, the same for two checkouts at different paths", (t) => {
    for (const root of ["/home/alice/zerotrust", "/ci/clone/of/zerotrust"]) {
        // This repository: main is build/stacks/index.js, so the program (and the provider) run there.
        t.is(commandPath(`${root}/components/hosts/lab/network.sh`, root, `${root}/build/stacks`), "../../components/hosts/lab/network.sh");
        t.is(commandPath(`${root}/build/components/remote/driver.js`, root, `${root}/build/stacks`), "../components/remote/driver.js");
        // A user's program with main at its root, the package under node_modules.
        t.is(commandPath(`${root}/node_modules/@zerotrust/components/build/components/remote/driver.js`, root, root),
            "./node_modules/@zerotrust/components/build/components/remote/driver.js");
    }
});

test("outside the project (an inline program's temporary project, a linked package): the absolute path", (t) => {
    t.is(commandPath("/work/main/components/hosts/lab/host.sh", "/tmp/zt-engine-x", "/work/main"), "/work/main/components/hosts/lab/host.sh");
    t.is(commandPath("/work/zerotrust-other/x.sh", "/work/zerotrust", "/work/zerotrust"), "/work/zerotrust-other/x.sh", "a sibling whose name starts the same");
});
