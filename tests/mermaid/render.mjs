// Render every .mmd under a folder with the real Mermaid in headless Chromium, as mermaid-cli
// (`mmdc`) does, and say per file whether it rendered and which notes' text does not fit the
// note's box. Writes each SVG under OUT_DIR and a JSON report on stdout:
//
//   node render.mjs NODE_MODULES CHROMIUM IN_DIR OUT_DIR  > report.json
//
// NODE_MODULES is where @mermaid-js/mermaid-cli and puppeteer are installed (outside this
// repo: see .ci/run). `mmdc` opens a new page and loads Mermaid afresh for every diagram,
// markdown input included, which costs most of a second each; here one page loads the Mermaid
// that mmdc itself depends on once, and calls `mermaid.render` on that same page for each
// file, with mmdc's defaults (empty config, white background, a bare container div).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

const [nodeModules, chromium, inDir, outDir] = process.argv.slice(2);
// The packages live outside this repository, so resolve them from their own folder; Mermaid
// from mermaid-cli's folder, so the version is the one mmdc renders with.
const require = createRequire(path.join(nodeModules, "..", "package.json"));
const puppeteer = require("puppeteer");
const cliDir = path.join(nodeModules, "@mermaid-js", "mermaid-cli");
const mermaidScript = [path.join(cliDir, "node_modules"), nodeModules]
  .map((dir) => path.join(dir, "mermaid", "dist", "mermaid.min.js"))
  .find((file) => existsSync(file));

// Slack for sub-pixel rounding between Mermaid's text measurement and ours.
const SLACK = 1;

async function mmdFiles(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".mmd")) {
      out.push(path.join(entry.parentPath ?? entry.path, entry.name));
    }
  }
  return out.sort();
}

// The next three functions run in the page (mermaidPage puts them there).

// Note lines whose text is wider than, or sticks out of, the note's box: Mermaid draws them
// spilling over the box's edges and the neighbouring lifelines.
function notesWiderThanBox(svgElement, slack) {
  const clipped = [];
  for (const rect of svgElement.querySelectorAll("rect.note")) {
    const left = rect.x.baseVal.value - slack;
    const right = rect.x.baseVal.value + rect.width.baseVal.value + slack;
    for (const text of rect.parentElement.querySelectorAll("text.noteText")) {
      const box = text.getBBox();
      if (box.x < left || box.x + box.width > right) {
        clipped.push({ text: text.textContent, textWidth: Math.round(box.width),
                       boxWidth: Math.round(rect.width.baseVal.value) });
      }
    }
  }
  return clipped;
}

// Texts (title, messages, notes, names) that reach past the picture's edges, where every
// viewer cuts them off.
function textsOutside(svgElement, slack) {
  const view = svgElement.viewBox.baseVal;
  const outside = [];
  for (const text of svgElement.querySelectorAll("text")) {
    const box = text.getBBox();
    if (box.width === 0) continue;
    if (box.x < view.x - slack || box.x + box.width > view.x + view.width + slack) {
      outside.push({ text: text.textContent, left: Math.round(box.x - view.x),
                     right: Math.round(box.x + box.width - view.x), pictureWidth: Math.round(view.width) });
    }
  }
  return outside;
}

// Render one diagram into the container, as mmdc does, and measure it there.
async function renderAndMeasure(definition, slack) {
  const container = document.getElementById("container");
  container.innerHTML = "";
  const { svg } = await window.mermaid.render("my-svg", definition, container);
  container.innerHTML = svg;
  const svgElement = container.querySelector("svg");
  return { svg: new XMLSerializer().serializeToString(svgElement),
           clipped: notesWiderThanBox(svgElement, slack), outside: textsOutside(svgElement, slack) };
}

async function mermaidPage(browser) {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><body style="background: white"><div id="container"></div></body></html>');
  await page.addScriptTag({ path: mermaidScript });
  await page.addScriptTag({ content: [notesWiderThanBox, textsOutside, renderAndMeasure].join("\n") });
  await page.evaluate(() => window.mermaid.initialize({ startOnLoad: false }));
  return page;
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // CI runs as root, where Chromium's sandbox refuses to start; the network is closed, so
    // background fetches only slow the start.
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const report = [];
  try {
    const page = await mermaidPage(browser);
    for (const file of await mmdFiles(inDir)) {
      const rel = path.relative(inDir, file);
      const item = { file: rel, error: null, clipped: [], outside: [] };
      try {
        const { svg, clipped, outside } = await page.evaluate(
          (definition, slack) => window.renderAndMeasure(definition, slack), await readFile(file, "utf8"), SLACK);
        const target = path.join(outDir, rel.replace(/\.mmd$/, ".svg"));
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, svg);
        item.clipped = clipped;
        item.outside = outside;
      } catch (err) {
        item.error = String(err && err.message ? err.message : err).slice(0, 2000);
      }
      report.push(item);
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(report, null, 1) + "\n");
}

await main();
