/**
 * Definition + parameters -> RunPlan. Pure: no file is read here, inputs come resolved.
 */
import { createHash } from "node:crypto";
import {
  PLAN_VERSION,
  type PlanSources,
  tables,
  type CheckSpec,
  type MllibConfig,
  type DefinitionCheckSpec,
  type JobDefinition,
  type ParamValue,
  type PlanStage,
  type RunPlan,
  type TableName,
} from "../../../schemas/src/index.js";
import { tableJsonSchema } from "../../../schemas/src/export.js";
import type { LoadedJob } from "../config/job.js";
import { sqlParamRefs } from "../config/sql-params.js";

export interface PlanContext {
  runId: string;
  /** Where runs live: <root>/runs/<runId>/. */
  root: string;
  params: Record<string, ParamValue>;
  /** URI of every input, by input name (optional inputs that are absent are left out). */
  inputUris: Record<string, string>;
  /** Columns beyond the schema that an input carries (a source's customer features), by input name. */
  inputExtras?: Record<string, { name: string; type: "double" | "string" }[]>;
  /** URI of every saved model the job loads, by its name under `models:`. */
  modelUris?: Record<string, string>;
  /** Engine-specific Spark settings merged under the job's own (the job wins). */
  engineConf?: Record<string, string>;
  /** The source definition an ingest stage reads, resolved (paths absolute). */
  sources?: PlanSources;
  /** Python packages beyond pyspark and numpy (stage/python-env.ts jobPythonPackages). */
  pythonPackages?: string[];
}

/** Settings every run gets: UTC, microsecond timestamps, the v1 committer (never v2 on S3). */
export const BASE_SPARK_CONF: Readonly<Record<string, string>> = {
  "spark.sql.session.timeZone": "UTC",
  "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
  "spark.sql.parquet.compression.codec": "snappy",
  "spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version": "1",
  "spark.sql.sources.partitionOverwriteMode": "static",
  "spark.ui.showConsoleProgress": "false",
};

/** The history series of runs that name none. */
export const DEFAULT_SERIES = "default";

export function joinUri(base: string, ...parts: string[]): string {
  return [base.replace(/\/+$/, ""), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ""))].join("/");
}

export function runUri(root: string, runId: string): string {
  return joinUri(root, "runs", runId);
}

export function buildPlan(job: LoadedJob, ctx: PlanContext): RunPlan {
  const def = job.definition;
  const used = new Set<string>();
  const number = (v: number | { param: string }) => (typeof v === "number" ? v : Number(ctx.params[v.param]!.value));
  const stages: PlanStage[] = def.stages.map((stage): PlanStage => {
    if (stage.kind === "ingest") {
      if (!ctx.sources) throw new Error(`stage ${stage.name} reads a source definition, and none was resolved`);
      return {
        kind: "ingest",
        name: stage.name,
        file: ctx.sources.file,
        sources: ctx.sources,
        maxRejectedShare: number(stage.maxRejectedShare),
        sample: stage.sample ? number(stage.sample) : 0,
      };
    }
    if (stage.kind === "sql") {
      const sql = job.sql.get(stage.name)!;
      const params = [...new Set(sqlParamRefs(sql.text).map((r) => r.name))].sort();
      return {
        kind: "sql",
        name: stage.name,
        file: sql.file,
        sql: sql.text,
        params,
        ...(Object.keys(stage.bind).length ? { bind: Object.fromEntries(Object.entries(stage.bind).filter(([k]) => params.includes(k))) } : {}),
        cache: stage.cache,
        ...(stage.metrics ? { metrics: stage.metrics } : {}),
      };
    }
    const { file, config: declared } = job.mllib.get(stage.name)!;
    const config = withChoices(withSourceFeatures(declared, ctx.inputExtras ?? {}), ctx.params);
    const kParam = config.algorithm === "kmeans" ? config.k.param : undefined;
    const k = kParam ? ctx.params[kParam]?.value : undefined;
    return {
      kind: "mllib",
      name: stage.name,
      file,
      input: stage.input,
      // Truth from an optional input that is absent (real data has none) is dropped.
      ...(stage.truth && (!(stage.truth.view in def.inputs) || ctx.inputUris[stage.truth.view] !== undefined)
        ? { truth: stage.truth }
        : {}),
      fixedK: typeof k === "number" && k >= 2 ? k : null,
      config,
    };
  });
  const inputs = Object.entries(def.inputs)
    .filter(([name]) => ctx.inputUris[name] !== undefined)
    .map(([name, spec]) => {
      used.add(spec.schema);
      const extra = ctx.inputExtras?.[name];
      return { name, uri: ctx.inputUris[name]!, format: "parquet" as const, table: spec.schema, ...(extra?.length ? { extraColumns: extra } : {}) };
    });
  const emptyInputs = Object.entries(def.inputs)
    .filter(([name, spec]) => "fromRun" in spec && spec.emptyWhenAbsent && ctx.inputUris[name] === undefined)
    .map(([name, spec]) => {
      used.add(spec.schema);
      return { name, table: spec.schema };
    });
  // Tables a source declares absent have no view: their optional outputs are not written.
  const absentViews = new Set<string>(ctx.sources?.absent ?? []);
  const base = runUri(ctx.root, ctx.runId);
  const outputs = Object.entries(def.outputs).filter(([, spec]) => !(spec.optional && absentViews.has(spec.from))).map(([name, spec]) => {
    used.add(spec.schema);
    const features = ctx.sources?.tables[spec.from as "customers"]?.features;
    const extra = features ? [...Object.keys(features.numeric).map((n) => ({ name: n, type: "double" as const })), ...Object.keys(features.categorical).map((n) => ({ name: n, type: "string" as const }))] : [];
    return { name, view: spec.from, table: spec.schema, uri: joinUri(base, name), ...(spec.files ? { files: spec.files } : {}), ...(extra.length ? { extraColumns: extra } : {}) };
  });
  const tableSchemas: Record<string, Record<string, unknown>> = {};
  for (const name of [...used].sort()) tableSchemas[name] = tableJsonSchema(tables[name as TableName]);
  return {
    planVersion: PLAN_VERSION,
    runId: ctx.runId,
    job: { name: def.name, version: def.version, file: job.file },
    params: ctx.params,
    runUri: base,
    inputs,
    emptyInputs,
    models: Object.entries(ctx.modelUris ?? {}).map(([name, uri]) => ({ name, uri })),
    stages,
    outputs,
    checks: planChecks(def, outputs, ctx.params),
    tables: tableSchemas,
    sparkConf: { ...BASE_SPARK_CONF, ...(ctx.engineConf ?? {}), ...def.sparkConf },
    ...(ctx.pythonPackages?.length ? { python: { packages: ctx.pythonPackages } } : {}),
  };
}

/** A supervised stage that learns from a source's customer features gets them as numeric and categorical columns. */
function withSourceFeatures<C extends MllibConfig>(config: C, extras: Record<string, { name: string; type: "double" | "string" }[]>): C {
  if (!("sourceFeatures" in config) || !config.sourceFeatures) return config;
  const extra = extras[config.sourceFeatures.input] ?? [];
  const numeric = extra.filter((c) => c.type === "double").map((c) => c.name);
  const categorical = extra.filter((c) => c.type === "string").map((c) => c.name);
  // A scoring stage has no feature lists of its own: the saved model knows its columns.
  if (config.algorithm === "score") return { ...config, sourceFeatures: { ...config.sourceFeatures, numeric, categorical } };
  return {
    ...config,
    numeric: [...config.numeric, ...numeric.filter((n) => !config.numeric.includes(n))],
    categorical: [...config.categorical, ...categorical.filter((n) => !config.categorical.includes(n))],
    sourceFeatures: { ...config.sourceFeatures, numeric, categorical },
  };
}

/** K-Means features and names that a job parameter chooses become the parameter's value. */
function withChoices(config: MllibConfig, params: Record<string, ParamValue>): MllibConfig {
  if (config.algorithm !== "kmeans") return config;
  const features = Array.isArray(config.features) ? config.features : String(params[config.features.param]!.value).split(",");
  const names = typeof config.names === "string" ? config.names : (String(params[config.names.param]!.value) as "business" | "numbered");
  return { ...config, features, names };
}

/** A gate's bounds given as parameters become the parameters' values. */
function resolveBounds(check: DefinitionCheckSpec, params: Record<string, ParamValue>): CheckSpec {
  const value = (b: number | { param: string } | undefined) => (typeof b === "object" ? Number(params[b.param]!.value) : b);
  const defined = <K extends string>(key: K, v: number | undefined) => (v !== undefined ? ({ [key]: v } as Record<K, number>) : {});
  if ("metric" in check) {
    const { min, max, ...rest } = check;
    return { ...rest, ...defined("min", value(min)), ...defined("max", value(max)) };
  }
  if ("drift" in check) {
    const { warn, error, ...rest } = check;
    return { ...rest, ...defined("warn", value(warn)), ...defined("error", value(error)) };
  }
  return check;
}

/**
 * The plan's gates: the definition's, then a uniqueness gate for every output whose table
 * declares a key (schemas/src/tables.ts) and has none in the definition.
 */
export function planChecks(def: JobDefinition, outputs: { name: string; table: string }[], params: Record<string, ParamValue>): CheckSpec[] {
  const checks = def.checks.map((check) => resolveBounds(check, params));
  const names = new Set(checks.map((c) => c.name));
  for (const out of outputs) {
    const key = (tables[out.table as TableName].meta() as { primaryKey?: string[] } | undefined)?.primaryKey;
    if (!key?.length || checks.some((c) => "unique" in c && c.unique.output === out.name)) continue;
    let name = `${out.name}_key_unique`;
    while (names.has(name)) name = `_${name}`;
    names.add(name);
    checks.push({ name, unique: { output: out.name, columns: key }, description: `the key of ${out.table} (${key.join(", ")}) identifies one row` });
  }
  return checks;
}

/** The plan as the bytes that are staged and hashed: keys sorted, so equal plans hash equally. */
export function planText(plan: RunPlan): string {
  return `${JSON.stringify(sortKeys(plan), null, 2)}\n`;
}

export function planSha256(plan: RunPlan): string {
  return createHash("sha256").update(planText(plan)).digest("hex");
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** A fresh run id: job name, UTC time, and 6 random hex digits. */
export function newRunId(job: string, now: Date, random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const suffix = Math.floor(random() * 0xffffff).toString(16).padStart(6, "0");
  // The time and the random suffix always survive; a long job name is shortened instead.
  const tail = `-${stamp}-${suffix}`;
  return `${job.slice(0, 64 - tail.length)}${tail}`;
}
