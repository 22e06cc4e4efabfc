/**
 * Reading a job: the definition YAML, its SQL files and MLlib configurations. `readJobFiles` does
 * the IO; `checkJob` is pure and reports every problem at once, each with file, line and field.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import {
  CANONICAL_TABLES,
  INGEST_QUARANTINE_VIEW,
  jobDefinition,
  mllibConfig,
  tables,
  type JobDefinition,
  type MllibConfig,
  type TableName,
} from "../../../schemas/src/index.js";
import { SparkjobsError, type Problem } from "../errors.js";
import { sqlParamRefs } from "./sql-params.js";
import { dottedPath, parseYaml, zodProblems } from "./yaml-file.js";

export interface JobFiles {
  /** Path of the definition, as shown in messages. */
  file: string;
  text: string;
  /** Every file a stage may refer to, by path relative to jobs/spark-sql or jobs/mllib-configs. */
  sql: Map<string, string>;
  mllib: Map<string, string>;
  /** Folders, for messages. */
  sqlDir: string;
  mllibDir: string;
  /** The path to show for each file, when the folders are several (defaults to the folder joined with the name). */
  sqlFiles?: Map<string, string>;
  mllibFiles?: Map<string, string>;
}

export interface LoadedJob {
  definition: JobDefinition;
  file: string;
  /** SQL text per stage name. */
  sql: Map<string, { file: string; text: string }>;
  /** Parsed MLlib configuration per stage name. */
  mllib: Map<string, { file: string; config: MllibConfig }>;
}

export function checkJob(files: JobFiles): LoadedJob {
  const { file } = files;
  const parsed = parseYaml(file, files.text);
  if (parsed.problems.length) throw invalid(file, parsed.problems);
  const result = jobDefinition.safeParse(parsed.value);
  if (!result.success) throw invalid(file, zodProblems(file, parsed, result.error));
  const definition = result.data;
  const problems: Problem[] = [];
  const at = (path: (string | number)[], message: string) =>
    problems.push({ file, line: parsed.lineOf(path), path: dottedPath(path), message });

  const views = new Set(Object.keys(definition.inputs));
  const sql = new Map<string, { file: string; text: string }>();
  const mllib = new Map<string, { file: string; config: MllibConfig }>();
  definition.stages.forEach((stage, i) => {
    if (views.has(stage.name)) at(["stages", i, "name"], `the view name "${stage.name}" is already used by an input or an earlier stage`);
    if (stage.kind === "ingest") {
      const paramOf = (key: string, name: string, types: readonly string[]) => {
        const spec = definition.params[name];
        if (!spec) at(["stages", i, key, "param"], `parameter "${name}" is not declared under params`);
        else if (!types.includes(spec.type)) at(["stages", i, key, "param"], `parameter "${name}" must have type ${types.join(" or ")}, not ${spec.type}`);
      };
      paramOf("sources", stage.sources.param, ["path"]);
      if (typeof stage.maxRejectedShare === "object") paramOf("maxRejectedShare", stage.maxRejectedShare.param, ["double"]);
      if (stage.sample) paramOf("sample", stage.sample.param, ["int"]);
      for (const v of [...CANONICAL_TABLES, INGEST_QUARANTINE_VIEW]) views.add(v);
    } else if (stage.kind === "sql") {
      const text = files.sql.get(stage.file);
      const shown = files.sqlFiles?.get(stage.file) ?? join(files.sqlDir, stage.file);
      if (text === undefined) {
        at(["stages", i, "file"], `SQL file ${shown} does not exist (create it, or fix the path: it is relative to ${files.sqlDir})`);
      } else {
        sql.set(stage.name, { file: shown, text });
        for (const [name, target] of Object.entries(stage.bind)) {
          if (!Object.hasOwn(definition.params, target)) at(["stages", i, "bind", name], `parameter "${target}" is not declared under params`);
        }
        for (const ref of sqlParamRefs(text)) {
          if (!Object.hasOwn(definition.params, stage.bind[ref.name] ?? ref.name)) {
            problems.push({ file: shown, line: ref.line, path: `:${ref.name}`, message: `parameter :${ref.name} is not declared under params in ${file}` });
          }
        }
      }
    } else {
      const shown = files.mllibFiles?.get(stage.config) ?? join(files.mllibDir, stage.config);
      const text = files.mllib.get(stage.config);
      if (!views.has(stage.input)) at(["stages", i, "input"], `"${stage.input}" is not an input or an earlier stage`);
      if (stage.truth && !views.has(stage.truth.view)) at(["stages", i, "truth", "view"], `"${stage.truth.view}" is not an input or an earlier stage`);
      if (text === undefined) {
        at(["stages", i, "config"], `MLlib configuration ${shown} does not exist (it is relative to ${files.mllibDir})`);
      } else {
        const config = parseMllib(shown, text, problems);
        if (config) {
          mllib.set(stage.name, { file: shown, config });
          problems.push(...mllibProblems(config, shown, file, definition, views));
          for (const v of Object.values(config.outputs)) views.add(v);
        }
      }
    }
    views.add(stage.name);
  });
  for (const [name, out] of Object.entries(definition.outputs)) {
    if (!views.has(out.from)) at(["outputs", name, "from"], `"${out.from}" is not an input, a stage or an MLlib result view`);
  }
  for (const [name, input] of Object.entries(definition.inputs)) {
    if ("fromRun" in input) {
      if (input.emptyWhenAbsent && !input.optional) at(["inputs", name, "emptyWhenAbsent"], "only an optional input can be absent: add optional: true");
      const spec = definition.params[input.fromRun.param];
      if (!spec) at(["inputs", name, "fromRun", "param"], `parameter "${input.fromRun.param}" is not declared under params`);
      else if (spec.type !== "runId") at(["inputs", name, "fromRun", "param"], `parameter "${input.fromRun.param}" must have type runId`);
      else if (spec.optional && !input.optional) at(["inputs", name, "optional"], `parameter "${input.fromRun.param}" may be left out, so this input must be optional: add optional: true`);
    } else {
      for (const m of input.uri.matchAll(/\{([^}]*)\}/g)) {
        const spec = definition.params[m[1]!];
        if (!spec) at(["inputs", name, "uri"], `placeholder {${m[1]}} is not a declared parameter`);
        else if (spec.type !== "path" && spec.type !== "runId") at(["inputs", name, "uri"], `placeholder {${m[1]}} must be a parameter of type path or runId`);
      }
    }
  }
  for (const [name, model] of Object.entries(definition.models)) {
    const spec = definition.params[model.fromRun.param];
    if (!spec) at(["models", name, "fromRun", "param"], `parameter "${model.fromRun.param}" is not declared under params`);
    else if (spec.type !== "runId") at(["models", name, "fromRun", "param"], `parameter "${model.fromRun.param}" must have type runId`);
    for (const m of model.fromRun.model.matchAll(/\{([^}]*)\}/g)) {
      if (!definition.params[m[1]!]) at(["models", name, "fromRun", "model"], `placeholder {${m[1]}} is not a declared parameter`);
    }
  }
  const names = new Set<string>();
  definition.checks.forEach((check, i) => {
    if (names.has(check.name)) at(["checks", i, "name"], `another check is already named "${check.name}"`);
    names.add(check.name);
    const bounds: ("min" | "max" | "warn" | "error")[] = "metric" in check ? ["min", "max"] : "drift" in check ? ["warn", "error"] : [];
    for (const side of bounds) {
      const bound = (check as Record<string, unknown>)[side] as number | { param: string } | undefined;
      if (typeof bound !== "object") continue;
      const spec = definition.params[bound.param];
      if (!spec) at(["checks", i, side, "param"], `parameter "${bound.param}" is not declared under params`);
      else if (spec.type !== "int" && spec.type !== "double") at(["checks", i, side, "param"], `parameter "${bound.param}" must have type int or double, not ${spec.type}`);
    }
    if ("drift" in check && check.warn === undefined && check.error === undefined) at(["checks", i, "drift"], "a drift check needs a warn or an error threshold (or both)");
    checkTargets(check, ["checks", i], definition, at);
  });
  for (const [name, spec] of Object.entries(definition.params)) {
    if (spec.type === "date" && spec.fromRun) {
      const source = definition.params[spec.fromRun.param];
      if (!source) at(["params", name, "fromRun", "param"], `parameter "${spec.fromRun.param}" is not declared under params`);
      else if (source.type !== "runId") at(["params", name, "fromRun", "param"], `parameter "${spec.fromRun.param}" must have type runId`);
      const minus = spec.fromRun.minusDays;
      if (minus !== undefined && definition.params[minus]?.type !== "int") at(["params", name, "fromRun", "minusDays"], `parameter "${minus}" must be declared under params with type int`);
    }
    if (spec.type === "string" && spec.pattern !== undefined) {
      try {
        new RegExp(spec.pattern);
      } catch {
        at(["params", name, "pattern"], `not a valid regular expression`);
      }
    }
  }
  if (problems.length) throw invalid(file, problems);
  return { definition, file, sql, mllib };
}

/** The outputs, inputs and columns a check names exist. */
function checkTargets(check: JobDefinition["checks"][number], base: (string | number)[], definition: JobDefinition, at: (path: (string | number)[], message: string) => void) {
  const columnsOf = (name: string, spec: { schema: string } | undefined) => (spec ? Object.keys(tables[spec.schema as TableName].shape) : undefined);
  const outputColumns = (output: string, path: (string | number)[]) => {
    const known = columnsOf(output, definition.outputs[output]);
    if (!known) at(path, `"${output}" is not one of the outputs (${Object.keys(definition.outputs).join(", ")})`);
    return known;
  };
  /** Each of `columns` (found at path + key [+ index]) is a column of `known`, a table called `what`. */
  const columnsIn = (known: string[] | undefined, what: string, columns: string[], path: (string | number)[], key: string, indexed: boolean) => {
    columns.forEach((c, j) => {
      if (known && !known.includes(c)) at(indexed ? [...path, key, j] : [...path, key], `"${c}" is not a column of ${what} (${known.join(", ")})`);
    });
  };
  if ("output" in check) outputColumns(check.output, [...base, "output"]);
  if ("unique" in check) {
    const path = [...base, "unique"];
    columnsIn(outputColumns(check.unique.output, [...path, "output"]), check.unique.output, check.unique.columns, path, "columns", true);
  }
  if ("accepted" in check) {
    const path = [...base, "accepted"];
    columnsIn(outputColumns(check.accepted.output, [...path, "output"]), check.accepted.output, [check.accepted.column], path, "column", false);
  }
  if ("references" in check) {
    const r = check.references;
    const path = [...base, "references"];
    columnsIn(outputColumns(r.output, [...path, "output"]), r.output, r.columns, path, "columns", true);
    const to = columnsOf(r.to, definition.outputs[r.to] ?? definition.inputs[r.to]);
    if (!to) at([...path, "to"], `"${r.to}" is not an output or an input of the job`);
    if (r.toColumns && r.toColumns.length !== r.columns.length) at([...path, "toColumns"], `give as many toColumns as columns (${r.columns.length})`);
    else columnsIn(to, r.to, r.toColumns ?? r.columns, path, r.toColumns ? "toColumns" : "columns", true);
  }
  if ("drift" in check) {
    const d = check.drift;
    const path = [...base, "drift"];
    if ("rows" in d) outputColumns(d.rows, [...path, "rows"]);
    else if ("shares" in d) columnsIn(outputColumns(d.shares.output, [...path, "shares", "output"]), d.shares.output, [d.shares.column], [...path, "shares"], "column", false);
    else {
      columnsIn(outputColumns(d.psi.output, [...path, "psi", "output"]), d.psi.output, [d.psi.column], [...path, "psi"], "column", false);
      if (!(d.psi.range[0] < d.psi.range[1])) at([...path, "psi", "range"], `the range [${d.psi.range.join(", ")}] must go from a lower to a higher value`);
    }
  }
}

/** Cross-checks between an MLlib configuration and the job that uses it. */
function mllibProblems(config: MllibConfig, shown: string, file: string, definition: JobDefinition, views: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  const at = (path: string, message: string) => problems.push({ file: shown, path, message });
  /** A parameter the configuration takes a value from must be declared by the job, with one of these types. */
  const paramRef = (path: string, name: string, types: readonly string[]) => {
    const spec = definition.params[name];
    if (!spec) at(path, `parameter "${name}" is not declared under params in ${file}`);
    else if (!types.includes(spec.type)) at(path, `parameter "${name}" must have type ${types.join(" or ")}, not ${spec.type}`);
  };
  if (config.algorithm === "kmeans") {
    if (config.k.param !== undefined) paramRef("k.param", config.k.param, ["int"]);
    if (!Array.isArray(config.features)) {
      paramRef("features.param", config.features.param, ["list"]);
      const spec = definition.params[config.features.param];
      const odd = spec?.type === "list" ? spec.values.filter((v) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) : [];
      if (odd.length) at("features.param", `the values of parameter "${config.features.param}" must be column names, not ${odd.map((v) => JSON.stringify(v)).join(", ")}`);
    }
    if (typeof config.names !== "string") {
      paramRef("names.param", config.names.param, ["enum"]);
      const spec = definition.params[config.names.param];
      const odd = spec?.type === "enum" ? spec.values.filter((v) => v !== "business" && v !== "numbered") : [];
      if (odd.length) at("names.param", `parameter "${config.names.param}" may take business and numbered only, not ${odd.map((v) => JSON.stringify(v)).join(", ")}`);
    }
    if (config.k.max < config.k.min) at("k.max", `k.max (${config.k.max}) is below k.min (${config.k.min})`);
  } else if (config.algorithm === "classifier" || config.algorithm === "regressor") {
    if (config.numeric.length + config.categorical.length === 0) at("numeric", "name at least one numeric or categorical feature column");
    for (const column of config.log1p) {
      if (!config.numeric.includes(column)) at("log1p", `"${column}" is not one of the numeric features`);
    }
    const both = config.numeric.filter((c) => config.categorical.includes(c));
    if (both.length) at("categorical", `${both.map((c) => `"${c}"`).join(", ")} cannot be both numeric and categorical`);
    if ([...config.numeric, ...config.categorical].includes(config.label)) at("label", `the label "${config.label}" is also a feature`);
    if (config.algorithm === "regressor") {
      for (const [key, column] of [["baseline", config.baseline], ["oracle", config.oracle]] as const) {
        if (column !== undefined && [...config.numeric, ...config.categorical].includes(column)) at(key, `"${column}" is a feature; the ${key} prediction cannot be one`);
      }
    }
  }
  if ("sourceFeatures" in config && config.sourceFeatures && !Object.hasOwn(definition.inputs, config.sourceFeatures.input)) {
    at("sourceFeatures.input", `"${config.sourceFeatures.input}" is not an input of ${file}`);
  }
  if (config.algorithm === "uplift") {
    for (const column of config.log1p) {
      if (!config.numeric.includes(column)) at("log1p", `"${column}" is not one of the numeric features`);
    }
    if ([...config.numeric, ...config.categorical].includes(config.treatment.column)) at("treatment.column", `the treatment column "${config.treatment.column}" cannot be a feature of a two-model learner`);
  } else if (config.algorithm === "als") {
    if (config.holdout && !views.has(config.holdout)) at("holdout", `"${config.holdout}" is not an input or an earlier stage of ${file}`);
  } else if (config.algorithm === "allocate") {
    paramRef("budget.param", config.budget.param, ["int", "double"]);
  } else if (config.algorithm === "fpgrowth") {
    for (const key of ["minSupport", "minConfidence"] as const) {
      const bound = config[key];
      if (typeof bound === "object") paramRef(`${key}.param`, bound.param, ["double"]);
    }
  } else if (config.algorithm === "pca") {
    if (config.components > config.features.length) at("components", `${config.components} components from ${config.features.length} features: at most ${config.features.length}`);
    for (const column of config.log1p) if (!config.features.includes(column)) at("log1p", `"${column}" is not one of the features`);
  } else if (config.algorithm === "score") {
    if (!Object.hasOwn(definition.models, config.model)) at("model", `"${config.model}" is not declared under models in ${file}`);
  }
  return problems;
}

function parseMllib(file: string, text: string, problems: Problem[]): MllibConfig | undefined {
  const parsed = parseYaml(file, text);
  if (parsed.problems.length) {
    problems.push(...parsed.problems);
    return undefined;
  }
  const result = mllibConfig.safeParse(parsed.value);
  if (!result.success) {
    problems.push(...zodProblems(file, parsed, result.error));
    return undefined;
  }
  return result.data;
}

function invalid(file: string, problems: Problem[]): SparkjobsError {
  return new SparkjobsError("definition", `job definition ${file} is not valid (${problems.length} problem${problems.length === 1 ? "" : "s"})`, {
    problems,
    fix: "correct the fields listed above; the reference is schemas/json/job-definition.schema.json",
  });
}

// ---------------------------------------------------------------- IO

/**
 * Where jobs come from: one folder, or several in order (a team's folder before the shipped one).
 * A job, pipeline, SQL file or MLlib configuration in an earlier folder replaces one of the same
 * name in a later folder.
 */
export type JobsDirs = string | readonly string[];
export const dirsOf = (jobsDir: JobsDirs): readonly string[] => (typeof jobsDir === "string" ? [jobsDir] : jobsDir);

/** Files under a folder by path relative to it, with the path to show, from every folder (earlier ones win). */
function readTrees(dirs: readonly string[], sub: string, ext: RegExp, shown: (p: string) => string): { text: Map<string, string>; where: Map<string, string> } {
  const text = new Map<string, string>();
  const where = new Map<string, string>();
  for (const base of [...dirs].reverse()) {
    const dir = join(base, sub);
    if (!existsSync(dir)) continue;
    const walk = (d: string) => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        const full = join(d, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (ext.test(entry.name)) {
          const rel = relative(dir, full).split("\\").join("/");
          text.set(rel, readFileSync(full, "utf8"));
          where.set(rel, shown(full));
        }
      }
    };
    walk(dir);
  }
  return { text, where };
}

/** The YAML files directly in a folder, by name without the extension. */
export function yamlNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, ""));
}

export function listJobs(jobsDir: JobsDirs): string[] {
  return [...new Set(dirsOf(jobsDir).flatMap(yamlNames))].sort();
}

/** Names defined in the first folder that replace one in a later folder (jobs and pipelines). */
export function replacedNames(jobsDir: JobsDirs): string[] {
  const [first, ...rest] = dirsOf(jobsDir);
  if (!first || !rest.length) return [];
  const later = new Set(rest.flatMap((d) => [...yamlNames(d), ...yamlNames(join(d, "pipelines")).map((n) => `pipeline ${n}`)]));
  return [...yamlNames(first), ...yamlNames(join(first, "pipelines")).map((n) => `pipeline ${n}`)].filter((n) => later.has(n)).sort();
}

/** Paths inside the working directory are shown relative to it, others in full. */
export function displayPath(p: string, cwd = process.cwd()): string {
  const rel = relative(cwd, p);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : p;
}

/** The first of the folders that holds <name>.yaml (or .yml) under `sub`. */
export function findYaml(jobsDir: JobsDirs, sub: string, name: string): string | undefined {
  for (const dir of dirsOf(jobsDir)) {
    const found = [join(dir, sub, `${name}.yaml`), join(dir, sub, `${name}.yml`)].find((c) => existsSync(c));
    if (found) return found;
  }
  return undefined;
}

export function jobFile(jobsDir: JobsDirs, name: string): string {
  // A name is a file name in the jobs folder, never a path that leads elsewhere.
  const found = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) ? findYaml(jobsDir, "", name) : undefined;
  if (!found) {
    const known = listJobs(jobsDir);
    const dirs = dirsOf(jobsDir).map((d) => displayPath(d));
    throw new SparkjobsError("usage", `no job named "${name}" in ${dirs.join(" or ")}`, {
      fix: known.length ? `use one of: ${known.join(", ")} (sparkjobs list)` : `create ${join(dirs[0]!, `${name}.yaml`)}`,
    });
  }
  return found;
}

export function readJobFiles(jobsDir: JobsDirs, name: string, cwd = process.cwd()): JobFiles {
  const file = jobFile(jobsDir, name);
  const shown = (p: string) => displayPath(p, cwd);
  const dirs = dirsOf(jobsDir);
  const sql = readTrees(dirs, "spark-sql", /\.sql$/, shown);
  const mllib = readTrees(dirs, "mllib-configs", /\.ya?ml$/, shown);
  return {
    file: shown(file),
    text: readFileSync(file, "utf8"),
    sql: sql.text,
    mllib: mllib.text,
    sqlFiles: sql.where,
    mllibFiles: mllib.where,
    // Where a missing file belongs: the first folder (the team's, when there are two).
    sqlDir: shown(join(dirs[0]!, "spark-sql")),
    mllibDir: shown(join(dirs[0]!, "mllib-configs")),
  };
}

export function loadJob(jobsDir: JobsDirs, name: string): LoadedJob {
  return checkJob(readJobFiles(jobsDir, name));
}
