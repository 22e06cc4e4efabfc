/**
 * The precision-marketing pipeline: generate -> customer-segmentation (clean, features, segments)
 * -> customer-pca -> response -> score -> uplift -> score-uplift -> target (response and uplift basis)
 * -> recommend -> basket-rules -> clv -> kpis in one command, each step reading the earlier steps'
 * outputs and models through their manifests. The other test files run the same steps with the same run
 * ids and parameters, so whichever comes first runs a step and the other reuses it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, cliJson, GEN, manifestOf, PIPELINE, root, TARGET_BUDGET } from "./helpers.js";

const ARGS = ["pipeline", "precision-marketing", "--param", `customers=${GEN.customers}`, "--param", `seed=${GEN.seed}`, "--param", `budget=${TARGET_BUDGET}`, "--run-id", PIPELINE];
const STEPS = ["generate", "segments", "pca", "response", "score", "uplift", "score_uplift", "target", "target_uplift", "recommend", "basket_rules", "clv", "kpis"];

describe("pipeline precision-marketing", () => {
  it("runs every step in order, each step's plan reading the earlier steps' outputs", async () => {
    const { result, json } = cliJson(ARGS);
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    expect(json.status).toBe("succeeded");
    expect(json.steps.map((s: any) => [s.name, s.runId, s.status])).toEqual(STEPS.map((s) => [s, `${PIPELINE}.${s}`, "succeeded"]));
    console.log(`pipeline: ${json.steps.map((s: any) => `${s.name} ${(s.durationMs / 1000).toFixed(0)} s${s.reused ? " (reused)" : ""}`).join(", ")}`);
    // Every input of every step's plan is an output of an earlier step, and every model it loads was
    // saved by an earlier step, as that step's manifest lists them.
    const outputs = new Map<string, string>();
    const models = new Map<string, string>();
    const plans = new Map<string, any>();
    for (const step of STEPS) {
      const manifest = await manifestOf(root(), `${PIPELINE}.${step}`);
      const plan = JSON.parse(readFileSync(join(root(), "stage", "plans", `${manifest.planSha256}.json`), "utf8"));
      plans.set(step, plan);
      for (const input of plan.inputs) expect([...outputs.values()], `${step}: ${input.name}`).toContain(input.uri);
      for (const model of plan.models) expect([...models.values()], `${step}: ${model.name}`).toContain(model.uri);
      for (const [name, out] of Object.entries<any>(manifest.outputs)) outputs.set(`${step}.${name}`, out.uri);
      for (const [name, model] of Object.entries<any>(manifest.models ?? {})) models.set(`${step}.${name}`, model.uri);
    }
    const loads = (step: string) => plans.get(step).models.map((m: any) => m.uri);
    expect(loads("score")).toEqual([models.get("response.response_gbt")]);
    expect(loads("score_uplift")).toEqual([models.get("uplift.uplift_treatment"), models.get("uplift.uplift_control")]);
    const target = json.steps.find((s: any) => s.name === "target");
    expect(target.checks).toEqual([
      { name: "within_budget", passed: true, outcome: "ok", detail: expect.stringMatching(new RegExp(`<= ${TARGET_BUDGET}\\)$`)) },
      { name: "target_list_key_unique", passed: true, outcome: "ok", detail: "every (customer_id) of target_list is on one row" },
    ]);
  });

  it("a second run with the same id reuses every step and runs nothing", () => {
    const { result, json } = cliJson(ARGS);
    expect(result.code).toBe(0);
    expect(json.steps.every((s: any) => s.reused)).toBe(true);
    expect(result.stderr).not.toContain("submitted run");
  });

  it("bad step parameters stop it before anything runs, naming the parameter (exit 2)", () => {
    const r = cli(["pipeline", "precision-marketing", "--param", "budget=-5", "--param", "customers=12.5", "--run-id", "it-pm-bad"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: parameters of pipeline precision-marketing are not valid");
    expect(r.stderr).toContain("--param customers: expected a whole number");
    expect(r.stderr).toContain("--param budget: must be at least 0, got -5");
    expect(r.stderr).not.toContain("submitted run");
  });
});
