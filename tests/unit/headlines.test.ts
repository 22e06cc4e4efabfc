import { describe, expect, it } from "vitest";
import { abTestTable, headlineTables } from "../../submitter/src/report/headlines.js";

// Metrics shaped as the runner returns them (jobs/runner/sparkjobs_runner/*.py), keyed by stage name.
describe("headline tables of a run's metrics", () => {
  it("response models: AUC, PR AUC, lift and the oracle per model", () => {
    const [t] = headlineTables({
      coverage: { customers: 3000 },
      response: {
        rows: 9000, trainRows: 6300, testRows: 2700, positiveRate: 0.1234,
        models: { gbt: { type: "gbt", auc: 0.78123, prAuc: 0.3, liftTopDecile: 2.5, oracleAuc: 0.8 }, logistic: { type: "logistic", auc: 0.77, prAuc: 0.29, liftTopDecile: 2.4 } },
        savedModels: ["gbt"],
      },
    });
    expect(t).toBe([
      "response: held-out 2,700 of 9,000 rows, positive rate 12.3%",
      "model     type         AUC  PR AUC  lift top 10%  oracle AUC",
      "--------  --------  ------  ------  ------------  ----------",
      "gbt       gbt       0.7812  0.3000          2.50      0.8000",
      "logistic  logistic  0.7700  0.2900          2.40           -",
    ].join("\n"));
  });

  it("regression models against their baseline and oracle", () => {
    const [t] = headlineTables({
      clv: { rows: 100, trainRows: 70, testRows: 30, models: { gbt: { type: "gbt", rmse: 10, mae: 5, rmseSkill: 0.25 } }, baseline: { column: "spend_last", rmse: 13.333, mae: 6 }, oracle: { column: "truth", rmse: 2, mae: 1 } },
    });
    expect(t).toContain("clv: held-out 30 of 100 rows");
    expect(t).toMatch(/gbt\s+gbt\s+10\.00\s+5\.00\s+25\.0%/);
    expect(t).toMatch(/baseline \(spend_last\)\s+13\.33\s+6\.00\s+0\.0%/);
    expect(t).toMatch(/oracle \(truth\)\s+2\.00\s+1\.00/);
  });

  it("uplift: all held-out rows and the top by uplift, with intervals, and the Qini coefficient", () => {
    const [t] = headlineTables({
      uplift: {
        trainRows: 5000, topFraction: 0.3, qini: 12.345,
        all: { treatmentRows: 1000, controlRows: 500, lift: 0.03, ci_low: 0.01, ci_high: 0.05, p_value: 0.00001 },
        top: { treatmentRows: 300, controlRows: 150, lift: 0.07, ci_low: 0.02, ci_high: 0.12, p_value: 0.004 },
      },
    });
    expect(t!.split("\n")[0]).toBe("uplift: Qini coefficient 12.35");
    expect(t).toMatch(/all held-out\s+1,000\s+500\s+0\.0300\s+\[0\.0100, 0\.0500\]\s+1\.0e-5/);
    expect(t).toMatch(/top 30% by uplift\s+300\s+150\s+0\.0700\s+\[0\.0200, 0\.1200\]\s+0\.0040/);
  });

  it("association rules, recommendations and PCA", () => {
    const tables = headlineTables({
      rules: { minSupport: 0.01, minConfidence: 0.3, baskets: 2000, meanBasketSize: 3, frequentItemsets: 40, rules: 12, top: [{ antecedent: ["P1", "P2"], consequent: "P3", support: 0.02, confidence: 0.5, lift: 3.2 }] },
      recommend: { topN: 10, users: 900, items: 50, holdoutUsers: 400, als: { precisionAtN: 0.12, recallAtN: 0.3 }, popularity: { precisionAtN: 0.05, recallAtN: 0.1 } },
      pca: { components: 2, explainedVariance: [0.6, 0.25], cumulativeExplainedVariance: [0.6, 0.85] },
    });
    expect(tables).toHaveLength(3);
    expect(tables[0]).toContain("rules: 12 rules from 2,000 baskets (support >= 1.00%, confidence >= 30%)");
    expect(tables[0]).toMatch(/P1 \+ P2\s+P3\s+2\.00%\s+50\.0%\s+3\.20/);
    expect(tables[1]).toMatch(/ALS\s+0\.1200\s+0\.3000/);
    expect(tables[1]).toMatch(/most popular\s+0\.0500\s+0\.1000/);
    expect(tables[2]).toMatch(/pc2\s+25\.0%\s+85\.0%/);
  });

  it("metrics of other shapes (cleaning counts, segmentation, lists) give no table", () => {
    expect(headlineTables({ clean_transactions: { read: 10, kept: 9 }, segmentation: { k: 4, silhouette: 0.5 }, target: [{ customers: 3 }], n: 3 })).toEqual([]);
  });
});

describe("the A/B test table", () => {
  const row = (campaign: string, lift: number, significant: boolean) => ({
    campaign_id: campaign, arm: "a", treatment_rows: 1000n, control_rows: 500n, treatment_rate: 0.1, control_rate: 0.1 - lift,
    lift, relative_lift: null, ci_low: lift - 0.01, ci_high: lift + 0.01, z: 2, p_value: significant ? 0.001 : 0.5, significant, note: null,
  });

  it("one row per test, ordered by its keys, with the count of significant ones", () => {
    const t = abTestTable([row("C2", 0.02, false), row("C1", 0.03, true)]);
    const lines = t.split("\n");
    expect(lines[0]).toBe("2 tests, 1 significant");
    expect(lines[1]).toMatch(/^campaign_id \/ arm\s+treated\s+control/);
    expect(lines[3]).toMatch(/^C1 \/ a\s+1,000\s+500\s+10\.00%\s+7\.00%\s+0\.0300\s+\[0\.0200, 0\.0400\]\s+0\.0010\s+yes$/);
    expect(lines[4]).toMatch(/^C2 \/ a .* no$/);
  });

  it("numbers inside names in their order", () => {
    const lines = abTestTable([row("CMP-10", 0.01, false), row("CMP-2", 0.01, false), row("CMP-1", 0.01, false)]).split("\n");
    expect(lines.slice(3).map((l) => l.split(" ")[0])).toEqual(["CMP-1", "CMP-2", "CMP-10"]);
  });

  it("many tests: the first ones shown, all counted", () => {
    const t = abTestTable(Array.from({ length: 25 }, (_, i) => row(`C${String(i).padStart(2, "0")}`, 0.01, i % 2 === 0)), 20);
    expect(t.split("\n")[0]).toBe("25 tests, 13 significant, the first 20 shown");
    expect(t.split("\n")).toHaveLength(2 + 20 + 1);
  });
});
