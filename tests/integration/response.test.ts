/**
 * Campaign response end to end on generated data, whose planted response probabilities are known:
 * the response job (GBT and logistic regression), its saved models scored again by the score job
 * without retraining, and Spark GBT beside XGBoost on the same vectors.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, ensureResponse, ensureScore, GEN, manifestOf, python, readOutput, repo, RESPONSE as RUN, root, SCORE, SEG } from "./helpers.js";

const RESPONSE = RUN.runId;

/** Area under the ROC curve: the chance a responder scores above a non-responder, ties counting half (ranks averaged). */
function aucOf(scores: number[], labels: number[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const rank = new Array<number>(scores.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) rank[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const positives = labels.filter((l) => l === 1).length;
  const negatives = labels.length - positives;
  const sum = labels.reduce((s, l, i) => s + (l === 1 ? rank[i]! : 0), 0);
  return (sum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

describe("response and score", () => {
  let run: any;

  beforeAll(() => {
    run = ensureResponse().json;
  });

  it("GBT's held-out AUC is within 0.02 of the oracle's (the planted probabilities) on the same rows, both counted here", async () => {
    const gbt = run.metrics.response.models.gbt;
    const logistic = run.metrics.response.models.logistic;
    // The AUCs and the top-decile lift counted here from the held-out predictions and the planted probabilities.
    const test = (await readOutput((await manifestOf(root(), RESPONSE)).outputs.response_scores)).filter((r) => r.split === "test");
    const truth = new Map((await readOutput((await manifestOf(root(), GEN.runId)).outputs.offer_truth)).map((t) => [`${t.customer_id}|${t.campaign_type}|${t.channel}`, Number(t.p_treatment)]));
    const labels = test.map((r) => Number(r.label));
    const auc = { gbt: aucOf(test.map((r) => Number(r.p_gbt)), labels), logistic: aucOf(test.map((r) => Number(r.p_logistic)), labels),
      oracle: aucOf(test.map((r) => truth.get(`${r.customer_id}|${r.campaign_type}|${r.channel}`)!), labels) };
    const ranked = [...test].sort((a, b) => Number(b.p_gbt) - Number(a.p_gbt));
    const rate = (rows: typeof test) => rows.reduce((s, r) => s + Number(r.label), 0) / rows.length;
    const decileLift = rate(ranked.slice(0, Math.round(test.length / 10))) / rate(test);
    console.log(`response (counted from the outputs): gbt AUC ${auc.gbt.toFixed(4)}, logistic ${auc.logistic.toFixed(4)}, oracle ${auc.oracle.toFixed(4)}; ` +
      `top-decile lift ${decileLift.toFixed(2)}; ${test.length} test rows; the run's PR-AUC ${gbt.prAuc.toFixed(4)}`);
    expect(test.length).toBe(run.metrics.response.testRows);
    expect(auc.gbt).toBeCloseTo(gbt.auc, 9);
    expect(auc.logistic).toBeCloseTo(logistic.auc, 9);
    expect(auc.oracle).toBeCloseTo(gbt.oracleAuc, 9);
    expect(Math.abs(auc.oracle - auc.gbt)).toBeLessThanOrEqual(0.02);
    expect(auc.gbt).toBeGreaterThan(0.7);
    expect(decileLift).toBeGreaterThan(2);
    expect(run.checks).toEqual([
      { name: "gbt_auc", passed: true, outcome: "ok", detail: expect.stringMatching(/^response\.models\.gbt\.auc = 0\.\d+ \(>= 0\.65\)$/) },
      { name: "logistic_auc", passed: true, outcome: "ok", detail: expect.stringMatching(/^response\.models\.logistic\.auc = 0\.\d+ \(>= 0\.6\)$/) },
      // every output's key, enforced in Spark
      { name: "response_scores_key_unique", passed: true, outcome: "ok", detail: "every (exposure_id) of response_scores is on one row" },
      { name: "model_metrics_key_unique", passed: true, outcome: "ok", detail: "every (model, scope, scope_value) of model_metrics is on one row" },
      { name: "response_calibration_key_unique", passed: true, outcome: "ok", detail: "every (model, bin) of response_calibration is on one row" },
      { name: "feature_importance_key_unique", passed: true, outcome: "ok", detail: "every (model, feature) of feature_importance is on one row" },
    ]);
    // Every contacted exposure of a customer with a profile is scored, and nothing else.
    const coverage = run.metrics.coverage[0];
    expect(run.outputs.response_scores.rows).toBe(coverage.contacted_with_profile);
    expect(coverage.exposures).toBe(coverage.control + coverage.contacted_with_profile + coverage.contacted_without_profile);
  });

  it("reports metrics per segment, campaign type and channel, calibration bins and feature importance", async () => {
    const manifest = await manifestOf(root(), RESPONSE);
    const metrics = await readOutput(manifest.outputs.model_metrics);
    const segments = await readOutput((await manifestOf(root(), SEG.runId)).outputs.segment_profiles);
    for (const model of ["gbt", "logistic"]) {
      const rows = metrics.filter((r) => r.model === model);
      expect(rows.filter((r) => r.scope === "segment").map((r) => r.scope_value).sort()).toEqual(segments.map((s) => s.segment).sort());
      expect(rows.filter((r) => r.scope === "campaign_type").map((r) => r.scope_value).sort()).toEqual(["coupon", "loyalty", "new_product"]);
      expect(rows.filter((r) => r.scope === "channel")).toHaveLength(4);
      const overall = rows.find((r) => r.scope === "overall")!;
      // Each grouping splits the same held-out rows.
      for (const scope of ["segment", "campaign_type", "channel"]) {
        expect(rows.filter((r) => r.scope === scope).reduce((s, r) => s + Number(r.rows), 0)).toBe(Number(overall.rows));
      }
    }
    const bins = (await readOutput(manifest.outputs.response_calibration)).filter((r) => r.model === "gbt");
    expect(bins.length).toBeGreaterThanOrEqual(8);
    expect(bins.reduce((s, r) => s + Number(r.rows), 0)).toBe(run.metrics.response.testRows);
    // Calibrated: over the bins, the mean prediction tracks the observed rate.
    const worst = Math.max(...bins.map((b) => Math.abs(Number(b.mean_predicted) - Number(b.observed_rate))));
    expect(worst).toBeLessThan(0.1);
    const importance = (await readOutput(manifest.outputs.feature_importance)).filter((r) => r.model === "gbt");
    expect(importance.reduce((s, r) => s + Number(r.importance), 0)).toBeCloseTo(1, 9);
    // The planted probabilities depend most on the number of orders, the offer and the channel.
    const top = importance.sort((a, b) => Number(a.rank) - Number(b.rank)).slice(0, 5).map((r) => r.feature);
    expect(top).toContain("frequency");
    expect(top).toContain("campaign_type");
    expect(Object.keys(manifest.models).sort()).toEqual(["response_gbt", "response_logistic"]);
    expect(manifest.models.response_gbt).toMatchObject({ stage: "response", type: "gbt", label: "responded" });
  });

  it("score reloads the saved model and reproduces the training run's predictions for the same customers", async () => {
    const r = ensureScore();
    const profiles = (await manifestOf(root(), SEG.runId)).outputs.customer_features.rows;
    expect(r.json.outputs.offer_scores.rows).toBe(profiles * 3 * 4);
    const offers = new Map((await readOutput((await manifestOf(root(), SCORE.runId)).outputs.offer_scores)).map((o) => [`${o.customer_id}|${o.campaign_type}|${o.channel}`, Number(o.p_response)]));
    const trained = await readOutput((await manifestOf(root(), RESPONSE)).outputs.response_scores);
    let worst = 0;
    for (const t of trained) worst = Math.max(worst, Math.abs(offers.get(`${t.customer_id}|${t.campaign_type}|${t.channel}`)! - Number(t.p_gbt)));
    console.log(`score: ${trained.length} training predictions reproduced, largest difference ${worst}`);
    expect(worst).toBeLessThan(1e-12);
  });

  it("score names the run and the model when the model run is not a response run", () => {
    const r = cli(["run", "score", "--param", `model_run=${SEG.runId}`, "--param", `source=${GEN.runId}`, "--param", `segments=${SEG.runId}`]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`jobs/score.yaml: models.response_model: run ${SEG.runId} is a run of job customer-segmentation, expected response`);
  });

  it("Spark GBT is within 0.01 AUC of XGBoost on the same feature vectors and split", () => {
    // The run's GBT as it scored its held-out rows (its output), not fitted again; fit times are the bench's.
    const r = spawnSync(python(), [join(repo, "bench", "peers", "xgboost_response.py"), "--root", root(), "--run", RESPONSE, "--run-scores"], { encoding: "utf8" });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const peer = JSON.parse(r.stdout);
    console.log(`xgboost: Spark GBT AUC ${peer.sparkGbt.auc.toFixed(4)} (the run's held-out predictions), XGBoost ${peer.xgboost.version} AUC ${peer.xgboost.auc.toFixed(4)}`);
    expect(peer.testRows).toBe(run.metrics.response.testRows);
    expect(Math.abs(peer.aucDifference)).toBeLessThanOrEqual(0.01);
    // The AUC recomputed here from the predictions is the manifest's.
    expect(peer.sparkGbt.auc).toBeCloseTo(peer.runAuc, 9);
  });
});
