// Checks web pages in headless Chromium: axe-core's WCAG 2.x A/AA rules at a desktop and a
// 320 px phone width, sideways scrolling at 320 px, and that the page loads nothing but itself.
//
//   node check.mjs [--screenshots DIR] PAGE.html [PAGE.html …]
//
// Prints one JSON object: {"PAGE.html": {violations, incomplete, requests, scrollWidth,
// markings, fontsLoaded, brokenImages}, …}. Exits 0 when it could check every page (the verdict is
// the caller's: tests/test_html_render.py), 1 when it could not.
//
// Chromium is Debian's (/usr/bin/chromium, or $CHROMIUM), run without the network services
// it would otherwise start: this machine and CI have no internet, and they stall it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
const WIDTHS = [1280, 320];

const args = process.argv.slice(2);
let shotDir = null;
if (args[0] === "--screenshots") {
  shotDir = args[1];
  args.splice(0, 2);
}
if (!args.length) {
  console.error("usage: node check.mjs [--screenshots DIR] PAGE.html …");
  process.exit(1);
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "axe-chromium-"));
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  userDataDir: profile,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function checkPage(file) {
  const page = await browser.newPage();
  const url = pathToFileURL(path.resolve(file)).href;
  // Anything but the page itself and data: URIs would be a file the page needs beside it
  // (or a request to the internet): record it and refuse it.
  const requests = [];
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    const target = req.url();
    if (target === url || target.startsWith("data:")) {
      req.continue();
    } else {
      requests.push(target);
      req.abort();
    }
  });
  const result = { violations: [], incomplete: [], requests, scrollWidth: null, markings: [], fontsLoaded: null,
                   brokenImages: [] };
  for (const width of WIDTHS) {
    await page.setViewport({ width, height: 900 });
    await page.goto(url, { waitUntil: "load" });
    await page.evaluate(() => document.fonts.ready);
    await page.evaluate(AXE_SOURCE);
    const axe = await page.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] }),
      TAGS);
    for (const kind of ["violations", "incomplete"]) {
      for (const v of axe[kind]) {
        result[kind].push({ width, id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary || "" })) });
      }
    }
    if (width === 320) {
      result.scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      // Where a phone shows each NOT FOR PUBLICATION marking (CSS pixels from the page top).
      result.markings = await page.evaluate(() => [...document.querySelectorAll(".marking")].map((e) => {
        const box = e.getBoundingClientRect();
        return { text: e.innerText, top: box.top + window.scrollY, height: box.height };
      }));
    } else {
      result.fontsLoaded = await page.evaluate(() =>
        [...document.fonts].filter((f) => f.status === "loaded").map((f) => `${f.family} ${f.weight} ${f.style}`));
      result.brokenImages = await page.evaluate(() =>
        [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.alt));
    }
    if (shotDir) {
      const name = `${path.basename(file, ".html")}-${width}.png`;
      await page.screenshot({ path: path.join(shotDir, name), fullPage: true });
    }
  }
  await page.close();
  return result;
}

let status = 0;
const report = {};
try {
  for (const file of args) {
    report[file] = await checkPage(file);
  }
} catch (err) {
  console.error(String(err && err.stack || err));
  status = 1;
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report, null, 1) + "\n");
process.exit(status);
