// The audit report looked at as a person would: the HTML page rendered by a real browser (Debian's
// Chromium, headless), with the picture checked for the diagram and the tables.
import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { chromium } from "playwright-core";
import { PNG } from "pngjs";
import type { ExecutionContext } from "ava";
import type { Page } from "playwright-core";
import { KIND_COLOURS, EDGE_COLOUR, MEMBER_EDGE_COLOUR } from "../../components/report/diagram";
import { layoutDiagram } from "../../components/report/diagram-layout";
import { AuditData, auditHtml, auditMarkdown } from "../../components/report";
import { auditSections } from "../../components/report/sections";
import { seedAuditData } from "./fixture";
import { mesh60AuditData } from "./fixture-60";

// As the machine notes say: without the background-networking flags Chromium tries Google's hosts.
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"];

function rgb(hex: string): [number, number, number] {
    return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

/** How many pixels of a PNG are (nearly) this colour. */
function pixelsOf(png: Buffer, hex: string): number {
    const image = PNG.sync.read(png);
    const [r, g, b] = rgb(hex);
    let n = 0;
    for (let i = 0; i < image.data.length; i += 4) {
        if (Math.abs(image.data[i] - r) < 8 && Math.abs(image.data[i + 1] - g) < 8 && Math.abs(image.data[i + 2] - b) < 8) n++;
    }
    return n;
}

/** How many pixels of a region of a PNG are dark (text). */
function darkPixels(image: PNG, r: { x: number; y: number; w: number; h: number }): number {
    let n = 0;
    for (let y = Math.max(0, Math.floor(r.y)); y < Math.min(image.height, Math.ceil(r.y + r.h)); y++) {
        for (let x = Math.max(0, Math.floor(r.x)); x < Math.min(image.width, Math.ceil(r.x + r.w)); x++) {
            const i = (y * image.width + x) * 4;
            if (image.data[i] < 100 && image.data[i + 1] < 100 && image.data[i + 2] < 100) n++;
        }
    }
    return n;
}

const VIEWPORT = { width: 1400, height: 1000 };

interface Box { x: number; y: number; w: number; h: number }
interface Geometry {
    svg: Box;
    column: Box;
    texts: (Box & { text: string; label: boolean })[];
    shapes: (Box & { tag: string })[];
    pairs: number[];
    members: number;
}

/**
 * The reach diagram as Chromium draws it, with the real font: no two texts overlap, nothing is
 * drawn outside the picture, the picture fits the page's column, text keeps a readable size, every
 * member and every allowed pair is there, and the screenshot shows each kind, both kinds of arrow
 * and the ink of every arrow's label. The PNG is kept beside the page for a person to look at.
 */
async function checkDiagram(t: ExecutionContext, page: Page, data: AuditData, png: string): Promise<void> {
    // Run in the page (the test's own script; the report has none). A string: this build has no DOM types.
    const geometry: Geometry = await page.evaluate(`(() => {
        const svg = document.querySelector("#reach-diagram");
        const box = (e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; };
        return {
            svg: box(svg),
            column: box(svg.closest("section")),
            texts: [...svg.querySelectorAll("text")].map((e) => ({ text: e.textContent, label: e.classList.contains("edge-label"), ...box(e) })),
            shapes: [...svg.querySelectorAll("rect, path, text")].filter((e) => !e.closest("defs")).map((e) => ({ tag: e.tagName, ...box(e) })),
            pairs: [...svg.querySelectorAll("g.edge")].map((e) => (e.getAttribute("data-pairs") || "").split(" ").filter(Boolean).length),
            members: svg.querySelectorAll("g.member").length,
        };
    })()`);
    const { svg } = geometry;
    t.true(svg.w >= 400 && svg.h >= 200, `drawn at a readable size: ${JSON.stringify(svg)}`);
    t.true(svg.x >= 0 && svg.x + svg.w <= VIEWPORT.width, "the picture is inside the window");
    t.true(svg.x + svg.w <= geometry.column.x + geometry.column.w + 1, `the picture fits the page's column: ${JSON.stringify(svg)} in ${JSON.stringify(geometry.column)}`);
    for (const s of geometry.shapes) {
        t.true(s.x >= svg.x - 0.5 && s.y >= svg.y - 0.5 && s.x + s.w <= svg.x + svg.w + 0.5 && s.y + s.h <= svg.y + svg.h + 0.5, `a ${s.tag} is drawn outside the picture: ${JSON.stringify(s)}`);
    }
    const texts = geometry.texts.filter((x) => x.text.trim() !== "");
    texts.forEach((a, i) => texts.slice(i + 1).forEach((b) => {
        const overlaps = a.x + 0.5 < b.x + b.w && b.x + 0.5 < a.x + a.w && a.y + 0.5 < b.y + b.h && b.y + 0.5 < a.y + a.h;
        t.false(overlaps, `"${a.text}" and "${b.text}" overlap: ${JSON.stringify(a)} ${JSON.stringify(b)}`);
    }));
    t.true(Math.min(...texts.map((x) => x.h)) >= 10, "no text is shrunk below a readable size");
    t.is(geometry.members, data.members.length, "every member is drawn");
    t.is(geometry.pairs.reduce((a, b) => a + b, 0), data.allowed.length, "every allowed pair is in exactly one drawn arrow or bundle");
    t.is(geometry.pairs.length, layoutDiagram(data.members, data.allowed).links.length);

    const picture = await page.locator("#reach-diagram").screenshot();
    writeFileSync(png, picture);
    for (const [kind, colour] of Object.entries(KIND_COLOURS)) {
        if (data.members.some((m) => m.kind === kind)) t.true(pixelsOf(picture, colour) > 1500, `${kind} boxes are drawn`);
    }
    t.true(pixelsOf(picture, EDGE_COLOUR) > 300, "arrows are drawn");
    const image = PNG.sync.read(picture);
    t.is(image.width, Math.round(svg.w));
    for (const l of geometry.texts.filter((x) => x.label)) {
        t.true(darkPixels(image, { x: l.x - svg.x, y: l.y - svg.y, w: l.w, h: l.h }) > 12, `the label "${l.text}" shows in the picture`);
    }
}

test("the HTML report renders in Chromium with the reach diagram and every table, fetches nothing and runs no script", async (t) => {
    const data = seedAuditData();
    const dir = mkdtempSync(join(tmpdir(), "zt-report-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "dev.html");
    writeFileSync(file, auditHtml(data));

    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: VIEWPORT });
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    t.deepEqual(requests, [`file://${file}`], "the page is self-contained");
    t.is(await page.locator("script").count(), 0, "text from the stack is escaped, never markup");
    t.regex(await page.locator("#scanners").innerText(), /gateway <script>alert\(1\)<\/script>/);

    await checkDiagram(t, page, data, join(dir, "dev-diagram.png"));

    // The tables: as many as the report has, each drawn with rows, and a drifted cell marked.
    const expectedTables = auditSections(data).reduce((n, s) => n + s.tables.length, 0);
    t.is(await page.locator("table").count(), expectedTables);
    for (const table of await page.locator("table").all()) {
        const b = await table.boundingBox();
        t.truthy(b && b.width > 100 && b.height > 20, "every table is drawn");
    }
    const summary = await page.locator("#summary table").screenshot();
    t.true(pixelsOf(summary, "#e8eef6") > 500, "the header row is drawn");
    const drifted = page.locator("#drift td.bad", { hasText: "drifted" });
    t.is(await drifted.count(), 1);
    t.true(pixelsOf(await drifted.screenshot(), "#f8d7d7") > 50, "a drifted concern stands out");
    t.regex(await page.locator("#measured").innerText(), /match/);

    const full = await page.screenshot({ fullPage: true });
    writeFileSync(join(dir, "dev.png"), full);
    t.true(PNG.sync.read(full).height > 2000, "a page of some length: every section laid out");
});

test("the diagram of a sixty-member mesh in Chromium: grouped and bundled, no text on another, nothing outside the picture, within the page", async (t) => {
    const data = mesh60AuditData();
    const dir = mkdtempSync(join(tmpdir(), "zt-report-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "prod.html");
    writeFileSync(file, auditHtml(data));
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(`file://${file}`);
    const png = process.env.ZT_DIAGRAM_PNG ?? join(dir, "prod-diagram.png");
    await checkDiagram(t, page, data, png);
    t.true(pixelsOf(await page.locator("#reach-diagram").screenshot(), MEMBER_EDGE_COLOUR) > 100, "the pairs that differ from their group are drawn");
    t.is(await page.locator("#reach-diagram g.group").count(), 14, "fourteen groups");
});

test("the Markdown report has the same sections and tables, and points at the diagram", (t) => {
    const data = seedAuditData();
    const md = auditMarkdown(data, "dev-reach.svg");
    for (const s of auditSections(data)) t.true(md.includes(`## ${s.title}\n`), s.title);
    t.true(md.includes("![who may reach whom](dev-reach.svg)"));
    t.regex(md, /^\| From \| To \| Ports \|$/m);
    t.regex(md, /^\| db \| firewall \| drifted \| \+ tcp dport 9999 accept \|$/m);
    t.true(md.includes("| gateway &lt;script&gt;alert(1)&lt;/script&gt; | FAIL |"), "markup from the stack is shown, not passed through");
    t.regex(md, /^\| app-1 \| db \| tcp\/5432 \| allow \| open \| match \|$/m);
});
