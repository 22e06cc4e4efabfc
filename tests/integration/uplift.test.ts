/**
 * Uplift on generated data, whose planted probabilities with and without contact are known: the
 * two-model learner's estimates against the planted treatment effect, every figure (lift and its
 * interval, the top 30%, the Qini area) counted in the test from the run's held-out rows.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { cliJson, ensureSegmentation, GEN, manifestOf, readOutput, root, UPLIFT } from "./helpers.js";

type Row = Record<string, unknown>;

/** Observed lift (treated minus control response rate) with its 95% Wald interval, counted here. */
function lift(rows: Row[]) {
  const t = rows.filter((r) => r.test_group === "treatment");
  const c = rows.filter((r) => r.test_group === "control");
  const pt = t.filter((r) => Number(r.label) === 1).length / t.length;
  const pc = c.filter((r) => Number(r.label) === 1).length / c.length;
  const se = Math.sqrt((pt * (1 - pt)) / t.length + (pc * (1 - pc)) / c.length);
  return { lift: pt - pc, low: pt - pc - 1.959964 * se, high: pt - pc + 1.959964 * se, treated: t.length, control: c.length };
}

/** The rows with the 30% highest values of a column. */
const top30 = (rows: Row[], column: string) => [...rows].sort((a, b) => Number(b[column]) - Number(a[column])).slice(0, Math.round(rows.length * 0.3));

/** Area between the Qini curve (treated responders - control responders x n_t / n_c, by rank) and random targeting, per row. */
function qini(rows: Row[]): number {
  const ranked = [...rows].sort((a, b) => Number(b.uplift) - Number(a.uplift));
  let nt = 0, nc = 0, yt = 0, yc = 0, area = 0;
  const curve: number[] = [];
  for (const r of ranked) {
    if (r.test_group === "treatment") {
      nt++;
      yt += Number(r.label);
    } else {
      nc++;
      yc += Number(r.label);
    }
    curve.push(yt - (nc ? (yc * nt) / nc : 0));
  }
  const total = curve[curve.length - 1]!;
  curve.forEach((q, i) => (area += q - (total * (i + 1)) / curve.length));
  return area / curve.length / curve.length;
}

describe("uplift", () => {
  let m: any;
  let test: Row[];
  let planted: Map<string, number>;
  const plantedMean = (rows: Row[]) => rows.reduce((s, r) => s + planted.get(`${r.customer_id}|${r.campaign_type}|${r.channel}`)!, 0) / rows.length;

  beforeAll(async () => {
    ensureSegmentation();
    const r = cliJson([...UPLIFT.args, "--run-id", UPLIFT.runId]);
    if (r.result.code !== 0) throw new Error(`uplift failed (exit ${r.result.code}):\n${r.result.stderr.slice(-4000)}`);
    m = r.json.metrics.uplift;
    expect(r.json.checks).toEqual([
      { name: "positive_lift_at_top", passed: true, outcome: "ok", detail: expect.stringMatching(/^uplift\.top\.lift = 0\.\d+ \(>= 0\)$/) },
      { name: "uplift_scores_key_unique", passed: true, outcome: "ok", detail: "every (exposure_id) of uplift_scores is on one row" },
    ]);
    // Every figure below is counted here from the run's held-out rows and the planted probabilities.
    test = (await readOutput((await manifestOf(root(), UPLIFT.runId)).outputs.uplift_scores)).filter((x) => x.split === "test");
    planted = new Map((await readOutput((await manifestOf(root(), GEN.runId)).outputs.offer_truth))
      .map((t) => [`${t.customer_id}|${t.campaign_type}|${t.channel}`, Number(t.p_treatment) - Number(t.p_control)]));
  });

  it("the observed lift's 95% interval covers the planted treatment effect, overall and at the top 30%", () => {
    const all = lift(test);
    const top = lift(top30(test, "uplift"));
    const show = (what: string, l: ReturnType<typeof lift>, p: number) => `${what}: lift ${l.lift.toFixed(4)} [${l.low.toFixed(4)}, ${l.high.toFixed(4)}], planted ${p.toFixed(4)}`;
    console.log(`uplift (counted from the outputs): ${show("all held-out rows", all, plantedMean(test))}; ${show("top 30% by uplift", top, plantedMean(top30(test, "uplift")))}`);
    // The run's own figure for all held-out rows is the same count.
    expect([all.treated, all.control]).toEqual([m.all.treatmentRows, m.all.controlRows]);
    expect(all.lift).toBeCloseTo(m.all.lift, 12);
    expect(all.low).toBeLessThanOrEqual(plantedMean(test));
    expect(all.high).toBeGreaterThanOrEqual(plantedMean(test));
    expect(top.low).toBeLessThanOrEqual(plantedMean(top30(test, "uplift")));
    expect(top.high).toBeGreaterThanOrEqual(plantedMean(top30(test, "uplift")));
  });

  it("targets persuadable customers: the top 30% by uplift carry more planted uplift than all rows and than the top 30% by response", () => {
    const [byUplift, byResponse, all] = [plantedMean(top30(test, "uplift")), plantedMean(top30(test, "p_treatment")), plantedMean(test)];
    const q = qini(test);
    console.log(`uplift: planted uplift of the top 30% by uplift ${byUplift.toFixed(4)}, by response ${byResponse.toFixed(4)}, all ${all.toFixed(4)}; Qini ${q.toFixed(5)} (counted here)`);
    expect(byUplift).toBeGreaterThan(all * 1.5);
    expect(byUplift).toBeGreaterThan(byResponse);
    expect(q).toBeGreaterThan(0);
  });

  it("scores every exposure of a profiled customer, both groups, and saves both models", async () => {
    const manifest = await manifestOf(root(), UPLIFT.runId);
    const rows = await readOutput(manifest.outputs.uplift_scores);
    expect(new Set(rows.map((r) => r.test_group))).toEqual(new Set(["treatment", "control"]));
    for (const r of rows) expect(Number(r.uplift)).toBeCloseTo(Number(r.p_treatment) - Number(r.p_control), 12);
    expect(Object.keys(manifest.models).sort()).toEqual(["uplift_control", "uplift_treatment"]);
  });
});
