/**
 * Resolving and checking a job's inputs before Spark starts: runs referenced by `fromRun` must
 * be complete (their manifest names the output), and every Parquet input's footers must show
 * the table's columns with the right types and at least one row. IO lives here; the rules are
 * the shared column rules.
 */
import { isAbsolute, resolve } from "node:path";
import { tables, type JobDefinition, type ParamValue, type TableName } from "../../../schemas/src/index.js";
import { tableJsonSchema } from "../../../schemas/src/export.js";
import { SparkjobsError, type Problem } from "../errors.js";
import { columnRules, typeAccepted } from "../results/columns.js";
import { readManifest } from "../results/manifest.js";
import { metricAt } from "../results/checks.js";
import { readFooter } from "../results/parquet.js";
import { isRemote, type Storage } from "../stage/storage.js";
import { runUri } from "./build.js";

function substitute(template: string, params: Record<string, ParamValue>): string {
  return template.replace(/\{([^}]*)\}/g, (_, name: string) => String(params[name]!.value));
}

/** Local input paths are made absolute, since Spark runs in another working directory. */
function absolute(uri: string, cwd: string): string {
  if (isRemote(uri) || uri.startsWith("file:")) return uri;
  return isAbsolute(uri) ? uri : resolve(cwd, uri);
}

export async function resolveInputs(
  def: JobDefinition,
  file: string,
  params: Record<string, ParamValue>,
  storage: Storage,
  root: string,
  cwd = process.cwd(),
): Promise<{ uris: Record<string, string>; extras: Record<string, ExtraColumn[]> }> {
  const uris: Record<string, string> = {};
  const extras: Record<string, ExtraColumn[]> = {};
  const problems: Problem[] = [];
  const missingJobs = new Set<string>();
  for (const [name, spec] of Object.entries(def.inputs)) {
    if ("uri" in spec) {
      uris[name] = absolute(substitute(spec.uri, params), cwd);
      continue;
    }
    const given = params[spec.fromRun.param];
    if (given === undefined) continue; // an optional run left out: its inputs are optional (checked with the definition)
    const source = String(given.value);
    const state = await readManifest(storage, runUri(root, source));
    if (!state.complete && problems.some((p) => p.message.startsWith(`run ${source} `))) continue;
    const jobs = [spec.fromRun.job].flat();
    if (!state.complete) {
      missingJobs.add(jobs[0]!);
      problems.push({ file, path: `inputs.${name}`, message: `run ${source} (--param ${spec.fromRun.param}) is not complete: ${state.reason}` });
      continue;
    }
    if (!jobs.includes(state.manifest.job.name)) {
      problems.push({ file, path: `inputs.${name}`, message: `run ${source} is a run of job ${state.manifest.job.name}, expected ${jobs.join(" or ")}` });
      continue;
    }
    const output = state.manifest.outputs[spec.fromRun.output];
    if (!output) {
      if (!spec.optional) problems.push({ file, path: `inputs.${name}`, message: `run ${source} has no output ${spec.fromRun.output}${absentBecause(state.manifest.metrics, spec.fromRun.output, def.name)}` });
      continue;
    }
    uris[name] = output.uri;
    if (output.extraColumns?.length) extras[name] = output.extraColumns;
  }
  if (problems.length) {
    throw new SparkjobsError("input", `inputs of job ${def.name} cannot be found`, {
      problems,
      fix: `run the job that makes them first (${makeCommand([...missingJobs][0] ?? upstreamJob(def))}), or pass the id of a complete run`,
    });
  }
  return { uris, extras };
}

export type ExtraColumn = { name: string; type: "double" | "string" };

/** The saved models a job loads (`models:`), found through the manifests of the runs that saved them. */
export async function resolveModels(
  def: JobDefinition,
  file: string,
  params: Record<string, ParamValue>,
  storage: Storage,
  root: string,
  /** Filled with each model's type (gbt, xgboost, ...) as its run saved it. */
  types?: Record<string, string>,
): Promise<Record<string, string>> {
  const uris: Record<string, string> = {};
  const problems: Problem[] = [];
  for (const [name, spec] of Object.entries(def.models)) {
    const source = String(params[spec.fromRun.param]!.value);
    const wanted = substitute(spec.fromRun.model, params);
    const where = { file, path: `models.${name}` };
    const state = await readManifest(storage, runUri(root, source));
    if (!state.complete) {
      problems.push({ ...where, message: `run ${source} (--param ${spec.fromRun.param}) is not complete: ${state.reason}` });
    } else if (state.manifest.job.name !== spec.fromRun.job) {
      problems.push({ ...where, message: `run ${source} is a run of job ${state.manifest.job.name}, expected ${spec.fromRun.job}` });
    } else {
      const saved = state.manifest.models ?? {};
      const model = saved[wanted];
      if (!model) {
        const names = Object.keys(saved);
        problems.push({ ...where, message: `run ${source} saved no model named ${wanted} (${names.length ? `it saved ${names.join(", ")}` : "it saved none"})` });
      } else {
        uris[name] = model.uri;
        if (types && typeof model.type === "string") types[name] = model.type;
      }
    }
  }
  if (problems.length) {
    throw new SparkjobsError("input", `models of job ${def.name} cannot be found`, {
      problems,
      fix: `pass the id of a complete run that saved the model (its manifest lists them under models), or train one with sparkjobs run ${Object.values(def.models)[0]?.fromRun.job ?? "<job>"}`,
    });
  }
  return uris;
}

/** Why an ingest run lacks a table: its source definition declares it absent. */
function absentBecause(metrics: Record<string, unknown>, output: string, job: string): string {
  const ingest = metrics.ingest as { absent?: string[]; file?: string } | undefined;
  if (!ingest?.absent?.includes(output)) return "";
  return `: its source definition ${ingest.file ?? ""} declares the table ${output} absent, and job ${job} needs it (map it under tables.${output} to run ${job})`;
}

function makeCommand(job: string): string {
  return job === "ingest" ? "sparkjobs run ingest --param sources=<your source definition> --run-id <id>" : `sparkjobs run ${job} --run-id <id>`;
}

function upstreamJob(def: JobDefinition): string {
  for (const spec of Object.values(def.inputs)) if ("fromRun" in spec) return [spec.fromRun.job].flat()[0]!;
  return "<job>";
}

/**
 * Checks every input's Parquet footers against its table schema, wherever it is stored (local or
 * S3: only footers are read), so bad input fails here and not after a cluster has started.
 */
export async function checkInputs(def: JobDefinition, uris: Record<string, string>, storage: Storage): Promise<void> {
  const problems: Problem[] = [];
  for (const [name, uri] of Object.entries(uris)) {
    const table = def.inputs[name]!.schema;
    const files = await storage.listFiles(uri);
    if (!files.length) {
      problems.push({ file: uri, path: `inputs.${name}`, message: (await storage.list(uri)).length ? "holds no data files" : "does not exist" });
      continue;
    }
    const rules = columnRules(tableJsonSchema(tables[table as TableName]));
    let rows = 0;
    let typeProblems = 0;
    for (const { uri: f } of files) {
      let footer;
      try {
        footer = await readFooter(await storage.open(f));
      } catch (e) {
        if (e instanceof SparkjobsError) throw e;
        problems.push({ file: f, path: `inputs.${name}`, message: `is not a readable Parquet file (${(e as Error).message})` });
        typeProblems++;
        continue;
      }
      rows += footer.rows;
      const actual = new Map(footer.columns.map((c) => [c.name, c.sparkType]));
      for (const rule of rules) {
        const got = actual.get(rule.name);
        if (got === undefined) {
          problems.push({ file: f, path: rule.name, message: `column is missing (input ${name} must have the columns of table ${table}: expected ${rule.sparkType})` });
          typeProblems++;
        } else if (!typeAccepted(rule.sparkType, got)) {
          problems.push({ file: f, path: rule.name, message: `column has type ${got}, table ${table} expects ${rule.sparkType}` });
          typeProblems++;
        }
      }
      if (typeProblems) break; // one file's schema problems are enough to report
    }
    if (!typeProblems && rows === 0) problems.push({ file: uri, path: `inputs.${name}`, message: `has no rows (${files.length} file${files.length === 1 ? "" : "s"}, all empty)` });
  }
  if (problems.length) {
    throw new SparkjobsError("input", `inputs of job ${def.name} do not match their table schemas`, {
      problems,
      fix: "fix the input data or point the job at the right files; the expected columns are in schemas/json/tables/",
    });
  }
}

const DAY_MS = 86_400_000;
const firstOf = (metrics: Record<string, unknown>, paths: readonly string[]) =>
  paths.map((p) => metricAt(metrics, p)).find((v): v is string => typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v));

/**
 * Date parameters that follow the data (`fromRun`): without a value, the as-of date of the source
 * run; with one, checked against the run's span (before its first day: an error; after its as-of
 * date: a warning, returned for the caller to print).
 */
export async function resolveRunDates(
  def: JobDefinition,
  file: string,
  values: Record<string, ParamValue>,
  storage: Storage,
  root: string,
): Promise<{ values: Record<string, ParamValue>; warnings: string[] }> {
  const out = { ...values };
  const warnings: string[] = [];
  for (const [name, spec] of Object.entries(def.params)) {
    if (spec.type !== "date" || !spec.fromRun) continue;
    const source = values[spec.fromRun.param];
    if (source === undefined) continue; // reported by resolveParams
    const state = await readManifest(storage, runUri(root, String(source.value)));
    if (!state.complete) continue; // reported by resolveInputs, with the fix
    const dataAsOf = firstOf(state.manifest.metrics, spec.fromRun.date);
    const minus = spec.fromRun.minusDays ? Number(values[spec.fromRun.minusDays]?.value ?? 0) : 0;
    const asOf = dataAsOf && minus ? new Date(Date.parse(dataAsOf) - minus * DAY_MS).toISOString().slice(0, 10) : dataAsOf;
    const firstDay = firstOf(state.manifest.metrics, spec.fromRun.firstDay);
    const given = values[name];
    if (given === undefined) {
      if (!asOf) {
        throw new SparkjobsError("usage", `--param ${name} is needed: run ${source.value} does not say what date its data ends on`, {
          problems: [{ file, path: `params.${name}`, message: `none of the metrics ${spec.fromRun.date.join(", ")} is in the manifest of run ${source.value}` }],
          fix: `pass --param ${name}=YYYY-MM-DD (the day after the data's last day)`,
        });
      }
      out[name] = { type: "date", value: asOf };
      continue;
    }
    const day = String(given.value);
    if (firstDay && day < firstDay) {
      throw new SparkjobsError("usage", `--param ${name}=${day} is before the data of run ${source.value}, which starts on ${firstDay}`, {
        fix: `pass a date from ${firstDay}${asOf ? ` to ${asOf}` : ""}, or leave ${name} out${asOf ? ` to use ${asOf}` : ""}`,
      });
    }
    if (asOf && day > asOf) {
      const days = Math.round((Date.parse(day) - Date.parse(asOf)) / DAY_MS);
      warnings.push(minus
        ? `--param ${name}=${day} is ${days} day${days === 1 ? "" : "s"} after ${asOf}: the ${minus} days after it (--param ${spec.fromRun.minusDays}) run past the end of the data of run ${source.value} (${dataAsOf}); leave ${name} out to use ${asOf}`
        : `--param ${name}=${day} is ${days} day${days === 1 ? "" : "s"} after the data of run ${source.value} ends (its as-of date is ${asOf}): recencies and tenures count those days too; leave ${name} out to use ${asOf}`);
    }
  }
  return { values: out, warnings };
}
