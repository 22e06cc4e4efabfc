/**
 * npm run bench -- report-charts <report.html>: what a chart library would add to the HTML report
 * (`sparkjobs report`). The report as it is (charts as inline SVG, no script) against the same
 * page with each library's minified build inlined, as a self-contained report would have to carry
 * it: the file's size, and the time headless Chromium takes to load it (median of --reps loads,
 * the pages taken in turn). The libraries only load here, they draw nothing: each figure is the
 * least that library would cost. Writes docs/report-charts.md; the packages are fetched once with
 * npm pack under ~/.cache/sparkjobs/bench/chart-libraries/.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { cacheDir } from "../submitter/src/env/where.js";

const repo = join(import.meta.dirname, "..", "..");
const LIBRARIES: { name: string; packages: string[]; files: string[] }[] = [
  { name: "inline SVG (no library)", packages: [], files: [] },
  { name: "uPlot 1.6.32", packages: ["uplot@1.6.32"], files: ["uplot/dist/uPlot.iife.min.js"] },
  { name: "Vega 5.33 + Vega-Lite 5.23 + vega-embed 6.29", packages: ["vega@5.33.0", "vega-lite@5.23.0", "vega-embed@6.29.0"], files: ["vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js"] },
  { name: "ECharts 5.6.0", packages: ["echarts@5.6.0"], files: ["echarts/dist/echarts.min.js"] },
];

function fetched(dir: string, spec: string): string {
  const name = spec.slice(0, spec.lastIndexOf("@"));
  const folder = join(dir, name);
  if (!existsSync(join(folder, "package.json"))) {
    mkdirSync(folder, { recursive: true });
    const tgz = execFileSync("npm", ["pack", "--silent", spec], { cwd: dir, encoding: "utf8" }).trim().split("\n").at(-1)!;
    execFileSync("tar", ["xzf", join(dir, tgz), "-C", folder, "--strip-components=1"]);
  }
  return folder;
}

async function main() {
  const args = process.argv.slice(2);
  const reportFile = args.find((a) => !a.startsWith("--"));
  if (!reportFile) throw new Error("usage: npm run bench -- report-charts <report.html> [--reps 7] (a report: sparkjobs report <run>)");
  const reps = Number(args[args.indexOf("--reps") + 1] ?? 7) || 7;
  const chromium = process.env.SPARKJOBS_CHROMIUM ?? (existsSync("/usr/lib/chromium/chromium") ? "/usr/lib/chromium/chromium" : "chromium");
  const dir = join(cacheDir(), "bench", "chart-libraries");
  mkdirSync(dir, { recursive: true });
  // The report without its policy against scripts, so that a library may run.
  const report = readFileSync(reportFile, "utf8").replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, "");
  const pages = LIBRARIES.map((lib, i) => {
    const code = lib.files.map((f) => {
      const [pkg, ...rest] = f.split("/");
      const spec = lib.packages.find((p) => p.startsWith(`${pkg}@`))!;
      return readFileSync(join(fetched(dir, spec), ...rest), "utf8");
    });
    const html = report.replace("</head>", `${code.map((c) => `<script>${c.replace(/<\/script/gi, "<\\/script")}</script>`).join("")}</head>`);
    const path = join(dir, `page-${i}.html`);
    writeFileSync(path, html);
    return { ...lib, path, bytes: Buffer.byteLength(html), libraryBytes: code.reduce((s, c) => s + Buffer.byteLength(c), 0), ms: [] as number[] };
  });
  const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    for (let r = 0; r < reps; r++) {
      for (const p of pages) {
        const page = await browser.newPage();
        const t0 = performance.now();
        await page.goto(`file://${p.path}`, { waitUntil: "load" });
        p.ms.push(performance.now() - t0);
        await page.close();
      }
    }
  } finally {
    await browser.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = pages[0]!;
  const lines = [
    "# Charts in the HTML report: inline SVG or a library",
    "",
    `Written by \`npm run bench -- report-charts ${reportFile.replace(/^.*\//, "<root>/reports/")}\` (bench/report-charts.ts), ${new Date().toISOString()}, ${cpus().length} cores,`,
    `headless Chromium (${execFileSync(chromium, ["--version"], { encoding: "utf8" }).trim()}). The report as \`sparkjobs report\` writes it, against the same`,
    "page with each library's minified build inlined (a self-contained file must carry it). The libraries only load: they draw",
    `nothing, so each row is the least that library adds. Load time: median of ${reps} loads, the pages taken in turn.`,
    "",
    "| charts drawn with | library (bytes) | file (bytes) | file / inline SVG | load (ms, median) | load / inline SVG | every load (ms) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...pages.map((p) => `| ${p.name} | ${p.libraryBytes.toLocaleString("en-US")} | ${p.bytes.toLocaleString("en-US")} | ${(p.bytes / base.bytes).toFixed(2)} | ${median(p.ms).toFixed(0)} | ${(median(p.ms) / median(base.ms)).toFixed(2)} | ${p.ms.map((m) => m.toFixed(0)).join(", ")} |`),
    "",
    "The report's charts are bars and intervals with their values written beside them: inline SVG draws them with no",
    "script at all (the page forbids scripts and requests), in the smallest file and the shortest load. uPlot is small but",
    "draws time series, not these; Vega-Lite and ECharts would draw them and more, for 0.8 to 1 MB in every report.",
    "",
  ];
  writeFileSync(join(repo, "docs", "report-charts.md"), lines.join("\n"));
  process.stderr.write(`[bench] wrote docs/report-charts.md\n${lines.slice(7, 7 + pages.length + 2).join("\n")}\n`);
}

main().catch((e) => {
  process.stderr.write(`[bench] ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
