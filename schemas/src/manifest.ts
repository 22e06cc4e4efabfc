/**
 * The manifest: written by the runner as the very last file of a run. A run without a valid
 * manifest is incomplete, whatever else its folder holds.
 */
import { z } from "zod";
import { identifier, runId } from "./definition.js";

export const MANIFEST_VERSION = 1 as const;

export const manifestColumn = z.strictObject({ name: z.string(), type: z.string(), nullable: z.boolean() });

export const manifestOutput = z.strictObject({
  uri: z.string(),
  table: z.string(),
  rows: z.number().int().min(0),
  /** Data files written, relative to uri, with their sizes: what validate checks are all there. */
  files: z.array(z.strictObject({ path: z.string(), bytes: z.number().int().min(0) })),
  columns: z.array(manifestColumn),
  /** Columns beyond the table's schema (a source's customer features), which later runs read too. */
  extraColumns: z.array(z.strictObject({ name: identifier, type: z.enum(["double", "string"]) })).optional(),
});
export type ManifestOutput = z.infer<typeof manifestOutput>;

/** A Spark ML pipeline model a run saved (under runUri/models/), loadable with PipelineModel.load. */
export const manifestModel = z.strictObject({
  uri: z.string(),
  stage: z.string(),
  type: z.string(),
  label: z.string(),
  /** The input columns the pipeline reads. */
  columns: z.array(z.string()),
});
export type ManifestModel = z.infer<typeof manifestModel>;

/** The result of a gate evaluated by the runner in Spark (unique, references, accepted, reconcile, drift). */
export const manifestCheck = z.strictObject({
  name: identifier,
  kind: z.enum(["unique", "references", "accepted", "reconcile", "drift"]),
  severity: z.enum(["warn", "error"]),
  /** ok; warn (a drift past its warn threshold, or a failed gate of severity warn); error. */
  outcome: z.enum(["ok", "warn", "error"]),
  detail: z.string(),
  /** Rows (or keys) that break the gate. */
  failing: z.number().int().min(0).optional(),
  /** JSON file beside the manifest with a sample of the failing rows. */
  sample: z.string().optional(),
  /** The measured value: a difference, a share move, a PSI. */
  value: z.number().nullable().optional(),
  /** The run compared with (drift). */
  previousRunId: z.string().optional(),
});
export type ManifestCheck = z.infer<typeof manifestCheck>;

export const runManifest = z.strictObject({
  manifestVersion: z.literal(MANIFEST_VERSION),
  runId,
  job: z.strictObject({ name: z.string(), version: z.number().int().positive() }),
  /** sha256 of the canonical plan JSON: a rerun with the same id must carry the same plan. */
  planSha256: z.string().regex(/^[0-9a-f]{64}$/),
  status: z.literal("succeeded"),
  engine: z.strictObject({
    sparkVersion: z.string(),
    master: z.string(),
    applicationId: z.string(),
    /** The driver's Python: its version, and the interpreter (a run with Python packages: the packed environment's). */
    python: z.strictObject({ version: z.string(), executable: z.string() }).optional(),
  }),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  durationMs: z.number().int().min(0),
  outputs: z.record(identifier, manifestOutput),
  metrics: z.record(z.string(), z.unknown()),
  /** Models saved by the run, by name (absent in runs that save none). */
  models: z.record(identifier, manifestModel).optional(),
  stages: z.array(z.strictObject({ name: z.string(), kind: z.string(), ms: z.number().int().min(0) })),
  /** Gates evaluated in Spark, in the plan's order (absent in runs that have none). */
  checks: z.array(manifestCheck).optional(),
});
export type RunManifest = z.infer<typeof runManifest>;

/**
 * One complete run in a job's history (<root>/history/<job>/<series>/<finished>_<run>.json),
 * written by the runner after the manifest: what drift gates of later runs compare with.
 */
export const historyEntry = z.strictObject({
  runId,
  job: z.strictObject({ name: z.string(), version: z.number().int().positive() }),
  series: z.string(),
  planSha256: z.string().regex(/^[0-9a-f]{64}$/),
  finishedAt: z.iso.datetime(),
  rows: z.record(identifier, z.number().int().min(0)),
  /** What each drift gate measured, by gate name: row count, category counts, or bin counts. */
  profiles: z.record(
    identifier,
    z.union([
      z.strictObject({ rows: z.number().int().min(0) }),
      z.strictObject({ counts: z.record(z.string(), z.number().int().min(0)) }),
      z.strictObject({ bins: z.array(z.number().int().min(0)), range: z.tuple([z.number(), z.number()]) }),
    ]),
  ),
  checks: z.array(manifestCheck),
  /** Metrics of the run that are single numbers, by dotted path (silhouette, AUC, ...). */
  metrics: z.record(z.string(), z.number()),
});
export type HistoryEntry = z.infer<typeof historyEntry>;
