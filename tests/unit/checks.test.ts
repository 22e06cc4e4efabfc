/**
 * Quality gates against a manifest: metric bounds, row counts, severities, the results of the
 * gates the runner evaluates in Spark, and the history table. Pure.
 */
import { describe, expect, test } from "vitest";
import { runManifest, type CheckSpec, type HistoryEntry, type RunManifest } from "../../schemas/src/index.js";
import { evaluateChecks, metricAt, outcomeLabel } from "../../submitter/src/results/checks.js";
import { historyRows } from "../../submitter/src/results/history.js";

/** A manifest that passes the real schema, so the tests use the shape the runner writes. */
function manifest(metrics: Record<string, unknown>, rows: Record<string, number> = {}): RunManifest {
  return runManifest.parse({
    manifestVersion: 1,
    runId: "demo-1",
    job: { name: "demo", version: 1 },
    planSha256: "0".repeat(64),
    status: "succeeded",
    engine: { sparkVersion: "3.5.5", master: "local[1]", applicationId: "local-1" },
    startedAt: "2024-01-01T00:00:00.000Z",
    finishedAt: "2024-01-01T00:01:00.000Z",
    durationMs: 60_000,
    outputs: Object.fromEntries(
      Object.entries(rows).map(([name, n]) => [name, { uri: `/r/runs/demo-1/${name}`, table: name, rows: n, files: [], columns: [] }]),
    ),
    metrics,
    stages: [],
  });
}

const METRICS = {
  segmentation: { silhouette: 0.31, k: 4, ari: 0.92, label: "x", nothing: null },
  source_profile: [{ rows: 541909, customers: 4372 }, { rows: 7 }],
};

const one = (check: CheckSpec, m: RunManifest = manifest(METRICS)) => evaluateChecks([check], m)[0]!;

describe("metricAt", () => {
  test.each([
    ["segmentation.silhouette", 0.31],
    ["segmentation.k", 4],
    ["source_profile.0.rows", 541909],
    ["source_profile.0.customers", 4372],
    ["source_profile.1.rows", 7],
  ])("%s -> %s", (path, value) => {
    expect(metricAt(METRICS, path)).toBe(value);
  });

  test("a whole object or array", () => {
    expect(metricAt(METRICS, "source_profile.0")).toEqual({ rows: 541909, customers: 4372 });
    expect(metricAt(METRICS, "segmentation")).toBe(METRICS.segmentation);
  });

  test.each([
    "source_profile.2.rows", // index past the end
    "segmentation.silhouette.value", // through a number
    "segmentation.label.length.x", // through a string
    "segmentation.nothing.x", // through null
    "missing.path",
    "segmentation.missing",
  ])("%s -> undefined", (path) => {
    expect(metricAt(METRICS, path)).toBeUndefined();
  });
});

describe("evaluateChecks: metric bounds", () => {
  test("min passes, at and above the bound", () => {
    expect(one({ name: "silhouette", metric: "segmentation.silhouette", min: 0.25 })).toEqual({
      name: "silhouette",
      passed: true,
      outcome: "ok",
      detail: "segmentation.silhouette = 0.31 (>= 0.25)",
    });
    expect(one({ name: "silhouette", metric: "segmentation.silhouette", min: 0.31 }).passed).toBe(true);
  });

  test("min fails, saying by how much", () => {
    const r = one({ name: "silhouette", metric: "segmentation.silhouette", min: 0.4 });
    expect(r.passed).toBe(false);
    expect(r.detail).toMatchInlineSnapshot(`"segmentation.silhouette = 0.31 is 0.0900 below the minimum 0.4"`);
    const by = Number(/is ([0-9.e+-]+) below/.exec(r.detail)?.[1]);
    expect(by).toBeCloseTo(0.4 - 0.31, 3);
  });

  test("max passes, at and below the bound; fails above, saying by how much", () => {
    expect(one({ name: "k", metric: "segmentation.k", max: 4 }).passed).toBe(true);
    expect(one({ name: "k", metric: "segmentation.k", max: 8 })).toMatchObject({ passed: true, outcome: "ok", detail: "segmentation.k = 4 (<= 8)" });
    const r = one({ name: "k", metric: "segmentation.k", max: 3 });
    expect(r.passed).toBe(false);
    expect(r.detail).toMatchInlineSnapshot(`"segmentation.k = 4 is 1.00 above the maximum 3"`);
    expect(Number(/is ([0-9.e+-]+) above/.exec(r.detail)?.[1])).toBe(1);
  });

  test("both bounds", () => {
    expect(one({ name: "ari", metric: "segmentation.ari", min: 0.5, max: 1 })).toMatchObject({ passed: true, outcome: "ok", detail: "segmentation.ari = 0.92 (>= 0.5 and <= 1)" });
    expect(one({ name: "ari", metric: "segmentation.ari", min: 0.95, max: 1 }).passed).toBe(false);
    expect(one({ name: "ari", metric: "segmentation.ari", min: 0, max: 0.9 }).passed).toBe(false);
  });

  test("no bounds: passes on any number", () => {
    expect(one({ name: "k", metric: "segmentation.k" })).toEqual({ name: "k", passed: true, outcome: "ok", detail: "segmentation.k = 4" });
  });

  test("an array index in the metric path", () => {
    expect(one({ name: "source_rows", metric: "source_profile.0.rows", min: 1 })).toEqual({
      name: "source_rows",
      passed: true,
      outcome: "ok",
      detail: "source_profile.0.rows = 541909 (>= 1)",
    });
    expect(one({ name: "source_rows", metric: "source_profile.1.rows", min: 10 }).passed).toBe(false);
  });

  test("a missing metric fails, naming it", () => {
    const r = one({ name: "silhouette", metric: "segmentation.silhouete", min: 0.25 });
    expect(r).toEqual({ name: "silhouette", passed: false, outcome: "error", detail: "metric segmentation.silhouete is missing, not a number" });
    expect(one({ name: "x", metric: "source_profile.5.rows", min: 1 }).passed).toBe(false);
  });

  test("a metric that is not a number fails, showing the value", () => {
    expect(one({ name: "label", metric: "segmentation.label", min: 0 })).toEqual({ name: "label", passed: false, outcome: "error", detail: 'metric segmentation.label is "x", not a number' });
    expect(one({ name: "nothing", metric: "segmentation.nothing" })).toEqual({ name: "nothing", passed: false, outcome: "error", detail: "metric segmentation.nothing is null, not a number" });
    expect(one({ name: "obj", metric: "segmentation", max: 1 }).passed).toBe(false);
  });
});

describe("evaluateChecks: row counts", () => {
  const m = manifest(METRICS, { customer_segments: 1200, segment_profiles: 4 });

  test("passes within the bounds, inclusive", () => {
    expect(one({ name: "segmented", output: "customer_segments", minRows: 1000 }, m)).toEqual({ name: "segmented", passed: true, outcome: "ok", detail: "customer_segments has 1200 rows" });
    expect(one({ name: "segmented", output: "customer_segments", minRows: 1200, maxRows: 1200 }, m).passed).toBe(true);
  });

  test("fails below minRows, saying how many are missing", () => {
    const r = one({ name: "segmented", output: "customer_segments", minRows: 2000 }, m);
    expect(r).toEqual({ name: "segmented", passed: false, outcome: "error", detail: "customer_segments has 1200 rows, 800 fewer than the minimum 2000" });
  });

  test("fails above maxRows, saying how many too many", () => {
    const r = one({ name: "few", output: "segment_profiles", maxRows: 3 }, m);
    expect(r).toEqual({ name: "few", passed: false, outcome: "error", detail: "segment_profiles has 4 rows, 1 more than the maximum 3" });
  });

  test("an empty output fails a minRows: 1", () => {
    const empty = manifest({}, { transactions: 0 });
    expect(one({ name: "has_rows", output: "transactions", minRows: 1 }, empty)).toMatchObject({ passed: false, outcome: "error", detail: "transactions has 0 rows, 1 fewer than the minimum 1" });
  });

  test("an output that is not in the manifest fails", () => {
    expect(one({ name: "x", output: "clean_transactions", minRows: 0 }, m)).toEqual({ name: "x", passed: false, outcome: "error", detail: "output clean_transactions is not in the manifest" });
  });

  test("results come back in the order of the checks, one each", () => {
    const checks: CheckSpec[] = [
      { name: "a", output: "segment_profiles", minRows: 1 },
      { name: "b", metric: "segmentation.silhouette", min: 0.9 },
      { name: "c", output: "customer_segments", maxRows: 10 },
    ];
    expect(evaluateChecks(checks, m).map((r) => [r.name, r.passed])).toEqual([
      ["a", true],
      ["b", false],
      ["c", false],
    ]);
    expect(evaluateChecks([], m)).toEqual([]);
  });
});

describe("severity and the gates the runner evaluates in Spark", () => {
  test("a failed gate of severity warn is a warning: reported, and the run stands", () => {
    const r = one({ name: "silhouette", metric: "segmentation.silhouette", min: 0.5, severity: "warn" });
    expect(r).toEqual({ name: "silhouette", passed: true, outcome: "warn", detail: "segmentation.silhouette = 0.31 is 0.190 below the minimum 0.5" });
    expect(outcomeLabel(r)).toBe("WARNING");
    expect(outcomeLabel(one({ name: "k", metric: "segmentation.k", max: 3 }))).toBe("FAILED");
  });

  test("unique, references, accepted, reconcile and drift results come from the manifest, with their sample", () => {
    const m = runManifest.parse({
      ...manifest(METRICS),
      checks: [
        { name: "key", kind: "unique", severity: "error", outcome: "error", detail: "2 value(s) of (customer_id) ...", failing: 2, sample: "/r/runs/demo-1/_checks/key.json" },
        { name: "shares", kind: "drift", severity: "error", outcome: "warn", detail: "moved 6 points", value: 0.06, previousRunId: "demo-0" },
        { name: "sum", kind: "reconcile", severity: "error", outcome: "ok", detail: "equal", value: 0 },
      ],
    });
    const checks: CheckSpec[] = [
      { name: "key", unique: { output: "customer_segments", columns: ["customer_id"] } },
      { name: "shares", drift: { shares: { output: "customer_segments", column: "segment" } }, warn: 0.05, error: 0.1 },
      { name: "sum", reconcile: { left: { sql: "SELECT 1" }, right: { sql: "SELECT 1" }, tolerance: 0 } },
      { name: "names", accepted: { output: "customer_segments", column: "segment", values: ["a"] }, severity: "warn" },
    ];
    expect(evaluateChecks(checks, m)).toEqual([
      { name: "key", passed: false, outcome: "error", detail: "2 value(s) of (customer_id) ...", sample: "/r/runs/demo-1/_checks/key.json" },
      { name: "shares", passed: true, outcome: "warn", detail: "moved 6 points" },
      { name: "sum", passed: true, outcome: "ok", detail: "equal" },
      // a gate the runner left out is not passed over: it fails at its own severity
      { name: "names", passed: true, outcome: "warn", detail: "the run did not evaluate this gate (its manifest has no result for it)" },
    ]);
  });
});

describe("history rows", () => {
  test("one row per run with its rows and the gates that warned or failed", () => {
    const entry = (runId: string, checks: HistoryEntry["checks"]): HistoryEntry => ({
      runId, job: { name: "customer-segmentation", version: 1 }, series: "daily", planSha256: "a".repeat(64), finishedAt: "2026-12-01T10:00:00.123Z",
      rows: { customer_segments: 1200, segment_profiles: 4 }, profiles: {}, checks, metrics: {},
    });
    expect(historyRows([
      entry("r1", [{ name: "shares", kind: "drift", severity: "error", outcome: "ok", detail: "", value: null }]),
      entry("r2", [{ name: "shares", kind: "drift", severity: "error", outcome: "error", detail: "", value: 0.123456 }, { name: "rows", kind: "drift", severity: "warn", outcome: "warn", detail: "" }]),
      entry("r3", []),
    ])).toEqual([
      ["r1", "2026-12-01T10:00:00Z", "customer_segments 1200, segment_profiles 4", "all ok"],
      ["r2", "2026-12-01T10:00:00Z", "customer_segments 1200, segment_profiles 4", "shares error (0.123), rows warn"],
      ["r3", "2026-12-01T10:00:00Z", "customer_segments 1200, segment_profiles 4", "-"],
    ]);
  });
});
