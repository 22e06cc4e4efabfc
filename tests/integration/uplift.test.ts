/**
 * Uplift on generated data, whose planted probabilities with and without contact are known: the
 * two-model learner's estimates against the planted treatment effect.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { cliJson, ensureSegmentation, manifestOf, readOutput, root, UPLIFT } from "./helpers.js";

describe("uplift", () => {
  let m: any;

  beforeAll(() => {
    ensureSegmentation();
    const r = cliJson([...UPLIFT.args, "--run-id", UPLIFT.runId]);
    if (r.result.code !== 0) throw new Error(`uplift failed (exit ${r.result.code}):\n${r.result.stderr.slice(-4000)}`);
    m = r.json.metrics.uplift;
    expect(r.json.checks).toEqual([{ name: "positive_lift_at_top", passed: true, detail: expect.stringMatching(/^uplift\.top\.lift = 0\.\d+ \(>= 0\)$/) }]);
  });

  it("the observed lift's 95% interval covers the planted treatment effect, overall and at the top 30%", () => {
    const show = (what: string, lift: any, planted: number) =>
      `${what}: lift ${lift.lift.toFixed(4)} [${lift.ci_low.toFixed(4)}, ${lift.ci_high.toFixed(4)}], planted ${planted.toFixed(4)}`;
    console.log(`uplift: ${show("all held-out rows", m.all, m.planted.all)}; ${show("top 30% by uplift", m.top, m.planted.top)}; qini ${m.qini.toFixed(1)}`);
    expect(m.all.ci_low).toBeLessThanOrEqual(m.planted.all);
    expect(m.all.ci_high).toBeGreaterThanOrEqual(m.planted.all);
    expect(m.top.ci_low).toBeLessThanOrEqual(m.planted.top);
    expect(m.top.ci_high).toBeGreaterThanOrEqual(m.planted.top);
  });

  it("targets persuadable customers: the top 30% by uplift carry more planted uplift than all rows and than the top 30% by response", () => {
    console.log(`uplift: planted uplift of the top 30% by uplift ${m.planted.top.toFixed(4)}, by response ${m.planted.topByResponse.toFixed(4)}, all ${m.planted.all.toFixed(4)}`);
    expect(m.planted.top).toBeGreaterThan(m.planted.all * 1.5);
    expect(m.planted.top).toBeGreaterThan(m.planted.topByResponse);
    expect(m.qini).toBeGreaterThan(0);
  });

  it("scores every exposure of a profiled customer, both groups, and saves both models", async () => {
    const manifest = await manifestOf(root(), UPLIFT.runId);
    const rows = await readOutput(manifest.outputs.uplift_scores);
    expect(new Set(rows.map((r) => r.test_group))).toEqual(new Set(["treatment", "control"]));
    for (const r of rows.slice(0, 500)) expect(Number(r.uplift)).toBeCloseTo(Number(r.p_treatment) - Number(r.p_control), 12);
    expect(Object.keys(manifest.models).sort()).toEqual(["uplift_control", "uplift_treatment"]);
  });
});
