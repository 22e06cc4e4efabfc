/**
 * Campaign KPIs and A/B tests on generated data, against the planted response probabilities:
 * every figure is recomputed here from the generate run's own outputs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { cliJson, ensureSegmentation, GEN, manifestOf, PIPELINE, readOutput, root, SEG } from "./helpers.js";

const COST: Record<string, number> = { email: 0.1, sms: 0.4, push: 0.05, social: 1.5 };

describe("kpis", () => {
  let run: any;
  let tests: Record<string, any>[];
  let kpis: Record<string, any>[];
  let exposures: Record<string, any>[];
  let truth: Map<string, { p_control: number; p_treatment: number }>;

  beforeAll(async () => {
    ensureSegmentation();
    const r = cliJson(["run", "kpis", "--param", `source=${GEN.runId}`, "--param", `segments=${SEG.runId}`, "--run-id", `${PIPELINE}.kpis`]);
    if (r.result.code !== 0) throw new Error(`kpis failed (exit ${r.result.code}):\n${r.result.stderr.slice(-4000)}`);
    run = r.json;
    const manifest = await manifestOf(root(), `${PIPELINE}.kpis`);
    tests = await readOutput(manifest.outputs.ab_tests);
    kpis = await readOutput(manifest.outputs.campaign_kpis);
    const generate = await manifestOf(root(), GEN.runId);
    exposures = await readOutput(generate.outputs.campaigns);
    truth = new Map((await readOutput(generate.outputs.offer_truth)).map((t) => [`${t.customer_id}|${t.campaign_type}|${t.channel}`, t as any]));
  });

  it("each campaign's 95% interval of the lift covers the planted lift (at least 10 of 12), and the counts are the data's", () => {
    expect(tests).toHaveLength(12);
    let covered = 0;
    for (const t of tests) {
      const audience = exposures.filter((e) => e.campaign_id === t.campaign_id);
      const treated = audience.filter((e) => e.test_group === "treatment");
      const held = audience.filter((e) => e.test_group === "control");
      expect(Number(t.treatment_rows)).toBe(treated.length);
      expect(Number(t.control_rows)).toBe(held.length);
      expect(t.treatment_rate).toBeCloseTo(treated.filter((e) => e.responded).length / treated.length, 12);
      // The planted lift: the audience's mean difference of the true probabilities with and without contact.
      const planted = audience.reduce((s, e) => {
        const p = truth.get(`${e.customer_id}|${e.campaign_type}|${e.channel}`)!;
        return s + p.p_treatment - p.p_control;
      }, 0) / audience.length;
      const inside = t.ci_low <= planted && planted <= t.ci_high;
      covered += inside ? 1 : 0;
      console.log(`kpis: ${t.campaign_id} ${t.campaign_type}: lift ${t.lift.toFixed(4)} [${t.ci_low.toFixed(4)}, ${t.ci_high.toFixed(4)}] ` +
        `p=${t.p_value.toExponential(2)}, planted ${planted.toFixed(4)}${inside ? "" : " (outside)"}`);
    }
    expect(covered).toBeGreaterThanOrEqual(10);
    expect(run.metrics.ab_test).toMatchObject({ tests: 12, confidence: 0.95 });
  });

  it("KPIs add up: contacts, responders, cost by the channel prices, CAC and ROI", () => {
    const treated = exposures.filter((e) => e.test_group === "treatment");
    const overall = kpis.find((k) => k.scope === "overall")!;
    expect(Number(overall.contacted)).toBe(treated.length);
    expect(Number(overall.responders)).toBe(treated.filter((e) => e.responded).length);
    const cost = treated.reduce((s, e) => s + COST[e.channel as string]!, 0);
    const revenue = treated.reduce((s, e) => s + Number(e.revenue ?? 0), 0);
    expect(overall.cost).toBeCloseTo(cost, 6);
    expect(overall.revenue).toBeCloseTo(revenue, 6);
    expect(overall.cac).toBeCloseTo(cost / Number(overall.responders), 9);
    expect(overall.roi).toBeCloseTo((revenue * 0.3 - cost) / cost, 9);
    for (const scope of ["campaign", "campaign_type", "channel", "segment"]) {
      const rows = kpis.filter((k) => k.scope === scope);
      expect(rows.reduce((s, k) => s + Number(k.contacted), 0), scope).toBe(treated.length);
    }
    expect(kpis.filter((k) => k.scope === "campaign")).toHaveLength(12);
  });
});
