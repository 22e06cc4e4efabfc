/**
 * Next-period spend (clv) on generated data: GBT against the naive run rate and the planted mean,
 * with the errors recomputed here from the written predictions.
 */
import { describe, expect, it } from "vitest";
import { cliJson, ensureSegmentation, GEN, manifestOf, PIPELINE, readOutput, root, SEG } from "./helpers.js";

const rmse = (e: number[]) => Math.sqrt(e.reduce((s, x) => s + x * x, 0) / e.length);
const mae = (e: number[]) => e.reduce((s, x) => s + Math.abs(x), 0) / e.length;

describe("clv", () => {
  it("GBT beats the naive prediction on held-out RMSE and MAE; the errors equal a recount of the predictions", async () => {
    ensureSegmentation();
    const runId = `${PIPELINE}.clv`;
    const r = cliJson(["run", "clv", "--param", `source=${GEN.runId}`, "--param", `segments=${SEG.runId}`, "--run-id", runId]);
    expect(r.result.code, r.result.stderr.slice(-3000)).toBe(0);
    const m = r.json.metrics.clv;
    const gbt = m.models.gbt;
    console.log(`clv: held-out RMSE gbt ${gbt.rmse.toFixed(1)}, naive ${m.baseline.rmse.toFixed(1)}, planted mean ${m.oracle.rmse.toFixed(1)}; ` +
      `MAE ${gbt.mae.toFixed(1)}, ${m.baseline.mae.toFixed(1)}, ${m.oracle.mae.toFixed(1)}; ${m.testRows} test customers`);
    expect(gbt.rmse).toBeLessThan(m.baseline.rmse);
    expect(gbt.mae).toBeLessThan(m.baseline.mae);
    // No model beats the planted mean by more than chance; GBT gets within 40% of it.
    expect(gbt.rmse).toBeGreaterThan(m.oracle.rmse * 0.95);
    expect(gbt.rmse).toBeLessThan(m.oracle.rmse * 1.4);
    expect(r.json.checks.map((c: any) => [c.name, c.passed])).toEqual([
      ["beats_naive_rmse", true], ["beats_naive_mae", true], ["clv_scores_key_unique", true], ["clv_metrics_key_unique", true],
    ]);
    expect(r.json.metrics.coverage[0]).toMatchObject({ labelled_customers: GEN.customers, without_features: 0 });

    const manifest = await manifestOf(root(), runId);
    const test = (await readOutput(manifest.outputs.clv_scores)).filter((x) => x.split === "test");
    expect(test.length).toBe(m.testRows);
    expect(rmse(test.map((x) => (x.predicted_spend as number) - (x.spend as number)))).toBeCloseTo(gbt.rmse, 6);
    expect(mae(test.map((x) => (x.baseline_spend as number) - (x.spend as number)))).toBeCloseTo(m.baseline.mae, 6);
    expect(Object.keys(manifest.models)).toEqual(["clv_gbt"]);
  });
});
