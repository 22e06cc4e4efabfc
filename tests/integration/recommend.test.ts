/**
 * Recommendations on generated data: ALS on implicit feedback against recommending the most
 * popular products, on what customers bought in a time holdout.
 */
import { describe, expect, it } from "vitest";
import { cliJson, ensureSegmentation, GEN, manifestOf, PIPELINE, readOutput, root, SEG } from "./helpers.js";

describe("recommend", () => {
  it("ALS beats the popularity baseline on precision@10 and recall@10 in the holdout window", async () => {
    ensureSegmentation();
    const runId = `${PIPELINE}.recommend`;
    const r = cliJson(["run", "recommend", "--param", `source=${GEN.runId}`, "--param", `segments=${SEG.runId}`, "--run-id", runId]);
    expect(r.result.code, r.result.stderr.slice(-3000)).toBe(0);
    const m = r.json.metrics.recommend;
    console.log(`recommend: precision@10 ALS ${m.als.precisionAtN.toFixed(4)} vs popularity ${m.popularity.precisionAtN.toFixed(4)}; ` +
      `recall@10 ${m.als.recallAtN.toFixed(4)} vs ${m.popularity.recallAtN.toFixed(4)}; ${m.holdoutUsers} customers bought in the holdout`);
    expect(m.als.precisionAtN).toBeGreaterThan(m.popularity.precisionAtN * 1.5);
    expect(m.als.recallAtN).toBeGreaterThan(m.popularity.recallAtN);
    expect(m.holdoutUsers).toBeGreaterThan(GEN.customers / 3);
    expect(r.json.checks[0]).toMatchObject({ name: "beats_popularity", passed: true });

    // Ten distinct products per customer, ranked 1..10; every recommended product is in the catalogue.
    const manifest = await manifestOf(root(), runId);
    const recs = await readOutput(manifest.outputs.recommendations);
    const byCustomer = new Map<string, Record<string, unknown>[]>();
    for (const rec of recs) byCustomer.set(rec.customer_id as string, [...(byCustomer.get(rec.customer_id as string) ?? []), rec]);
    for (const list of [...byCustomer.values()].slice(0, 200)) {
      expect(list.map((x) => Number(x.rank)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(new Set(list.map((x) => x.product_id)).size).toBe(10);
    }
    const catalogue = new Set((await readOutput((await manifestOf(root(), GEN.runId)).outputs.products)).map((p) => p.product_id));
    expect(recs.every((x) => catalogue.has(x.product_id))).toBe(true);
    expect(Object.keys(manifest.models)).toEqual(["recommend_als"]);
  });
});
