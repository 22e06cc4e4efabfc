// The HTML report: self-contained (no script, nothing fetched), every chart drawn from the
// manifest's numbers, and text from the data escaped.
import { describe, expect, test } from "vitest";
import type { RunManifest } from "../../schemas/src/index.js";
import { reportHtml, type ReportRun } from "../../submitter/src/report/html.js";
import { barChart, intervalChart } from "../../submitter/src/report/svg.js";

function manifest(runId: string, job: string, metrics: Record<string, unknown>, outputs: RunManifest["outputs"] = {}): RunManifest {
  return {
    manifestVersion: 1 as never, runId, job: { name: job, version: 1 }, planSha256: "0".repeat(64), status: "succeeded",
    engine: { sparkVersion: "3.5.5", master: "local[*]", applicationId: "local-1" },
    startedAt: "2026-12-01T10:00:00.000Z", finishedAt: "2026-12-01T10:01:00.000Z", durationMs: 60_000,
    outputs, metrics, stages: [],
    checks: [{ name: "customers_key_unique", outcome: "ok", detail: "every (customer_id) is on one row" } as never],
  };
}

const segments: ReportRun = {
  step: "segments",
  manifest: manifest("p.segments", "customer-segmentation", {
    segmentation: { k: 2, rows: 30, silhouette: 0.61234, silhouetteByK: { 2: 0.61234, 3: 0.4 }, ari: 1 },
    clean_transactions: [{ rule: "input", action: "count", matching: 100, dropped: 0 }, { rule: "cancelled", action: "drop", matching: 7, dropped: 7 },
      { rule: "missing_category", action: "impute", matching: 4, dropped: 0 }, { rule: "kept", action: "count", matching: 93, dropped: 0 }],
  }),
  tables: {
    segment_profiles: [
      { cluster: 0, segment: "<script>alert(1)</script>", customers: 12, share: 0.4, revenue_share: 0.25 },
      { cluster: 1, segment: "champions", customers: 18, share: 0.6, revenue_share: 0.75 },
    ],
  },
};
const response: ReportRun = {
  step: "response",
  manifest: manifest("p.response", "response", { response: { rows: 1000, testRows: 300, models: { gbt: { type: "gbt", auc: 0.70968, oracleAuc: 0.77325 } } } }),
  tables: {
    feature_importance: [{ model: "gbt", feature: "recency_days", importance: 0.31, rank: 1 }],
    response_calibration: [{ model: "gbt", bin: 0, mean_predicted: 0.1, observed_rate: 0.08 }, { model: "gbt", bin: 1, mean_predicted: 0.4, observed_rate: 0.45 }],
  },
};
const kpis: ReportRun = {
  step: "kpis",
  manifest: manifest("p.kpis", "kpis", { ab_test: { tests: 2 } }),
  tables: { ab_tests: [
    { campaign_id: "CMP-10", campaign_type: "coupon", lift: 0.0307, ci_low: 0.0004, ci_high: 0.061, significant: true },
    { campaign_id: "CMP-2", campaign_type: "loyalty", lift: -0.01, ci_low: -0.05, ci_high: 0.03, significant: false },
  ] },
};
const target: ReportRun = {
  step: "target",
  manifest: manifest("p.target", "target", { target: [{ campaign_type: "coupon", basis: "response", budget: 50, customers: 1000, cost: 50, expected_revenue: 7000, expected_profit: 6994, expected_roi: 139.88, contacts: { push: 1000 } }] }),
  tables: {},
};

describe("the HTML report", () => {
  const html = reportHtml({ title: "Pipeline run p", subtitle: "4 steps", runs: [segments, response, kpis, target], generatedAt: "2026-12-01 10:02 UTC" });

  test("one file that fetches nothing and runs nothing", () => {
    expect(html).not.toMatch(/<script|<link|<img|src=|https?:\/\/(?!www\.w3\.org)/i);
    expect(html).toContain("default-src 'none'");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  test("a section per run with its charts, and the numbers of the manifests on the page", () => {
    expect([...html.matchAll(/<section id="run-([^"]+)"/g)].map((m) => m[1])).toEqual(["p.segments", "p.response", "p.kpis", "p.target"]);
    const charts = [...html.matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1]);
    expect(charts).toEqual(["cleaning-transactions", "segment-sizes", "segment-revenue", "silhouette-by-k", "auc-response", "calibration", "feature-importance", "ab-tests", "target-contacts"]);
    // A calibration bin is a point at its (predicted, observed), its numbers in its tooltip.
    const calibration = html.split('data-chart="calibration"')[1]!.split("</figure>")[0]!;
    expect([...calibration.matchAll(/<title>([^<]+)<\/title>/g)].map((m) => m[1])).toEqual(["gbt: 0.10, 0.08", "gbt: 0.40, 0.45"]);
    // Segment sizes, largest first, each bar labelled with its count.
    const sizes = html.split('data-chart="segment-sizes"')[1]!.split("</figure>")[0]!;
    expect([...sizes.matchAll(/class="value">(\d+)</g)].map((m) => Number(m[1]))).toEqual([18, 12]);
    expect(html).toContain(">0.7097<"); // the GBT AUC
    expect(html).toContain(">0.0307 [0.0004, 0.0610]<"); // CMP-10's lift and interval
    expect(html).toContain("<td class=\"num\">139.88</td></tr></tbody></table>"); // expected ROI, the targeting table's last cell
    const cleaning = html.split('data-chart="cleaning-transactions"')[1]!.split("</figure>")[0]!;
    expect([...cleaning.matchAll(/>([^<>]+)<\/text><rect[^>]*><text [^>]*>([\d,]+)</g)].map((m) => `${m[1]} ${m[2]}`))
      .toEqual(["read 100", "cancelled (dropped) 7", "missing_category (filled in, kept) 4", "kept 93"]);
    expect(html).toContain("customers_key_unique");
  });

  test("A/B tests in the order of their ids, numbers inside names in their order", () => {
    const ab = html.split('data-chart="ab-tests"')[1]!.split("</figure>")[0]!;
    expect(ab.indexOf("CMP-2 (loyalty)")).toBeLessThan(ab.indexOf("CMP-10 (coupon)"));
  });
});

describe("the charts", () => {
  test("bars scale to the largest value; a chart of zeros draws empty bars", () => {
    const svg = barChart("x", "t", [{ label: "a", value: 10 }, { label: "b", value: 5 }], String);
    const widths = [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths[1]! / widths[0]!).toBeCloseTo(0.5, 6);
    expect([...barChart("z", "t", [{ label: "a", value: 0 }], String).matchAll(/width="([\d.]+)" height/g)].map((m) => m[1])).toEqual(["0.0"]);
  });

  test("intervals on one axis with zero inside it", () => {
    const svg = intervalChart("i", "t", [{ label: "a", mid: 0.1, lo: 0.05, hi: 0.2 }], (v) => v.toFixed(2));
    const zero = Number(/class="zero"/.test(svg) && /<line x1="([\d.]+)"/.exec(svg)![1]);
    const dot = Number(/cx="([\d.]+)"/.exec(svg)![1]);
    expect(dot).toBeGreaterThan(zero);
    expect(svg).toContain("0.10 [0.05, 0.20]");
  });
});
