/**
 * checkPipeline and planSteps are pure: pipelines are built in memory here, over the real jobs/;
 * runPipeline runs them with a scripted step runner.
 */
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadJob } from "../../submitter/src/config/job.js";
import { SparkjobsError } from "../../submitter/src/errors.js";
import { checkPipeline, loadPipeline, planSteps, runPipeline } from "../../submitter/src/pipeline.js";

const jobsDir = join(import.meta.dirname, "..", "..", "jobs");
const load = (job: string) => loadJob(jobsDir, job);

const PIPELINE = `name: small
version: 1
description: generate then segment
params:
  customers: { type: int, default: 100 }
steps:
  - name: gen
    job: generate
    params: { customers: "{customers}", seed: 3 }
  - name: seg
    job: customer-segmentation
    params: { source: "{steps.gen}", k: 4 }
`;

function problems(text: string): string[] {
  try {
    checkPipeline("jobs/pipelines/small.yaml", text, load);
  } catch (e) {
    expect(e).toBeInstanceOf(SparkjobsError);
    expect((e as SparkjobsError).exitCode).toBe(3);
    return (e as SparkjobsError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error("accepted");
}

describe("pipelines", () => {
  test("steps get <pipeline run>.<step> run ids, parameters and earlier steps' run ids substituted", () => {
    const steps = planSteps(checkPipeline("jobs/pipelines/small.yaml", PIPELINE, load), "pm-1", { customers: "250" });
    expect(steps).toEqual([
      { name: "gen", job: "generate", runId: "pm-1.gen", params: { customers: "250", seed: "3" } },
      { name: "seg", job: "customer-segmentation", runId: "pm-1.seg", params: { source: "pm-1.gen", k: "4" } },
    ]);
  });

  test("an unknown job, a parameter its job lacks, a later step and an undeclared placeholder: all reported", () => {
    const text = PIPELINE.replace("job: generate", "job: generator")
      .replace('k: 4 }', 'k: 4, clusters: 5 }')
      .replace('source: "{steps.gen}"', 'source: "{steps.later}"')
      .replace('seed: 3', 'seed: "{seed}"');
    const found = problems(text);
    expect(found).toContain('steps[0].job: no job named "generator" in jobs (use one of: basket-rules, clv, customer-pca, customer-segmentation, generate, ingest, kpis, recommend, response, score, score-uplift, target, uplift (sparkjobs list))');
    expect(found).toContain("steps[0].params.seed: {seed} is not a parameter of the pipeline");
    expect(found).toContain("steps[1].params.source: {steps.later} is not an earlier step");
    expect(found.some((p) => p.startsWith('steps[1].params.clusters: job customer-segmentation has no parameter "clusters"'))).toBe(true);
  });

  test("a step parameter that its job rejects stops the pipeline before anything runs (exit 2)", () => {
    const pipeline = checkPipeline("jobs/pipelines/small.yaml", PIPELINE.replace("k: 4", "k: 99"), load);
    try {
      planSteps(pipeline, "pm-1", {});
      throw new Error("accepted");
    } catch (e) {
      expect((e as SparkjobsError).exitCode).toBe(2);
      expect((e as SparkjobsError).problems).toEqual([{ file: "jobs/pipelines/small.yaml", path: "steps.seg: --param k", message: "must be at most 20, got 99" }]);
    }
  });

  test("a run id too long for its steps' run ids is refused", () => {
    expect(() => planSteps(checkPipeline("jobs/pipelines/small.yaml", PIPELINE, load), "p".repeat(62), {})).toThrow(/cannot start/);
  });

  test("the committed precision-marketing pipeline loads", () => {
    const p = loadPipeline(jobsDir, "precision-marketing");
    expect(p.definition.steps.map((s) => s.job)).toEqual(["generate", "customer-segmentation", "customer-pca", "response", "score", "uplift", "score-uplift", "target", "target", "recommend", "basket-rules", "clv", "kpis"]);
  });
});

describe("runPipeline", () => {
  test("a step that fails a gate stops the pipeline with exit 7, and the error carries the steps that ran", async () => {
    const pipeline = checkPipeline("jobs/pipelines/small.yaml", PIPELINE, load);
    const ran: string[] = [];
    const e = await runPipeline(pipeline, { runId: "p1", params: {}, log: () => {} }, async (step) => {
      ran.push(step.name);
      const failed = step.name === "seg";
      return {
        runId: step.runId, job: step.job, target: "local", reused: false, planSha256: "a", outputs: { out: { uri: "/r", rows: 3 } }, metrics: {}, uploaded: [], durationMs: 5,
        checks: [{ name: "silhouette", passed: !failed, outcome: failed ? "error" : "ok", detail: failed ? "too low" : "fine" }],
      } as never;
    }).then(() => undefined, (x: unknown) => x as SparkjobsError);
    expect(ran).toEqual(["gen", "seg"]);
    expect(e).toBeInstanceOf(SparkjobsError);
    expect([e!.exitCode, e!.message]).toEqual([7, "pipeline p1 stopped at step seg (job customer-segmentation, run p1.seg): 1 quality gate failed"]);
    const json = e!.toJSON() as { details: { stoppedAt: string; steps: { name: string; status: string; checks: unknown[] }[] } };
    expect(json.details.stoppedAt).toBe("seg");
    expect(json.details.steps.map((s) => [s.name, s.status])).toEqual([["gen", "succeeded"], ["seg", "gate_failed"]]);
    expect(json.details.steps[1]!.checks).toEqual([{ name: "silhouette", passed: false, outcome: "error", detail: "too low" }]);
  });

  test("a step stopped by a retryable error (its run's lock held by another submit) stops the pipeline retryable too", async () => {
    const pipeline = checkPipeline("jobs/pipelines/small.yaml", PIPELINE, load);
    const e = await runPipeline(pipeline, { runId: "p2", params: {}, log: () => {} }, async (step) => {
      if (step.name === "seg") throw new SparkjobsError("conflict", `run ${step.runId} is already being submitted`, { retryable: true });
      return { runId: step.runId, job: step.job, target: "local", reused: true, planSha256: "a", outputs: {}, metrics: {}, uploaded: [], durationMs: 1, checks: [] } as never;
    }).then(() => undefined, (x: unknown) => x as SparkjobsError);
    expect(e!.toJSON()).toMatchObject({ kind: "conflict", exitCode: 11, retryable: true });
  });
});
