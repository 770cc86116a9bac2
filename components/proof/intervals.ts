// Sets of ports (or addresses) as sorted, disjoint, non-adjacent closed intervals. The proof never
// walks ports one by one: every set it handles is a handful of intervals. Pure.

/** [first, last], both included. bigint so that IPv6 addresses fit as well as ports. */
export type Interval = [bigint, bigint];
export type IntervalSet = Interval[];

export const EMPTY: IntervalSet = [];

export function interval(first: bigint | number, last: bigint | number): IntervalSet {
    const a = BigInt(first), b = BigInt(last);
    return a <= b ? [[a, b]] : [];
}

/** Sorted, merged (overlapping and adjacent intervals joined). */
export function normalize(set: Interval[]): IntervalSet {
    const sorted = [...set].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const out: Interval[] = [];
    for (const [a, b] of sorted) {
        const last = out[out.length - 1];
        if (last && a <= last[1] + 1n) {
            if (b > last[1]) last[1] = b;
        } else {
            out.push([a, b]);
        }
    }
    return out;
}

export function union(...sets: IntervalSet[]): IntervalSet {
    const some = sets.filter((x) => x.length > 0);
    if (some.length === 0) return EMPTY;
    if (some.length === 1) return some[0]; // sets are never changed in place: sharing is safe
    return normalize(some.flat().map(([a, b]) => [a, b] as Interval));
}

export function intersect(x: IntervalSet, y: IntervalSet): IntervalSet {
    const out: Interval[] = [];
    let i = 0, j = 0;
    while (i < x.length && j < y.length) {
        const a = x[i][0] > y[j][0] ? x[i][0] : y[j][0];
        const b = x[i][1] < y[j][1] ? x[i][1] : y[j][1];
        if (a <= b) out.push([a, b]);
        if (x[i][1] < y[j][1]) i++; else j++;
    }
    return out;
}

export function subtract(x: IntervalSet, y: IntervalSet): IntervalSet {
    const out: Interval[] = [];
    for (const [a0, b] of x) {
        let a = a0;
        for (const [c, d] of y) {
            if (d < a || c > b) continue;
            if (c > a) out.push([a, c - 1n]);
            a = d + 1n;
            if (a > b) break;
        }
        if (a <= b) out.push([a, b]);
    }
    return out;
}

export function contains(set: IntervalSet, value: bigint): boolean {
    return set.some(([a, b]) => a <= value && value <= b);
}

export function equal(x: IntervalSet, y: IntervalSet): boolean {
    return x.length === y.length && x.every(([a, b], i) => a === y[i][0] && b === y[i][1]);
}

/** How many values the set holds. */
export function size(set: IntervalSet): bigint {
    return set.reduce((n, [a, b]) => n + (b - a + 1n), 0n);
}

/** The points where membership in one of `sets` can change, sorted: what `pieces` splits at. */
export function cutsOf(sets: IntervalSet[]): bigint[] {
    const cuts = new Set<bigint>();
    for (const s of sets) for (const [a, b] of s) { cuts.add(a); cuts.add(b + 1n); }
    return [...cuts].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

/**
 * Splits `within` at every cut (from cutsOf): inside each piece, membership in each of the sets
 * is the same for every value, so one value of the piece stands for all of it.
 */
export function pieces(within: IntervalSet, sortedCuts: bigint[]): IntervalSet {
    const out: Interval[] = [];
    for (const [a0, b] of within) {
        let a = a0;
        // The first cut above a, by bisection: a host address takes no walk over every cut.
        let lo = 0, hi = sortedCuts.length;
        while (lo < hi) { const mid = (lo + hi) >> 1; if (sortedCuts[mid] <= a) lo = mid + 1; else hi = mid; }
        for (let i = lo; i < sortedCuts.length; i++) {
            const c = sortedCuts[i];
            if (c > b) break;
            out.push([a, c - 1n]);
            a = c;
        }
        out.push([a, b]);
    }
    return out;
}

/** "22", "1000-2000", joined by ", ". */
export function formatPorts(set: IntervalSet): string {
    return set.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(", ");
}
