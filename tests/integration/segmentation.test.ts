/**
 * The main job end to end on generated data: the real CLI, the real spark-submit.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { adjustedRandIndex, cli, cliJson, ensureSegmentation, GEN, manifestOf, readOutput, root, SEG } from "./helpers.js";

interface RunJson {
  runId: string;
  job: string;
  target: string;
  status: string;
  reused: boolean;
  outputs: Record<string, { uri: string; rows: number }>;
  metrics: Record<string, any>;
  checks: { name: string; passed: boolean; detail: string }[];
  durationMs: number;
}

describe("customer-segmentation on generated data", () => {
  let run: RunJson;
  let generate: any;

  beforeAll(() => {
    run = ensureSegmentation().json;
  });

  it("prints exactly one JSON object with the run's summary", async () => {
    expect(run).toMatchObject({ runId: SEG.runId, job: "customer-segmentation", target: "local", status: "succeeded" });
    expect(typeof run.durationMs).toBe("number");
    expect(Object.keys(run.outputs).sort()).toEqual(["clean_transactions", "customer_features", "customer_segments", "segment_profiles"]);
    expect(run.outputs.customer_segments!.rows).toBe(GEN.customers);
    expect(run.checks.map((c) => [c.name, c.passed])).toEqual([
      ["silhouette", true], ["segmented_customers", true], ["segments_of_featured_customers", true], ["monetary_reconciles", true],
      ["segment_shares_stable", true], ["customers_stable", true], ["clean_transactions_key_unique", true], ["customer_features_key_unique", true],
      ["customer_segments_key_unique", true], ["segment_profiles_key_unique", true],
    ]);
  });

  it("finds the planted segments: adjusted Rand index >= 0.8, computed here from the outputs", async () => {
    const manifest = await manifestOf(root(), SEG.runId);
    generate = await manifestOf(root(), GEN.runId);
    const found = await readOutput(manifest.outputs.customer_segments);
    const truth = new Map((await readOutput(generate.outputs.truth_segments)).map((r) => [r.customer_id as string, r.true_segment as string]));
    const ids = found.map((r) => r.customer_id as string);
    expect(new Set(ids).size).toBe(GEN.customers);
    const ari = adjustedRandIndex(found.map((r) => r.cluster as number), ids.map((id) => truth.get(id)!));
    console.log(`adjusted Rand index (test): ${ari.toFixed(4)}, (manifest): ${run.metrics.segmentation.ari}`);
    expect(ari).toBeGreaterThanOrEqual(0.8);
    expect(run.metrics.segmentation.ari).toBeCloseTo(ari, 9);
    // The business names match the planted ones for most customers.
    const named = found.filter((r) => r.segment === truth.get(r.customer_id as string)).length / found.length;
    expect(named).toBeGreaterThanOrEqual(0.8);
  });

  it("reports silhouette, inertia and segment sizes in the manifest", () => {
    const seg = run.metrics.segmentation;
    expect(seg.k).toBeGreaterThanOrEqual(2);
    expect(seg.silhouette).toBeGreaterThan(0);
    expect(seg.inertia).toBeGreaterThan(0);
    const sizes = Object.values(seg.segmentSizes as Record<string, number>);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(GEN.customers);
    expect(Object.keys(seg.silhouetteByK).length).toBe(7);
  });

  it("counts every cleaning rule, and the counts equal the dirt the generator planted", () => {
    const planted = Object.fromEntries((generate.metrics.planted_dirt as { kind: string; rows: number }[]).map((r) => [r.kind, r.rows]));
    const counts = Object.fromEntries((run.metrics.clean_transactions as { rule: string; dropped: number; matching: number }[]).map((r) => [r.rule, r]));
    for (const rule of ["missing_customer", "cancelled", "returned", "missing_product", "future_date", "outlier", "duplicate"]) {
      expect(planted[rule], `planted ${rule}`).toBeGreaterThan(0);
      expect(counts[rule]!.dropped, `dropped ${rule}`).toBe(planted[rule]);
    }
    expect(counts.kept!.matching).toBe(planted.genuine);
    expect(counts.input!.matching).toBe(Object.values(planted).reduce((a, b) => a + b, 0));
    expect(run.outputs.clean_transactions!.rows).toBe(planted.genuine);
    const events = Object.fromEntries((run.metrics.clean_events as { rule: string; dropped: number }[]).map((r) => [r.rule, r.dropped]));
    for (const rule of ["anonymous", "duplicate", "future_date", "kept"]) expect(events[rule], rule).toBeGreaterThan(0);
  });

  it("validate says the run is complete and valid", () => {
    const r = cliJson(["validate", SEG.runId]);
    expect(r.result.code, r.result.stderr).toBe(0);
    expect(r.json).toMatchObject({ runId: SEG.runId, status: "complete" });
  });

  it("a retried run with the same id and plan reports the finished run without running Spark; --report writes its HTML report", () => {
    const file = join(mkdtempSync(join(tmpdir(), "sparkjobs-report-")), "segments.html");
    const { result, json } = cliJson<RunJson & { report: string }>(["run", "customer-segmentation", "--param", `source=${GEN.runId}`, "--run-id", SEG.runId, "--report", file]);
    expect(result.code).toBe(0);
    expect(json.reused).toBe(true);
    expect(json.outputs).toEqual(run.outputs);
    expect(result.stderr).toContain("already complete with the same plan");
    expect(result.stderr).not.toContain("submitted run");
    expect(json.report).toBe(file);
    const html = readFileSync(file, "utf8");
    expect(html).toContain(`<section id="run-${SEG.runId}"`);
    expect([...html.matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1])).toEqual(["cleaning-transactions", "cleaning-events", "segment-sizes", "segment-revenue", "silhouette-by-k"]);
  });

  it("the same run id with another plan is a conflict (exit 11)", () => {
    const r = cli(["run", "customer-segmentation", "--param", `source=${GEN.runId}`, "--param", "k=3", "--run-id", SEG.runId]);
    expect(r.code).toBe(11);
    expect(r.stderr).toContain(`run ${SEG.runId} already completed with a different plan`);
  });
});
