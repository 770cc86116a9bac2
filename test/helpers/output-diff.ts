// Where two values of a stack's outputs differ, path by path (pure): what a preview's output diff
// shows. Lists are compared by position, as the engine's display compares them, so a list of named
// things that gains an entry in the middle differs at every position after it.

export interface OutputChange {
    /** Keys from the output's name down ("auditPolicy", "members", "app-3"); list positions as "[3]". */
    path: string[];
    before: unknown;
    after: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function outputChanges(before: unknown, after: unknown, path: string[] = []): OutputChange[] {
    if (Array.isArray(before) && Array.isArray(after)) {
        return Array.from({ length: Math.max(before.length, after.length) }, (_, i) => outputChanges(before[i], after[i], [...path, `[${i}]`])).flat();
    }
    if (isRecord(before) && isRecord(after)) {
        return [...new Set([...Object.keys(before), ...Object.keys(after)])].sort().flatMap((k) => outputChanges(before[k], after[k], [...path, k]));
    }
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before, after }];
}

/** "auditPolicy.members.app-3", "x[2]" (pure). */
export const formatPath = (path: string[]) => path.reduce((text, k) => (k.startsWith("[") || text === "" ? text + k : `${text}.${k}`), "");
