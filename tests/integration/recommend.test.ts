/**
 * Recommendations on generated data: ALS on implicit feedback against recommending the most
 * popular products, on what customers bought in a time holdout; every figure recounted from the
 * outputs (the holdout, the popularity baseline, precision@10 and recall@10 of both).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
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
    expect(r.json.checks.find((c: { name: string }) => c.name === "beats_popularity")).toMatchObject({ name: "beats_popularity", passed: true });
    // every recommended product is in the generated catalogue; the key holds
    expect(r.json.checks.filter((c: { outcome: string }) => c.outcome !== "ok")).toEqual([]);

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

    // The figures recounted from the outputs, not taken from the manifest: the holdout (what each
    // customer bought in the 60 days before the snapshot), the popularity baseline (the ten products
    // of the highest strength before it: 3 per order that bought one, 1 per view), and precision@10
    // and recall@10 of both.
    const plan = JSON.parse(readFileSync(join(root(), "stage", "plans", `${manifest.planSha256}.json`), "utf8"));
    const snapshot = Date.parse(`${plan.params.snapshot_date.value}T00:00:00Z`);
    const from = snapshot - plan.params.holdout_days.value * 86_400_000;
    const to = snapshot + 86_400_000;
    const bought = new Map<string, Set<string>>();
    const strength = new Map<string, number>();
    const orders = new Set<string>();
    for (const t of await readOutput((await manifestOf(root(), SEG.runId)).outputs.clean_transactions)) {
      const ts = (t.order_ts as Date).getTime();
      const customer = t.customer_id as string;
      const product = t.product_id as string;
      if (ts >= from && ts < to) bought.set(customer, (bought.get(customer) ?? new Set<string>()).add(product));
      const key = `${customer}|${product}|${t.order_id}`;
      if (ts < from && !orders.has(key)) {
        orders.add(key);
        strength.set(product, (strength.get(product) ?? 0) + 3);
      }
    }
    for (const e of await readOutput((await manifestOf(root(), GEN.runId)).outputs.events)) {
      if (e.event_type === "view" && e.customer_id != null && e.product_id != null && (e.event_ts as Date).getTime() < from) {
        strength.set(e.product_id as string, (strength.get(e.product_id as string) ?? 0) + 1);
      }
    }
    const popular = [...strength].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10).map(([p]) => p);
    const score = (recommend: (customer: string) => string[]) => {
      let precision = 0;
      let recall = 0;
      for (const [customer, items] of bought) {
        const hits = recommend(customer).filter((p) => items.has(p)).length;
        precision += hits / 10;
        recall += hits / items.size;
      }
      return { precision: precision / bought.size, recall: recall / bought.size };
    };
    const als = score((c) => (byCustomer.get(c) ?? []).map((x) => x.product_id as string));
    const pop = score(() => popular);
    expect(bought.size).toBe(m.holdoutUsers);
    expect(als.precision).toBeCloseTo(m.als.precisionAtN, 9);
    expect(als.recall).toBeCloseTo(m.als.recallAtN, 9);
    expect(pop.precision).toBeCloseTo(m.popularity.precisionAtN, 9);
    expect(pop.recall).toBeCloseTo(m.popularity.recallAtN, 9);
    expect(als.precision).toBeGreaterThan(pop.precision * 1.5);
  });
});
