/**
 * The precision-marketing pipeline: generate -> customer-segmentation (clean, features, segments)
 * -> customer-pca -> response -> score -> uplift -> score-uplift -> target (response and uplift basis)
 * -> recommend -> basket-rules -> clv -> kpis in one command, each step reading the earlier steps'
 * outputs and models through their manifests, all in one Spark application. The other test files
 * share these runs: the first that needs one runs this same pipeline (helpers' ensure*), and every
 * later run of a step with the same run id and parameters reuses it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { describe, expect, it } from "vitest";
import { cli, cliJson, ensureGenerated, GEN, manifestOf, PIPELINE, PRECISION_MARKETING, readOutput, root, TARGET_BUDGET, writeProductJobs } from "./helpers.js";

const ARGS = PRECISION_MARKETING;

/** Debian's Chromium (bootstrap.sh --with-browser installs it), or SPARKJOBS_CHROMIUM. */
function chromium(): string {
  const candidates = [process.env.SPARKJOBS_CHROMIUM, "/usr/lib/chromium/chromium", ...(process.env.PATH ?? "").split(":").map((d) => join(d, "chromium"))];
  const found = candidates.find((c): c is string => !!c && existsSync(c));
  if (!found) throw new Error("Chromium was not found: run bash scripts/bootstrap.sh --with-browser (apt-get install chromium), or set SPARKJOBS_CHROMIUM");
  return found;
}
const STEPS = ["generate", "segments", "pca", "response", "score", "uplift", "score_uplift", "target", "target_uplift", "recommend", "basket_rules", "clv", "kpis"];

describe("pipeline precision-marketing", () => {
  it("runs every step in order, each step's plan reading the earlier steps' outputs", async () => {
    const { result, json } = cliJson(ARGS);
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    expect(json.status).toBe("succeeded");
    expect(json.steps.map((s: any) => [s.name, s.runId, s.status])).toEqual(STEPS.map((s) => [s, `${PIPELINE}.${s}`, "succeeded"]));
    console.log(`pipeline: ${json.steps.map((s: any) => `${s.name} ${(s.durationMs / 1000).toFixed(0)} s${s.reused ? " (reused)" : ""}`).join(", ")}`);
    // Every input of every step's plan is an output of an earlier step, and every model it loads was
    // saved by an earlier step, as that step's manifest lists them.
    const outputs = new Map<string, string>();
    const models = new Map<string, string>();
    const plans = new Map<string, any>();
    for (const step of STEPS) {
      const manifest = await manifestOf(root(), `${PIPELINE}.${step}`);
      const plan = JSON.parse(readFileSync(join(root(), "stage", "plans", `${manifest.planSha256}.json`), "utf8"));
      plans.set(step, plan);
      for (const input of plan.inputs) expect([...outputs.values()], `${step}: ${input.name}`).toContain(input.uri);
      for (const model of plan.models) expect([...models.values()], `${step}: ${model.name}`).toContain(model.uri);
      for (const [name, out] of Object.entries<any>(manifest.outputs)) outputs.set(`${step}.${name}`, out.uri);
      for (const [name, model] of Object.entries<any>(manifest.models ?? {})) models.set(`${step}.${name}`, model.uri);
    }
    const loads = (step: string) => plans.get(step).models.map((m: any) => m.uri);
    expect(loads("score")).toEqual([models.get("response.response_gbt")]);
    expect(loads("score_uplift")).toEqual([models.get("uplift.uplift_treatment"), models.get("uplift.uplift_control")]);
    const target = json.steps.find((s: any) => s.name === "target");
    expect(target.checks).toEqual([
      { name: "within_budget", passed: true, outcome: "ok", detail: expect.stringMatching(new RegExp(`<= ${TARGET_BUDGET}\\)$`)) },
      { name: "target_list_key_unique", passed: true, outcome: "ok", detail: "every (customer_id) of target_list is on one row" },
    ]);
  });

  it("its report: a section per step, charts drawn from the manifests and outputs, nothing fetched", async () => {
    const { result, json } = cliJson(["report", PIPELINE, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(json.runs).toEqual(STEPS.map((s) => `${PIPELINE}.${s}`));
    const html = readFileSync(json.report, "utf8");
    expect(json.report).toBe(join(root(), "reports", `${PIPELINE}.html`));
    expect(html).not.toMatch(/<script|<link|<img|src=|https?:\/\//i);
    const section = (step: string) => html.split(`<section id="run-${PIPELINE}.${step}"`)[1]!.split("</section>")[0]!;
    const chart = (step: string, name: string) => section(step).split(`data-chart="${name}"`)[1]!.split("</figure>")[0]!;
    const values = (svg: string) => [...svg.matchAll(/class="value">([^<]+)</g)].map((m) => m[1]!);
    // Segment sizes: the segment_profiles output, read here, largest first.
    const seg = await manifestOf(root(), `${PIPELINE}.segments`);
    const profiles = await readOutput(seg.outputs.segment_profiles);
    expect(values(chart("segments", "segment-sizes"))).toEqual(profiles.map((r) => Number(r.customers)).sort((a, b) => b - a).map((n) => n.toLocaleString("en-US")));
    expect(profiles.reduce((sum, r) => sum + Number(r.customers), 0)).toBe(GEN.customers);
    // The GBT's AUC, as the response manifest holds it.
    const response = await manifestOf(root(), `${PIPELINE}.response`);
    expect(values(chart("response", "auc-response"))[0]).toBe(response.metrics.response.models.gbt.auc.toFixed(4));
    // One campaign's A/B lift and interval, from the ab_tests output read here.
    const kpis = await manifestOf(root(), `${PIPELINE}.kpis`);
    const ab = (await readOutput(kpis.outputs.ab_tests)).find((r) => r.campaign_id === "CMP-1")!;
    expect(chart("kpis", "ab-tests")).toContain(`>${Number(ab.lift).toFixed(4)} [${Number(ab.ci_low).toFixed(4)}, ${Number(ab.ci_high).toFixed(4)}]<`);
    // The targeting list's expected ROI.
    const target = await manifestOf(root(), `${PIPELINE}.target`);
    expect(section("target")).toContain(`<td class="num">${target.metrics.target[0].expected_roi.toFixed(2)}</td>`);
  });

  it("its report in headless Chromium: every chart drawn, no console message, no request but the file itself", async () => {
    const { result, json } = cliJson(["report", PIPELINE, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const browser = await puppeteer.launch({ executablePath: chromium(), headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const page = await browser.newPage();
      const messages: string[] = [];
      const requests: string[] = [];
      page.on("console", (m) => messages.push(`${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => messages.push(`page error: ${String(e)}`));
      page.on("request", (r) => requests.push(r.url()));
      const started = Date.now();
      await page.goto(`file://${json.report}`, { waitUntil: "load" });
      const loadMs = Date.now() - started;
      // Each chart as laid out: its size, and the bars and points it shows at a size above zero.
      const charts = await page.$$eval("figure.chart", (figs) => figs.map((f) => {
        const svg = f.querySelector("svg")!;
        const box = svg.getBoundingClientRect();
        const marks = [...svg.querySelectorAll("rect,circle")].filter((m) => m.getBoundingClientRect().width > 0).length;
        return { name: (f as HTMLElement).dataset.chart!, width: box.width, height: box.height, marks };
      }));
      const shown = (selector: string) => page.$$eval(selector, (els) => els.map((el) => el.textContent ?? ""));
      const sizes = await shown('section[id$=".segments"] figure[data-chart="segment-sizes"] text.value');
      const auc = (await shown('section[id$=".response"] figure[data-chart="auc-response"] text.value'))[0];
      const lifts = await shown('section[id$=".kpis"] figure[data-chart="ab-tests"] text.value');
      const roi = (await shown('section[id$=".target"] table[data-table="targeting"] td')).at(-1);
      console.log(`report in Chromium: ${charts.length} charts, loaded in ${loadMs} ms, ${json.bytes} bytes; segment sizes shown ${sizes.join(", ")}`);
      expect(messages).toEqual([]);
      expect(requests).toEqual([`file://${json.report}`]);
      expect(charts.length).toBeGreaterThanOrEqual(STEPS.length);
      for (const c of charts) {
        expect(c.width, c.name).toBeGreaterThan(200);
        expect(c.height, c.name).toBeGreaterThan(20);
        expect(c.marks, c.name).toBeGreaterThan(0);
      }
      const seg = await manifestOf(root(), `${PIPELINE}.segments`);
      const profiles = await readOutput(seg.outputs.segment_profiles);
      expect(sizes).toEqual(profiles.map((r) => Number(r.customers)).sort((a, b) => b - a).map((n) => n.toLocaleString("en-US")));
      // The GBT's AUC, one campaign's lift and interval, the list's expected ROI, as the page shows them.
      const response = await manifestOf(root(), `${PIPELINE}.response`);
      expect(auc).toBe(response.metrics.response.models.gbt.auc.toFixed(4));
      const kpis = await manifestOf(root(), `${PIPELINE}.kpis`);
      const ab = (await readOutput(kpis.outputs.ab_tests)).find((r) => r.campaign_id === "CMP-1")!;
      expect(lifts).toContain(`${Number(ab.lift).toFixed(4)} [${Number(ab.ci_low).toFixed(4)}, ${Number(ab.ci_high).toFixed(4)}]`);
      const target = await manifestOf(root(), `${PIPELINE}.target`);
      expect(roi).toBe(target.metrics.target[0].expected_roi.toFixed(2));
    } finally {
      await browser.close();
    }
  });

  it("a second run with the same id reuses every step and runs nothing", () => {
    const { result, json } = cliJson(ARGS);
    expect(result.code).toBe(0);
    expect(json.steps.every((s: any) => s.reused)).toBe(true);
    expect(result.stderr).not.toContain("submitted run");
  });

  it("its steps share one Spark application; a failing step stops it, named, with the runner's own message; the rerun reuses what finished", async () => {
    ensureGenerated();
    const products = (await manifestOf(root(), GEN.runId)).outputs.products;
    const dir = writeProductJobs(products.uri, "the shared data set", {
      first: "SELECT product_id, category, name, list_price FROM products WHERE list_price > 10",
      broken: "SELECT product_id, category, name, list_price FROM products WHERE CASE WHEN list_price > 0 THEN raise_error('invalid input: planted failure in a pipeline step; fix: give products with negative prices') END IS NULL",
      third: "SELECT product_id, category, name, list_price FROM products WHERE list_price <= 10",
    });
    mkdirSync(join(dir, "pipelines"));
    const steps = (middle: string) => `name: three\nversion: 1\ndescription: three steps in one application\nsteps:\n  - { name: a, job: first }\n  - { name: b, job: ${middle} }\n  - { name: c, job: third }\n`;
    writeFileSync(join(dir, "pipelines", "three.yaml"), steps("broken"));
    const failed = cli(["pipeline", "three", "--jobs-dir", dir, "--run-id", "it-session", "--json"]);
    expect(failed.code, failed.stderr.slice(-3000)).toBe(4);
    const error = JSON.parse(failed.stdout).error;
    expect(error.message).toBe("pipeline it-session stopped at step b (job broken, run it-session.b): run it-session.b failed: planted failure in a pipeline step");
    expect(error.details.steps.map((s: any) => s.name)).toEqual(["a"]);
    // One application: started once, two steps submitted to it, the third never.
    expect(failed.stderr.match(/one Spark application for the pipeline's steps/g)).toHaveLength(1);
    expect(failed.stderr.match(/submitted run it-session\.\w/g)).toEqual(["submitted run it-session.a", "submitted run it-session.b"]);
    expect((await manifestOf(root(), "it-session.a")).status).toBe("succeeded");
    expect(existsSync(join(root(), "runs", "it-session.b", "_manifest.json"))).toBe(false);
    // The fixed pipeline, rerun under the same id: a is reused, b and c run (again in one application).
    writeFileSync(join(dir, "pipelines", "three.yaml"), steps("first").replace("{ name: b, job: first }", "{ name: b, job: third }"));
    const again = cliJson(["pipeline", "three", "--jobs-dir", dir, "--run-id", "it-session"]);
    expect(again.result.code, again.result.stderr.slice(-3000)).toBe(0);
    expect(again.json.steps.map((s: any) => [s.name, s.reused])).toEqual([["a", true], ["b", false], ["c", false]]);
    const apps = await Promise.all(["b", "c"].map(async (s) => (await manifestOf(root(), `it-session.${s}`)).engine.applicationId));
    expect(apps[0]).toBe(apps[1]);
    const first = (await manifestOf(root(), "it-session.a")).engine.applicationId;
    expect(first).not.toBe(apps[0]);
    // The outputs are each step's own: b and c wrote the same rows (the same SQL), a the others.
    const rows = async (s: string) => (await manifestOf(root(), `it-session.${s}`)).outputs.catalogue.rows;
    expect(await rows("b")).toBe(await rows("c"));
    expect((await rows("a")) + (await rows("b"))).toBe(products.rows);
    // Nothing of the session is left running or on disk.
    // (Its own sessions' folders, removed once empty: another file's pipeline may be running in the same root.)
    const own = readdirSync(join(root(), "stage", "sessions")).filter((d) => d.startsWith("three-"));
    expect(own.flatMap((d) => readdirSync(join(root(), "stage", "sessions", d)))).toEqual([]);
  });

  it("bad step parameters stop it before anything runs, naming the parameter (exit 2)", () => {
    const r = cli(["pipeline", "precision-marketing", "--param", "budget=-5", "--param", "customers=12.5", "--run-id", "it-pm-bad"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: parameters of pipeline precision-marketing are not valid");
    expect(r.stderr).toContain("--param customers: expected a whole number");
    expect(r.stderr).toContain("--param budget: must be at least 0, got -5");
    expect(r.stderr).not.toContain("submitted run");
  });
});
