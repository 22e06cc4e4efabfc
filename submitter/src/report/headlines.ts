/**
 * What a run found, as short tables for the terminal: the headline numbers of each stage's
 * metrics (the same numbers are in the manifest and in --json). Each stage kind is known by the
 * shape of what its runner returns. Pure.
 */
import { textTable } from "./table.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "bigint" ? Number(v) : undefined);
const f = (v: unknown, digits = 4) => (num(v) === undefined ? "-" : num(v)!.toFixed(digits));
const pct = (v: unknown, digits = 1) => (num(v) === undefined ? "-" : `${(num(v)! * 100).toFixed(digits)}%`);
const count = (v: unknown) => (num(v) === undefined ? "-" : num(v)!.toLocaleString("en-US"));
const p = (v: unknown) => (num(v) === undefined ? "-" : num(v)! < 1e-4 ? num(v)!.toExponential(1) : num(v)!.toFixed(4));
const interval = (lo: unknown, hi: unknown) => (num(lo) === undefined || num(hi) === undefined ? "-" : `[${f(lo)}, ${f(hi)}]`);

/** Classification models (response): AUC and friends on the held-out rows. */
function classifier(stage: string, m: Obj): string | undefined {
  const models = m.models;
  if (!isObj(models) || !Object.values(models).some((x) => isObj(x) && "auc" in x)) return undefined;
  const rows = Object.entries(models).filter(([, x]) => isObj(x)).map(([name, x]) => {
    const model = x as Obj;
    return [name, String(model.type ?? ""), f(model.auc), f(model.prAuc), f(model.liftTopDecile, 2), f(model.oracleAuc)];
  });
  return `${stage}: held-out ${count(m.testRows)} of ${count(m.rows)} rows, positive rate ${pct(m.positiveRate)}\n`
    + textTable(["model", "type", "AUC", "PR AUC", "lift top 10%", "oracle AUC"], rows, ["left", "left", "right", "right", "right", "right"]);
}

/** Regression models (CLV): errors on the held-out rows against the baseline. */
function regressor(stage: string, m: Obj): string | undefined {
  const models = m.models;
  if (!isObj(models) || !Object.values(models).some((x) => isObj(x) && "rmse" in x)) return undefined;
  const rows = Object.entries(models).filter(([, x]) => isObj(x)).map(([name, x]) => {
    const model = x as Obj;
    return [name, String(model.type ?? ""), f(model.rmse, 2), f(model.mae, 2), pct(model.rmseSkill)];
  });
  const base = isObj(m.baseline) ? m.baseline : undefined;
  if (base) rows.push([`baseline (${String(base.column)})`, "", f(base.rmse, 2), f(base.mae, 2), "0.0%"]);
  const oracle = isObj(m.oracle) ? m.oracle : undefined;
  if (oracle) rows.push([`oracle (${String(oracle.column)})`, "", f(oracle.rmse, 2), f(oracle.mae, 2), ""]);
  return `${stage}: held-out ${count(m.testRows)} of ${count(m.rows)} rows (skill: 1 - RMSE / the baseline's)\n`
    + textTable(["model", "type", "RMSE", "MAE", "skill"], rows, ["left", "left", "right", "right", "right"]);
}

/** Uplift: the observed lift of all held-out rows and of the top by predicted uplift, and the Qini coefficient. */
function uplift(stage: string, m: Obj): string | undefined {
  if (!isObj(m.all) || !("qini" in m)) return undefined;
  const row = (label: string, g: unknown) => {
    const x = isObj(g) ? g : {};
    return [label, count(x.treatmentRows), count(x.controlRows), f(x.lift), interval(x.ci_low, x.ci_high), p(x.p_value)];
  };
  const rows = [row("all held-out", m.all)];
  if (isObj(m.top)) rows.push(row(`top ${pct(m.topFraction, 0)} by uplift`, m.top));
  return `${stage}: Qini coefficient ${f(m.qini, 2)}\n`
    + textTable(["customers", "treated", "control", "lift", "95% interval", "p"], rows, ["left", "right", "right", "right", "left", "right"]);
}

/** Association rules: how many, and the strongest by lift. */
function rules(stage: string, m: Obj): string | undefined {
  if (!("frequentItemsets" in m) || !Array.isArray(m.top)) return undefined;
  const top = (m.top as Obj[]).slice(0, 5).map((r) => [
    Array.isArray(r.antecedent) ? r.antecedent.join(" + ") : String(r.antecedent), String(r.consequent), pct(r.support, 2), pct(r.confidence), f(r.lift, 2),
  ]);
  const head = `${stage}: ${count(m.rules)} rules from ${count(m.baskets)} baskets (support >= ${pct(m.minSupport, 2)}, confidence >= ${pct(m.minConfidence, 0)})`;
  return top.length ? `${head}\n${textTable(["if bought", "then", "support", "confidence", "lift"], top, ["left", "left", "right", "right", "right"])}` : head;
}

/** Recommendations: precision and recall at N against the popularity baseline. */
function recommendations(stage: string, m: Obj): string | undefined {
  if (!("topN" in m) || !isObj(m.als)) return undefined;
  const pop = isObj(m.popularity) ? m.popularity : {};
  return `${stage}: top ${count(m.topN)} for ${count(m.users)} customers over ${count(m.items)} products, checked on ${count(m.holdoutUsers)} customers' later purchases\n`
    + textTable(["recommender", `precision@${count(m.topN)}`, `recall@${count(m.topN)}`], [
      ["ALS", f(m.als.precisionAtN), f(m.als.recallAtN)],
      ["most popular", f(pop.precisionAtN), f(pop.recallAtN)],
    ], ["left", "right", "right"]);
}

/** PCA: the variance each component explains. */
function pca(stage: string, m: Obj): string | undefined {
  if (!Array.isArray(m.explainedVariance) || !Array.isArray(m.cumulativeExplainedVariance)) return undefined;
  const ev = m.explainedVariance as unknown[];
  const cum = m.cumulativeExplainedVariance as unknown[];
  return `${stage}: ${ev.length} components\n`
    + textTable(["component", "variance explained", "cumulative"], ev.map((v, i) => [`pc${i + 1}`, pct(v), pct(cum[i])]), ["left", "right", "right"]);
}

const READERS = [classifier, regressor, uplift, rules, recommendations, pca];

/** One short table per stage whose metrics have a known shape, in stage order. */
export function headlineTables(metrics: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [stage, m] of Object.entries(metrics)) {
    if (!isObj(m)) continue;
    for (const read of READERS) {
      const table = read(stage, m);
      if (table) {
        out.push(table);
        break;
      }
    }
  }
  return out;
}

/**
 * The A/B tests of a run (rows of an ab_tests output): lift, its interval and significance per
 * test, the first `limit` of them by key; the rest are counted (all are in the output).
 */
export function abTestTable(rows: Obj[], limit = 20): string {
  const known = new Set(["treatment_rows", "control_rows", "treatment_rate", "control_rate", "lift", "relative_lift", "ci_low", "ci_high", "z", "p_value", "significant", "note"]);
  const keys = rows.length ? Object.keys(rows[0]!).filter((k) => !known.has(k)) : [];
  // By key, column by column, numbers inside names in their order (CMP-2 before CMP-10).
  const compare = (a: Obj, b: Obj) => {
    for (const k of keys) {
      const c = String(a[k]).localeCompare(String(b[k]), "en", { numeric: true });
      if (c) return c;
    }
    return 0;
  };
  const sorted = [...rows].sort(compare);
  const table = textTable(
    [...(keys.length ? [keys.join(" / ")] : []), "treated", "control", "rate treated", "rate control", "lift", "95% interval", "p", "significant"],
    sorted.slice(0, limit).map((r) => [
      ...(keys.length ? [keys.map((k) => String(r[k])).join(" / ")] : []),
      count(r.treatment_rows), count(r.control_rows), pct(r.treatment_rate, 2), pct(r.control_rate, 2), f(r.lift), interval(r.ci_low, r.ci_high), p(r.p_value),
      r.significant === true ? "yes" : r.significant === false ? "no" : "-",
    ]),
    [...(keys.length ? ["left" as const] : []), "right", "right", "right", "right", "right", "left", "right", "left"],
  );
  const significant = rows.filter((r) => r.significant === true).length;
  const more = rows.length > limit ? `, the first ${limit} shown` : "";
  return `${rows.length} tests, ${significant} significant${more}\n${table}`;
}
