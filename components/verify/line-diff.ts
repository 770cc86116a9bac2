// A line diff (longest common subsequence): what the stack applied against what a host has,
// changed lines only, in order, "- " for a line only the stack has and "+ " for one only the host has.

export function lineDiff(expected: string[], live: string[]): string[] {
    const n = expected.length;
    const m = live.length;
    // common[i][j]: length of the longest common subsequence of expected[i..] and live[j..].
    const common = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
        for (let j = m - 1; j >= 0; j--) {
            common[i][j] = expected[i] === live[j] ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
        }
    }
    const out: string[] = [];
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && expected[i] === live[j]) {
            i++;
            j++;
        } else if (j >= m || (i < n && common[i + 1][j] >= common[i][j + 1])) {
            out.push(`- ${expected[i++]}`);
        } else {
            out.push(`+ ${live[j++]}`);
        }
    }
    return out;
}
