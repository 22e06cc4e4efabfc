/**
 * Targeting on generated data: the list stays within its budget, and the customers and channels it
 * picks are worth more, by the planted response probabilities, than a list of the same cost picked
 * without the model. A budget of zero is a documented empty result.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { cli, cliJson, ensureScore, ensureScoreUplift, GEN, manifestOf, PIPELINE, readOutput, root, SCORE, SCORE_UPLIFT, TARGET_BUDGET } from "./helpers.js";

// The precision-marketing pipeline's two target steps (pipeline.test.ts runs the same plans): whichever runs first, the other reuses it.
const BY_RESPONSE = `${PIPELINE}.target`;
const BY_UPLIFT = `${PIPELINE}.target_uplift`;

const COST: Record<string, number> = { email: 0.1, sms: 0.4, push: 0.05, social: 1.5 };
const MARGIN = 0.3;
const targetArgs = (budget: number, runId: string, scores = SCORE.runId, basis = "response") =>
  ["run", "target", "--param", `scores=${scores}`, "--param", `source=${GEN.runId}`, "--param", "campaign_type=coupon", "--param", `budget=${budget}`,
    "--param", `basis=${basis}`, "--run-id", runId];

/** The planted probabilities of the coupon offers, by customer and channel. */
async function couponTruth(): Promise<Map<string, { treated: number; control: number }>> {
  const rows = await readOutput((await manifestOf(root(), GEN.runId)).outputs.offer_truth);
  return new Map(rows.filter((t) => t.campaign_type === "coupon")
    .map((t) => [`${t.customer_id}|${t.channel}`, { treated: Number(t.p_treatment), control: Number(t.p_control) }]));
}

describe("target", () => {
  beforeAll(() => {
    ensureScore();
  });

  it("spends at most the budget and earns more planted profit than a list of the same cost picked without the model", async () => {
    const budget = TARGET_BUDGET; // about a third of the customers by push: whom to contact matters
    const r = cliJson(targetArgs(budget, BY_RESPONSE));
    expect(r.result.code, r.result.stderr.slice(-3000)).toBe(0);
    const summary = r.json.metrics.target[0];
    expect(summary.cost).toBeLessThanOrEqual(budget);
    expect(summary.cost).toBeGreaterThan(budget * 0.95); // the budget binds
    expect(r.json.checks).toEqual([
      { name: "within_budget", passed: true, outcome: "ok", detail: `target.0.cost = ${summary.cost} (<= ${budget})` },
      { name: "target_list_key_unique", passed: true, outcome: "ok", detail: "every (customer_id) of target_list is on one row" },
    ]);

    const list = await readOutput((await manifestOf(root(), BY_RESPONSE)).outputs.target_list);
    expect(list).toHaveLength(summary.customers);
    expect(new Set(list.map((t) => t.customer_id)).size).toBe(list.length);
    for (const t of list) {
      expect(Number(t.cost)).toBe(COST[t.channel as string]);
      expect(Number(t.expected_profit)).toBeGreaterThan(0);
    }
    const truth = new Map([...(await couponTruth())].map(([k, v]) => [k, v.treated]));
    const perResponse = Number(list[0]!.expected_revenue) / Number(list[0]!.p_response);
    const planted = (rows: { customer_id: unknown; channel: string }[]) =>
      rows.reduce((s, t) => s + truth.get(`${t.customer_id}|${t.channel}`)! * perResponse * MARGIN - COST[t.channel]!, 0);
    const chosen = planted(list as any);
    // Without the model: customers in id order, each on the cheapest channel (push), while the budget lasts.
    const ids = [...new Set([...truth.keys()].map((k) => k.split("|")[0]!))].sort();
    const naive = ids.slice(0, Math.floor(summary.cost / COST.push!)).map((customer_id) => ({ customer_id, channel: "push" }));
    const baseline = planted(naive);
    console.log(`target: ${list.length} customers for ${summary.cost.toFixed(2)} of ${budget}; expected profit ${summary.expected_profit.toFixed(0)} ` +
      `(ROI ${summary.expected_roi.toFixed(1)}); planted profit ${chosen.toFixed(0)} against ${baseline.toFixed(0)} for ${naive.length} push contacts without the model`);
    expect(chosen).toBeGreaterThan(baseline * 1.2);
  });

  it("on the uplift basis the list earns more planted incremental profit than the response basis at the same budget", async () => {
    ensureScoreUplift();
    const budget = TARGET_BUDGET;
    const byUplift = cliJson(targetArgs(budget, BY_UPLIFT, SCORE_UPLIFT.runId, "uplift"));
    expect(byUplift.result.code, byUplift.result.stderr.slice(-3000)).toBe(0);
    expect(byUplift.json.metrics.target[0]).toMatchObject({ basis: "uplift" });
    expect(byUplift.json.metrics.target[0].cost).toBeLessThanOrEqual(budget);
    const byResponse = cliJson(targetArgs(budget, BY_RESPONSE));
    expect(byResponse.result.code).toBe(0);
    const truth = await couponTruth();
    // What the contacts cause: (p_treatment - p_control) x revenue per response x margin - cost.
    const incremental = async (runId: string, basis: "p_response" | "uplift") => {
      const list = await readOutput((await manifestOf(root(), runId)).outputs.target_list);
      const perResponse = Number(list[0]!.expected_revenue) / Number(list[0]![basis]);
      return list.reduce((s, t) => {
        const p = truth.get(`${t.customer_id}|${t.channel}`)!;
        return s + (p.treated - p.control) * perResponse * MARGIN - COST[t.channel as string]!;
      }, 0);
    };
    const [u, r] = [await incremental(BY_UPLIFT, "uplift"), await incremental(BY_RESPONSE, "p_response")];
    console.log(`target (uplift basis): planted incremental profit ${u.toFixed(0)} against ${r.toFixed(0)} on the response basis, budget ${budget}`);
    expect(u).toBeGreaterThan(r * 1.2);
  });

  it("the uplift basis on scores without uplift (a score run): exit 4 naming the fix", () => {
    const r = cli(targetArgs(50, "it-target-no-uplift", SCORE.runId, "uplift"));
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("the uplift basis needs predicted uplift, and the scores run holds none");
    expect(r.stderr).toContain("fix: pass --param scores=<a score-uplift run id>, or --param basis=response");
  });

  it("a budget of zero gives an empty list with customers 0 and a null ROI, exit 0", async () => {
    const r = cliJson(targetArgs(0, "it-target-zero"));
    expect(r.result.code, r.result.stderr.slice(-3000)).toBe(0);
    expect(r.json.metrics.target[0]).toMatchObject({ budget: 0, customers: 0, cost: 0, expected_roi: null });
    expect(r.json.outputs.target_list.rows).toBe(0);
  });
});
