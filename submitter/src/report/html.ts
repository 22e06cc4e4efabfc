/**
 * The HTML report of a run or of a pipeline's runs (`sparkjobs report`): one self-contained file
 * (styles inline, charts as inline SVG, no script, nothing fetched when it opens), readable on a
 * phone and printable. Built from the manifests and the runs' small outputs (segment profiles,
 * A/B tests, feature importance); each kind of run is known by the shape of its metrics, as in
 * headlines.ts. Pure: the caller reads the files.
 */
import type { RunManifest } from "../../../schemas/src/index.js";
import { headlineTables } from "./headlines.js";
import { barChart, escapeHtml, intervalChart, xyChart, type Bar } from "./svg.js";

/** The small outputs a report reads, by table name. */
export const REPORT_TABLES = ["segment_profiles", "ab_tests", "feature_importance", "model_metrics", "response_calibration"] as const;

export interface ReportRun {
  /** The pipeline step's name, when the run is a step of a pipeline run. */
  step?: string;
  manifest: RunManifest;
  /** Rows of the run's outputs whose table is one of REPORT_TABLES, by table name. */
  tables: Partial<Record<(typeof REPORT_TABLES)[number], Record<string, unknown>[]>>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "bigint" ? Number(v) : undefined);
const fixed = (digits: number) => (v: number) => v.toFixed(digits);
const percent = (v: number) => `${(v * 100).toFixed(1)}%`;
const whole = (v: number) => Math.round(v).toLocaleString("en-US");
const e = escapeHtml;

function table(headers: string[], rows: (string | number)[][], numeric: boolean[] = [], name?: string): string {
  const cell = (tag: string, v: string | number, i: number) => `<${tag}${numeric[i] ? ' class="num"' : ""}>${e(String(v))}</${tag}>`;
  return `<div class="scroll"><table${name ? ` data-table="${e(name)}"` : ""}><thead><tr>${headers.map((h, i) => cell("th", h, i)).join("")}</tr></thead>`
    + `<tbody>${rows.map((r) => `<tr>${r.map((v, i) => cell("td", v, i)).join("")}</tr>`).join("")}</tbody></table></div>`;
}

/** Cleaning: rows each rule dropped, and what was kept. */
function cleaning(m: RunManifest): string[] {
  const out: string[] = [];
  const tx = m.metrics.clean_transactions;
  if (Array.isArray(tx) && tx.every((r) => isObj(r) && "rule" in r && "dropped" in r)) {
    // Counted rows (read, kept) by how many match; a dropping rule by what it dropped (rows an
    // earlier rule dropped are not counted again); an imputing rule by the rows it filled in.
    const bars: Bar[] = (tx as Obj[]).map((r) => {
      const rule = String(r.rule);
      if (r.action === "count") return { label: rule === "input" ? "read" : rule, value: num(r.matching) ?? 0, highlight: rule === "kept" };
      if (r.action === "impute") return { label: `${rule} (filled in, kept)`, value: num(r.matching) ?? 0 };
      return { label: `${rule} (dropped)`, value: num(r.dropped) ?? 0 };
    });
    out.push(barChart("cleaning-transactions", "Order lines: read, dropped by each cleaning rule, kept", bars, whole));
  }
  const ev = m.metrics.clean_events;
  if (Array.isArray(ev) && ev.every((r) => isObj(r) && "rule" in r && "dropped" in r)) {
    out.push(barChart("cleaning-events", "Behaviour events: dropped by each cleaning rule, and kept", ev.map((r) => ({ label: String((r as Obj).rule), value: num((r as Obj).dropped) ?? 0, highlight: (r as Obj).rule === "kept" })), whole));
  }
  return out;
}

function segmentation(run: ReportRun): string[] {
  const seg = Object.values(run.manifest.metrics).find((v): v is Obj => isObj(v) && "silhouette" in v && "k" in v);
  if (!seg) return [];
  const out: string[] = [];
  const profiles = [...(run.tables.segment_profiles ?? [])].sort((a, b) => (num(b.customers) ?? 0) - (num(a.customers) ?? 0));
  out.push(`<p class="lead">${e(`${num(seg.k)} segments of ${whole(num(seg.rows) ?? 0)} customers; silhouette ${fixed(3)(num(seg.silhouette) ?? 0)}${num(seg.ari) !== undefined ? `; adjusted Rand index against the planted segments ${fixed(3)(num(seg.ari)!)}` : ""}`)}</p>`);
  if (profiles.length) {
    const name = (r: Obj) => `${String(r.segment)} (${String(r.cluster)})`;
    out.push(barChart("segment-sizes", "Customers per segment", profiles.map((r) => ({ label: name(r), value: num(r.customers) ?? 0 })), whole));
    out.push(barChart("segment-revenue", "Share of revenue per segment", profiles.map((r) => ({ label: name(r), value: num(r.revenue_share) ?? 0 })), percent));
    out.push(table(["segment", "customers", "share", "recency (days)", "orders", "spend", "order value", "revenue share"],
      profiles.map((r) => [name(r), whole(num(r.customers) ?? 0), percent(num(r.share) ?? 0), fixed(1)(num(r.avg_recency_days) ?? 0), fixed(2)(num(r.avg_frequency) ?? 0), fixed(2)(num(r.avg_monetary) ?? 0), fixed(2)(num(r.avg_order_value) ?? 0), percent(num(r.revenue_share) ?? 0)]),
      [false, true, true, true, true, true, true, true]));
  }
  if (isObj(seg.silhouetteByK) && Object.keys(seg.silhouetteByK).length > 1) {
    out.push(barChart("silhouette-by-k", "Silhouette by number of segments (k): the highest is kept",
      Object.entries(seg.silhouetteByK).map(([k, v]) => ({ label: `k=${k}`, value: num(v) ?? 0, highlight: Number(k) === num(seg.k) })), fixed(3)));
  }
  return out;
}

function models(run: ReportRun): string[] {
  const out: string[] = [];
  for (const [stage, v] of Object.entries(run.manifest.metrics)) {
    if (!isObj(v) || !isObj(v.models)) continue;
    const entries = Object.entries(v.models).filter((x): x is [string, Obj] => isObj(x[1]));
    if (entries.some(([, x]) => "auc" in x)) {
      const bars: Bar[] = entries.map(([n, x]) => ({ label: `${n} (${String(x.type ?? "")})`, value: num(x.auc) ?? 0 }));
      const oracle = entries.map(([, x]) => num(x.oracleAuc)).find((x) => x !== undefined);
      if (oracle !== undefined) bars.push({ label: "planted probabilities (oracle)", value: oracle, highlight: true });
      out.push(barChart(`auc-${stage}`, `${stage}: AUC on ${whole(num(v.testRows) ?? 0)} held-out rows (0.5 is chance)`, bars, fixed(4)));
    }
    if (entries.some(([, x]) => "rmse" in x)) {
      const bars: Bar[] = entries.map(([n, x]) => ({ label: `${n} (${String(x.type ?? "")})`, value: num(x.rmse) ?? 0 }));
      if (isObj(v.baseline)) bars.push({ label: `baseline (${String(v.baseline.column)})`, value: num(v.baseline.rmse) ?? 0 });
      if (isObj(v.oracle)) bars.push({ label: `oracle (${String(v.oracle.column)})`, value: num(v.oracle.rmse) ?? 0, highlight: true });
      out.push(barChart(`rmse-${stage}`, `${stage}: RMSE on ${whole(num(v.testRows) ?? 0)} held-out customers (lower is better)`, bars, fixed(2)));
    }
  }
  // The first model's AUC in each segment, campaign type and channel.
  const scoped = run.tables.model_metrics ?? [];
  const first = scoped.find((r) => r.model !== undefined)?.model;
  if (first !== undefined) {
    const rows = scoped.filter((r) => r.model === first && num(r.auc) !== undefined)
      .sort((a, b) => `${String(a.scope)}|${String(a.scope_value)}`.localeCompare(`${String(b.scope)}|${String(b.scope_value)}`, "en", { numeric: true }));
    if (rows.length) out.push(barChart("auc-by-scope", `The ${String(first)} model's AUC by campaign type, channel and segment`, rows.map((r) => ({ label: `${String(r.scope).replace(/_/g, " ")}: ${String(r.scope_value)}`, value: num(r.auc)! })), fixed(3)));
  }
  const bins = run.tables.response_calibration ?? [];
  if (bins.length) {
    const models = [...new Set(bins.map((r) => String(r.model)))];
    out.push(xyChart("calibration", "Calibration: each bin's mean predicted probability against the response rate observed in it (on the diagonal: calibrated)",
      models.map((label) => ({ label, points: bins.filter((r) => String(r.model) === label && num(r.mean_predicted) !== undefined && num(r.observed_rate) !== undefined).map((r): [number, number] => [num(r.mean_predicted)!, num(r.observed_rate)!]) })),
      { x: "predicted", y: "observed" }, fixed(2)));
  }
  const importance = run.tables.feature_importance ?? [];
  const model = importance.find((r) => r.model !== undefined)?.model;
  if (model !== undefined) {
    const top = importance.filter((r) => r.model === model).sort((a, b) => (num(a.rank) ?? 0) - (num(b.rank) ?? 0)).slice(0, 12);
    out.push(barChart("feature-importance", `What the ${String(model)} model leans on: the 12 most important features`, top.map((r) => ({ label: String(r.feature), value: num(r.importance) ?? 0 })), fixed(3)));
  }
  return out;
}

function uplift(m: RunManifest): string[] {
  const u = Object.values(m.metrics).find((v): v is Obj => isObj(v) && isObj(v.all) && "qini" in v);
  if (!u) return [];
  const rows = [["all held-out customers", u.all], [`top ${percent(num(u.topFraction) ?? 0)} by predicted uplift`, u.top]] as const;
  const drawn = rows.filter(([, g]) => isObj(g) && num((g as Obj).lift) !== undefined).map(([label, g], i) => {
    const x = g as Obj;
    return { label, mid: num(x.lift)!, lo: num(x.ci_low) ?? num(x.lift)!, hi: num(x.ci_high) ?? num(x.lift)!, highlight: i === 1 };
  });
  return [`<p class="lead">${e(`Qini coefficient ${fixed(4)(num(u.qini) ?? 0)}`)}</p>`,
    intervalChart("uplift", "Response rate of treated minus control, with its 95% interval", drawn, fixed(4))];
}

function abTests(run: ReportRun): string[] {
  const rows = run.tables.ab_tests ?? [];
  if (!rows.length) return [];
  const key = (r: Obj) => `${String(r.campaign_id)}${r.arm !== undefined && r.arm !== null ? ` ${String(r.arm)}` : ""}`;
  const sorted = [...rows].sort((a, b) => key(a).localeCompare(key(b), "en", { numeric: true }));
  const shown = sorted.slice(0, 20);
  const confidence = isObj(run.manifest.metrics.ab_test) ? num(run.manifest.metrics.ab_test.confidence) : undefined;
  const level = confidence === undefined ? "95%" : `${(confidence * 100).toFixed(0)}%`;
  const alpha = confidence === undefined ? "0.05" : String(Number((1 - confidence).toFixed(4)));
  return [intervalChart("ab-tests", `A/B tests: lift of the response rate with its ${level} interval${rows.length > shown.length ? ` (the first ${shown.length} of ${rows.length})` : ""}; in colour where the test's p is below ${alpha}`,
    shown.filter((r) => num(r.lift) !== undefined).map((r) => ({ label: `${key(r)} (${String(r.campaign_type ?? "")})`, mid: num(r.lift)!, lo: num(r.ci_low) ?? num(r.lift)!, hi: num(r.ci_high) ?? num(r.lift)!, highlight: r.significant === true })), fixed(4))];
}

function targeting(m: RunManifest): string[] {
  const t = Array.isArray(m.metrics.target) ? (m.metrics.target[0] as Obj | undefined) : undefined;
  if (!t || !("expected_profit" in t)) return [];
  const money = (v: unknown) => (num(v) === undefined ? "-" : num(v)!.toLocaleString("en-US", { maximumFractionDigits: 2 }));
  const out = [table(["campaign", "basis", "customers", "cost", "budget", "expected revenue", "expected profit", "expected ROI"],
    [[String(t.campaign_type), String(t.basis), whole(num(t.customers) ?? 0), money(t.cost), money(t.budget), money(t.expected_revenue), money(t.expected_profit), num(t.expected_roi) === undefined ? "-" : fixed(2)(num(t.expected_roi)!)]],
    [false, false, true, true, true, true, true, true], "targeting")];
  if (isObj(t.contacts) && Object.keys(t.contacts).length) {
    out.push(barChart("target-contacts", "Contacts on the list, by channel", Object.entries(t.contacts).map(([c, n]) => ({ label: c, value: num(n) ?? 0 })), whole));
  }
  return out;
}

function others(m: RunManifest): string[] {
  const out: string[] = [];
  for (const [stage, v] of Object.entries(m.metrics)) {
    if (!isObj(v)) continue;
    if (Array.isArray(v.explainedVariance)) {
      out.push(barChart(`pca-${stage}`, "Share of the variance each principal component explains", v.explainedVariance.map((x, i) => ({ label: `component ${i + 1}`, value: num(x) ?? 0 })), percent));
    }
    if (isObj(v.als) && isObj(v.popularity)) {
      const n = num(v.topN) ?? 10;
      out.push(barChart(`recommend-${stage}`, `Precision and recall of the top ${n} recommendations in the holdout, against recommending the most popular products`, [
        { label: `precision@${n}, ALS`, value: num(v.als.precisionAtN) ?? 0, highlight: true }, { label: `precision@${n}, popular`, value: num(v.popularity.precisionAtN) ?? 0 },
        { label: `recall@${n}, ALS`, value: num(v.als.recallAtN) ?? 0, highlight: true }, { label: `recall@${n}, popular`, value: num(v.popularity.recallAtN) ?? 0 },
      ], fixed(4)));
    }
    if (Array.isArray(v.top) && "frequentItemsets" in v) {
      out.push(`<p class="lead">${e(`${whole(num(v.rules) ?? 0)} rules from ${whole(num(v.baskets) ?? 0)} baskets; the strongest by lift:`)}</p>`,
        table(["if bought", "then", "support", "confidence", "lift"], (v.top as Obj[]).slice(0, 10).map((r) => [String(r.antecedent), String(r.consequent), fixed(4)(num(r.support) ?? 0), fixed(3)(num(r.confidence) ?? 0), fixed(1)(num(r.lift) ?? 0)]), [false, false, true, true, true]));
    }
  }
  return out;
}

function checks(m: RunManifest): string[] {
  if (!m.checks?.length) return [];
  const label = (o: string) => (o === "ok" ? "passed" : o === "warn" ? "warning" : "FAILED");
  return ["<h3>Data quality: checks and gates</h3>", table(["check", "result", "detail"], m.checks.map((c) => [c.name, label(c.outcome), c.detail]))];
}

function section(run: ReportRun): string {
  const m = run.manifest;
  const title = run.step ? `${run.step}: ${m.job.name}` : m.job.name;
  const facts = `run ${m.runId} · ${m.engine.master} · ${m.startedAt.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC")} · ${(m.durationMs / 1000).toFixed(1)} s`;
  const parts = [...cleaning(m), ...segmentation(run), ...models(run), ...uplift(m), ...abTests(run), ...targeting(m), ...others(m)];
  const numbers = headlineTables(m.metrics);
  return `<section id="${e(`run-${m.runId}`)}" data-run="${e(m.runId)}" data-job="${e(m.job.name)}"><h2>${e(title)}</h2><p class="facts">${e(facts)}</p>`
    + parts.join("")
    + table(["output", "table", "rows"], Object.entries(m.outputs).map(([n, o]) => [n, o.table, whole(o.rows)]), [false, false, true])
    + (numbers.length ? `<details><summary>The numbers, as <code>sparkjobs run</code> prints them</summary><pre>${e(numbers.join("\n\n"))}</pre></details>` : "")
    + checks(m).join("")
    + "</section>";
}

const STYLE = `
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dde5;--bar:#8fa3c7;--hi:#d0642b;--bg:#fff}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:960px;margin:0 auto;padding:16px}h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin:1.6em 0 .2em;padding-top:.6em;border-top:2px solid var(--line)}
h3{font-size:1em;margin:1.2em 0 .3em}.facts,.sub{color:var(--muted);margin:.2em 0 .8em}.lead{margin:.6em 0}
nav ol{padding-left:1.2em;columns:2}figure{margin:.8em 0;break-inside:avoid}figcaption{font-weight:600;margin-bottom:.2em}
svg text{font-size:12px;fill:var(--fg)}svg .value{fill:var(--muted)}.bar{fill:var(--bar)}.hi{fill:var(--hi);stroke:var(--hi)}
.grid{stroke:var(--line)}.ci{stroke:var(--bar);stroke-width:3}.ci.hi{stroke:var(--hi)}.dot{fill:var(--fg)}.dot.hi{fill:var(--hi)}.zero{stroke:var(--muted);stroke-dasharray:3 3}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
.num{text-align:right;font-variant-numeric:tabular-nums}pre{overflow-x:auto;font-size:12px;background:#f5f6f8;padding:8px}
@media print{h2{break-before:page}details{display:none}body{font-size:12px}}`;

export function reportHtml(o: { title: string; subtitle: string; runs: ReportRun[]; generatedAt: string }): string {
  const nav = o.runs.length > 1
    ? `<nav><ol>${o.runs.map((r) => `<li><a href="#${e(`run-${r.manifest.runId}`)}">${e(r.step ?? r.manifest.job.name)}</a></li>`).join("")}</ol></nav>`
    : "";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`
    + `<title>${e(o.title)}</title><style>${STYLE}</style></head><body><main>`
    + `<h1>${e(o.title)}</h1><p class="sub">${e(o.subtitle)} · made ${e(o.generatedAt)} by sparkjobs report</p>${nav}`
    + o.runs.map(section).join("")
    + "</main></body></html>\n";
}

/**
 * The runs of a report: the run `id`, or, when there is no such run, the steps of the pipeline
 * run `id` (the runs named <id>.<step>), in the order they ran. Only complete runs are reported.
 */
export async function readReportRuns(storage: import("../stage/storage.js").Storage, root: string, id: string): Promise<ReportRun[]> {
  const { readManifest } = await import("../results/manifest.js");
  const { readSmallTable } = await import("../results/parquet.js");
  const { joinUri, runUri } = await import("../plan/build.js");
  const withTables = async (manifest: RunManifest, step?: string): Promise<ReportRun> => {
    const tables: ReportRun["tables"] = {};
    for (const o of Object.values(manifest.outputs)) {
      const name = REPORT_TABLES.find((t) => t === o.table);
      if (!name || o.rows > 10_000) continue;
      const rows: Record<string, unknown>[] = [];
      for (const f of o.files) rows.push(...(await readSmallTable(storage, `${o.uri}/${f.path}`)));
      tables[name] = [...(tables[name] ?? []), ...rows];
    }
    return { ...(step ? { step } : {}), manifest, tables };
  };
  const single = await readManifest(storage, runUri(root, id));
  if (single.complete) return [await withTables(single.manifest)];
  const steps: ReportRun[] = [];
  for (const name of (await storage.list(joinUri(root, "runs"))).map((n) => n.replace(/\/$/, "")).filter((n) => n.startsWith(`${id}.`))) {
    const state = await readManifest(storage, runUri(root, name));
    if (state.complete) steps.push(await withTables(state.manifest, name.slice(id.length + 1)));
  }
  return steps.sort((a, b) => a.manifest.startedAt.localeCompare(b.manifest.startedAt));
}
