/**
 * Association rules: on generated data the planted co-purchase pairs are the top rules by lift; on
 * the real UCI Online Retail orders, every reported support, confidence and lift equals a count made
 * here from the run's clean transactions, and every one-product rule a count of all pairs finds is reported.
 */
import { describe, expect, it } from "vitest";
import { cliJson, ensureOnlineRetail, ensureSegmentation, GEN, manifestOf, ONLINE_RETAIL, ONLINE_RETAIL_PIPELINE, PIPELINE, readOutput, root, SEG } from "./helpers.js";

type Row = Record<string, unknown>;

/** Support, confidence and lift of "antecedent -> consequent", counted over the orders of clean transactions. */
function countRules(lines: Row[], rules: Row[]): Map<string, { support: number; confidence: number; lift: number; baskets: number }> {
  const baskets = new Map<string, Set<string>>();
  for (const l of lines) {
    if (l.product_id == null || Number(l.quantity) <= 0) continue;
    const b = baskets.get(l.order_id as string) ?? new Set<string>();
    b.add(l.product_id as string);
    baskets.set(l.order_id as string, b);
  }
  const n = baskets.size;
  const out = new Map<string, { support: number; confidence: number; lift: number; baskets: number }>();
  for (const r of rules) {
    const left = String(r.antecedent).split(" + ");
    const right = r.consequent as string;
    let a = 0, both = 0, c = 0;
    for (const b of baskets.values()) {
      const hasLeft = left.every((x) => b.has(x));
      if (hasLeft) a++;
      if (b.has(right)) c++;
      if (hasLeft && b.has(right)) both++;
    }
    out.set(`${r.antecedent} -> ${right}`, { support: both / n, confidence: both / a, lift: both / a / (c / n), baskets: both });
  }
  return out;
}

function expectCounted(rules: Row[], counted: ReturnType<typeof countRules>) {
  for (const r of rules) {
    const c = counted.get(`${r.antecedent} -> ${r.consequent}`)!;
    expect(Number(r.baskets)).toBe(c.baskets);
    expect(r.support as number).toBeCloseTo(c.support, 12);
    expect(r.confidence as number).toBeCloseTo(c.confidence, 12);
    expect(r.lift as number).toBeCloseTo(c.lift, 9);
  }
}

describe("basket-rules", () => {
  it("generated data: the five planted pairs, both ways, are the ten rules of highest lift", async () => {
    ensureSegmentation();
    const runId = `${PIPELINE}.basket_rules`;
    // A support and confidence low enough that chance pairs of the same category make rules too.
    const r = cliJson(["run", "basket-rules", "--param", `transactions=${SEG.runId}`, "--param", "min_support=0.0005",
      "--param", "min_confidence=0.01", "--run-id", runId]);
    expect(r.result.code, r.result.stderr.slice(-3000)).toBe(0);
    const m = r.json.metrics.rules;
    const manifest = await manifestOf(root(), runId);
    const rules = (await readOutput(manifest.outputs.basket_rules)).sort((a, b) => Number(a.rank) - Number(b.rank));
    const truth = await readOutput((await manifestOf(root(), GEN.runId)).outputs.copurchase_truth);
    const planted = new Set(truth.flatMap((p) => [`${p.product_a} -> ${p.product_b}`, `${p.product_b} -> ${p.product_a}`]));
    const top = rules.slice(0, 10).map((x) => `${x.antecedent} -> ${x.consequent}`);
    const eleventh = rules[10]!;
    console.log(`basket-rules: ${m.baskets} orders, ${m.frequentItemsets} frequent itemsets, ${m.rules} rules; ` +
      `planted pairs' lift ${Number(rules[9]!.lift).toFixed(1)}..${Number(rules[0]!.lift).toFixed(1)}, ` +
      `best other rule ${eleventh.antecedent} -> ${eleventh.consequent} lift ${Number(eleventh.lift).toFixed(1)}`);
    expect(planted.size).toBe(10);
    expect(new Set(top)).toEqual(planted);
    expect(rules.length).toBeGreaterThan(50);
    expect(Number(rules[9]!.lift)).toBeGreaterThan(2 * Number(eleventh.lift));
    const clean = await readOutput((await manifestOf(root(), SEG.runId)).outputs.clean_transactions);
    expectCounted(rules.slice(0, 30), countRules(clean, rules.slice(0, 30)));
  });

  it("UCI Online Retail: the rules' support, confidence and lift equal counts over its clean orders", async () => {
    // The runs of the retail-analytics pipeline online-retail.test.ts runs: whichever file runs first makes them.
    ensureOnlineRetail();
    const runId = ONLINE_RETAIL.runId;
    const r = cliJson(["run", "basket-rules", "--param", `transactions=${runId}`, "--param", "min_support=0.01", "--param", "min_confidence=0.1", "--run-id", `${ONLINE_RETAIL_PIPELINE.runId}.basket_rules`]);
    expect(r.result.code, r.result.stderr.slice(-3000)).toBe(0);
    const m = r.json.metrics.rules;
    const rules = (await readOutput((await manifestOf(root(), `${ONLINE_RETAIL_PIPELINE.runId}.basket_rules`)).outputs.basket_rules)).sort((a, b) => Number(a.rank) - Number(b.rank));
    console.log(`basket-rules (online retail): ${m.baskets} orders, ${m.frequentItemsets} frequent itemsets at support ${m.minSupport}, ${m.rules} rules; ` +
      `top: ${rules.slice(0, 3).map((x) => `${x.antecedent} -> ${x.consequent} (lift ${Number(x.lift).toFixed(1)}, confidence ${Number(x.confidence).toFixed(2)})`).join("; ")}`);
    expect(m.rules).toBeGreaterThan(10);
    const clean = await readOutput((await manifestOf(root(), runId)).outputs.clean_transactions);
    // Every rule the run reports, counted here.
    expectCounted(rules, countRules(clean, rules));
    // And none missing: every rule "a -> b" between two products that clears min_support 0.01 and
    // min_confidence 0.1, found by counting every pair in every order.
    const baskets = new Map<string, Set<string>>();
    for (const l of clean) {
      if (l.product_id == null || Number(l.quantity) <= 0) continue;
      baskets.set(l.order_id as string, (baskets.get(l.order_id as string) ?? new Set<string>()).add(l.product_id as string));
    }
    const single = new Map<string, number>();
    for (const b of baskets.values()) for (const x of b) single.set(x, (single.get(x) ?? 0) + 1);
    // A pair is in at least 1% of the orders only if each of its products is.
    const frequent = (x: string) => single.get(x)! >= 0.01 * baskets.size;
    const pairs = new Map<string, number>();
    for (const b of baskets.values()) {
      const items = [...b].filter(frequent).sort();
      for (let i = 0; i < items.length; i++) {
        for (let j = i + 1; j < items.length; j++) pairs.set(`${items[i]}|${items[j]}`, (pairs.get(`${items[i]}|${items[j]}`) ?? 0) + 1);
      }
    }
    const expected = new Set<string>();
    for (const [key, both] of pairs) {
      if (both < 0.01 * baskets.size) continue;
      const [x, y] = key.split("|") as [string, string];
      if (both / single.get(x)! >= 0.1) expected.add(`${x} -> ${y}`);
      if (both / single.get(y)! >= 0.1) expected.add(`${y} -> ${x}`);
    }
    const reported = new Set(rules.filter((x) => !String(x.antecedent).includes(" + ")).map((x) => `${x.antecedent} -> ${x.consequent}`));
    console.log(`basket-rules (online retail): every one of the ${rules.length} rules counted; ${expected.size} one-product rules found by counting all pairs, ${reported.size} reported`);
    expect(reported).toEqual(expected);
  });
});
