/**
 * A manifest is trusted only for its own run folder: outputs, files and models it lists elsewhere
 * (../../etc/passwd) make the run incomplete, and nothing outside is read. A data file of the right
 * size that is not Parquet is a problem named in the report, not a crash.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { RunManifest } from "../../schemas/src/index.js";
import { outsideRun, readManifest } from "../../submitter/src/results/manifest.js";
import { validateOutput } from "../../submitter/src/results/validate.js";
import { LocalStorage } from "../../submitter/src/stage/storage.js";

function manifest(runUri: string, edit: (m: RunManifest) => void = () => {}): RunManifest {
  const m: RunManifest = {
    manifestVersion: 1,
    runId: "r1",
    job: { name: "customer-pca", version: 1 },
    planSha256: "0".repeat(64),
    status: "succeeded",
    engine: { sparkVersion: "3.5.5", master: "local[2]", applicationId: "app-1" },
    startedAt: "2026-01-01T00:00:00Z",
    finishedAt: "2026-01-01T00:01:00Z",
    durationMs: 60000,
    outputs: { segment_map: { uri: `${runUri}/segment_map`, table: "segment_map", rows: 1, files: [{ path: "part-0.parquet", bytes: 64 }], columns: [] } },
    metrics: {},
    models: { m: { uri: `${runUri}/models/m`, stage: "s", type: "gbt", label: "y", columns: [] } },
    stages: [],
  };
  edit(m);
  return m;
}

describe("a manifest names only its own run folder", () => {
  const run = "/data/root/runs/r1";

  test("the runner's own manifest is within", () => {
    expect(outsideRun(run, manifest(run))).toEqual([]);
    expect(outsideRun(`${run}/`, manifest(run))).toEqual([]);
    expect(outsideRun("s3://b/root/runs/r1", manifest("s3://b/root/runs/r1", (m) => (m.outputs.segment_map!.files = [{ path: "day=2024-01-01/part-0.parquet", bytes: 1 }])))).toEqual([]);
  });

  test.each([
    ["an output elsewhere", (m: RunManifest) => (m.outputs.segment_map!.uri = "/etc"), "output segment_map at /etc"],
    ["an output climbing out", (m: RunManifest) => (m.outputs.segment_map!.uri = `${run}/../r2/segment_map`), `output segment_map at ${run}/../r2/segment_map`],
    ["an output in a run whose id starts the same", (m: RunManifest) => (m.outputs.segment_map!.uri = `${run}0/segment_map`), `output segment_map at ${run}0/segment_map`],
    ["a file climbing out", (m: RunManifest) => (m.outputs.segment_map!.files = [{ path: "../../../../../etc/passwd", bytes: 1 }]), "output segment_map file ../../../../../etc/passwd"],
    ["an absolute file", (m: RunManifest) => (m.outputs.segment_map!.files = [{ path: "/etc/passwd", bytes: 1 }]), "output segment_map file /etc/passwd"],
    ["a file with a scheme", (m: RunManifest) => (m.outputs.segment_map!.files = [{ path: "s3://other/x", bytes: 1 }]), "output segment_map file s3://other/x"],
    ["a model elsewhere", (m: RunManifest) => (m.models!.m!.uri = "/tmp/model"), "model m at /tmp/model"],
  ])("%s is outside", (_, edit, found) => {
    expect(outsideRun(run, manifest(run, edit))).toEqual([found]);
  });

  test("readManifest calls such a run incomplete and reads nothing it lists", async () => {
    const root = mkdtempSync(join(tmpdir(), "sparkjobs-manifest-"));
    const runUri = join(root, "runs", "r1");
    mkdirSync(runUri, { recursive: true });
    writeFileSync(join(runUri, "_manifest.json"), JSON.stringify(manifest(runUri, (m) => (m.outputs.segment_map!.files = [{ path: "../../../../../../../../etc/passwd", bytes: 1 }]))));
    const state = await readManifest(new LocalStorage(), runUri);
    expect(state.complete).toBe(false);
    expect(state.complete ? "" : state.reason).toContain(`lists files outside the run folder ${runUri} (output segment_map file ../../../../../../../../etc/passwd)`);
  });
});

describe("validate on a data file that is not Parquet", () => {
  test("a garbled file of the size the manifest gives is a problem naming the file", async () => {
    const root = mkdtempSync(join(tmpdir(), "sparkjobs-garbled-"));
    const out = join(root, "runs", "r1", "segment_map");
    mkdirSync(out, { recursive: true });
    const garbage = Buffer.from("PAR1".padEnd(64, "x"));
    writeFileSync(join(out, "part-0.parquet"), garbage);
    const m = manifest(join(root, "runs", "r1"));
    const report = await validateOutput(new LocalStorage(), "segment_map", m.outputs.segment_map!);
    expect(report.missingFiles).toEqual([]);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ file: join(out, "part-0.parquet"), message: expect.stringMatching(/^is not a readable Parquet file \(/) });
  });
});
