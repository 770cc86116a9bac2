// An inline program (Automation API) runs in the test's own process: a resource that fails, or a
// program that refuses to run, rejects promises here that the engine already reports as the
// update's error. Those matching `expected` are collected instead of failing the test file (ava
// counts unhandled rejections); any other rejection still fails it.
import { ExecutionContext } from "ava";

export function collectRejections(t: ExecutionContext, expected: RegExp): () => string[] {
    const seen: string[] = [];
    const others = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    const collect = (reason: unknown, promise: Promise<unknown>) => {
        const message = reason instanceof Error ? reason.message : String(reason);
        if (expected.test(message)) seen.push(message);
        else for (const l of others) l(reason, promise);
    };
    process.on("unhandledRejection", collect);
    t.teardown(() => {
        process.removeListener("unhandledRejection", collect);
        for (const l of others) process.on("unhandledRejection", l);
    });
    return () => seen;
}
