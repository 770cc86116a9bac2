// Text from the stack (names, rule text, scanner output) goes into markup only escaped.
const XML: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeXml(s: string): string {
    return s.replace(/[&<>"']/g, (c) => XML[c]);
}

/**
 * A Markdown table cell: pipes and line breaks would break the row, and Markdown passes markup
 * through, so angle brackets and ampersands become entities.
 */
export function escapeCell(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
        .replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();
}
