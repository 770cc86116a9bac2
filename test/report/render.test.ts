// The audit report looked at as a person would: the HTML page rendered by a real browser (Debian's
// Chromium, headless), with the picture checked for the diagram and the tables.
import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { chromium } from "playwright-core";
import { PNG } from "pngjs";
import { KIND_COLOURS, EDGE_COLOUR } from "../../components/report/diagram";
import { auditHtml, auditMarkdown } from "../../components/report";
import { auditSections } from "../../components/report/sections";
import { seedAuditData } from "./fixture";

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

test("the HTML report renders in Chromium with the reach diagram and every table, fetches nothing and runs no script", async (t) => {
    const data = seedAuditData();
    const dir = mkdtempSync(join(tmpdir(), "zt-report-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "dev.html");
    writeFileSync(file, auditHtml(data));

    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    t.deepEqual(requests, [`file://${file}`], "the page is self-contained");
    t.is(await page.locator("script").count(), 0, "text from the stack is escaped, never markup");
    t.regex(await page.locator("#scanners").innerText(), /gateway <script>alert\(1\)<\/script>/);

    // The diagram: drawn at a readable size, with every kind of member and the arrows in the picture.
    const diagram = page.locator("#reach-diagram");
    const box = await diagram.boundingBox();
    t.truthy(box && box.width >= 400 && box.height >= 400, JSON.stringify(box));
    const picture = await diagram.screenshot();
    for (const [kind, colour] of Object.entries(KIND_COLOURS)) t.true(pixelsOf(picture, colour) > 2000, `${kind} boxes are drawn`);
    t.true(pixelsOf(picture, EDGE_COLOUR) > 300, "arrows are drawn");
    t.is(await page.locator("#reach-diagram g.member").count(), data.members.length);
    t.is(await page.locator("#reach-diagram g.edge").count(), data.allowed.length);

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
