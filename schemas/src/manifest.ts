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

export const runManifest = z.strictObject({
  manifestVersion: z.literal(MANIFEST_VERSION),
  runId,
  job: z.strictObject({ name: z.string(), version: z.number().int().positive() }),
  /** sha256 of the canonical plan JSON: a rerun with the same id must carry the same plan. */
  planSha256: z.string().regex(/^[0-9a-f]{64}$/),
  status: z.literal("succeeded"),
  engine: z.strictObject({ sparkVersion: z.string(), master: z.string(), applicationId: z.string() }),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  durationMs: z.number().int().min(0),
  outputs: z.record(identifier, manifestOutput),
  metrics: z.record(z.string(), z.unknown()),
  /** Models saved by the run, by name (absent in runs that save none). */
  models: z.record(identifier, manifestModel).optional(),
  stages: z.array(z.strictObject({ name: z.string(), kind: z.string(), ms: z.number().int().min(0) })),
});
export type RunManifest = z.infer<typeof runManifest>;
