/**
 * The RunPlan: everything a runner needs to execute one run, resolved and self-contained
 * (SQL text inlined, MLlib parameters resolved, URIs absolute). It is a versioned JSON document
 * that can be printed (`sparkjobs plan`), stored, hashed and replayed.
 */
import { z } from "zod";
import { checkSpec, identifier, mllibConfig, runId } from "./definition.js";
import { planSources } from "./sources.js";

export const PLAN_VERSION = 1 as const;

export const paramValue = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("string"), value: z.string() }),
  z.strictObject({ type: z.literal("int"), value: z.number().int() }),
  z.strictObject({ type: z.literal("double"), value: z.number() }),
  z.strictObject({ type: z.literal("boolean"), value: z.boolean() }),
  z.strictObject({ type: z.literal("date"), value: z.iso.date() }),
]);
export type ParamValue = z.infer<typeof paramValue>;

/** Columns a table carries beyond its schema: a source's customer features (numeric: double; categorical: string). */
export const extraColumns = z.array(z.strictObject({ name: identifier, type: z.enum(["double", "string"]) }));

export const planInput = z.strictObject({
  name: identifier,
  uri: z.string().min(1),
  format: z.literal("parquet"),
  table: z.string(),
  /** Kept beside the schema's columns (the features of the run that wrote the input). */
  extraColumns: extraColumns.optional(),
});

export const planSqlStage = z.strictObject({
  kind: z.literal("sql"),
  name: identifier,
  file: z.string(),
  sql: z.string().min(1),
  /** The parameters the SQL text refers to; the runner binds exactly these. */
  params: z.array(identifier),
  /** A SQL parameter bound to the value of another job parameter (name in the SQL -> job parameter). */
  bind: z.record(identifier, identifier).optional(),
  cache: z.boolean(),
  metrics: identifier.optional(),
});

export const planMllibStage = z.strictObject({
  kind: z.literal("mllib"),
  name: identifier,
  file: z.string(),
  input: identifier,
  truth: z.strictObject({ view: identifier, column: identifier }).optional(),
  /** K-Means: k fixed by a parameter (null: choose by silhouette within config.k; always null for other algorithms). */
  fixedK: z.number().int().min(2).nullable(),
  config: mllibConfig,
});
export const planIngestStage = z.strictObject({
  kind: z.literal("ingest"),
  name: identifier,
  /** The source definition file, for messages. */
  file: z.string(),
  sources: planSources,
  maxRejectedShare: z.number().min(0).max(1),
  /** Read only the first N rows of every table (0 = all). */
  sample: z.number().int().min(0),
});

export const planStage = z.discriminatedUnion("kind", [planSqlStage, planMllibStage, planIngestStage]);
export type PlanStage = z.infer<typeof planStage>;

/** A saved model the plan loads (score stages), resolved through its run's manifest. */
export const planModel = z.strictObject({ name: identifier, uri: z.string().min(1) });

export const planOutput = z.strictObject({
  name: identifier,
  view: identifier,
  table: z.string(),
  uri: z.string().min(1),
  files: z.number().int().positive().optional(),
  /** Written beside the schema's columns, and listed in the manifest. */
  extraColumns: extraColumns.optional(),
});

/** A JSON Schema object as exported from schemas/ (kept opaque here; see schemas/json/). */
const jsonSchemaObject = z.record(z.string(), z.unknown());

export const runPlan = z.strictObject({
  planVersion: z.literal(PLAN_VERSION),
  runId,
  job: z.strictObject({ name: z.string(), version: z.number().int().positive(), file: z.string() }),
  params: z.record(identifier, paramValue),
  /** Where the run writes: outputs under runUri/<output>/, then runUri/_manifest.json last. */
  runUri: z.string().min(1),
  inputs: z.array(planInput),
  /** Optional inputs that are absent, read as empty tables of their schema. */
  emptyInputs: z.array(z.strictObject({ name: identifier, table: z.string() })).default([]),
  models: z.array(planModel).default([]),
  stages: z.array(planStage).min(1),
  outputs: z.array(planOutput).min(1),
  checks: z.array(checkSpec),
  /** JSON Schemas of every table the plan reads or writes, by table name. */
  tables: z.record(z.string(), jsonSchemaObject),
  sparkConf: z.record(z.string(), z.string()),
  /**
   * Python packages beyond pyspark and numpy (pinned), for the job's own and its models' imports:
   * the submitter builds them into a packed environment that the driver and executors run on.
   */
  python: z.strictObject({ packages: z.array(z.string()).min(1) }).optional(),
});
export type RunPlan = z.infer<typeof runPlan>;
