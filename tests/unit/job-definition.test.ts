/**
 * checkJob is pure: the job files are built in memory here. Every bad definition is rejected with
 * kind "definition" (exit code 3) and problems naming the file, the line and the dotted path.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { checkJob, type JobFiles } from "../../submitter/src/config/job.js";
import { EXIT_CODES, formatError, SparkjobsError, type Problem } from "../../submitter/src/errors.js";

const repo = join(import.meta.dirname, "..", "..");
/** The real MLlib configuration: it refers to the job parameter k. */
const KMEANS = readFileSync(join(repo, "jobs", "mllib-configs", "kmeans_segmentation.yaml"), "utf8");

const BASE = `name: demo
version: 1
description: a small job for the tests
params:
  snapshot_date:
    type: date
    default: "2024-01-01"
  k:
    type: int
    default: 0
  features: { type: list, values: [recency_days, frequency, monetary, avg_order_value, tenure_days], default: "recency_days,frequency,monetary,avg_order_value,tenure_days" }
  names: { type: enum, values: [business, numbered], default: business }
inputs:
  transactions:
    uri: data/transactions.parquet
    schema: transactions
stages:
  - kind: sql
    name: recent
    file: clean/recent.sql
  - kind: sql
    name: customer_features
    file: features.sql
    cache: true
  - kind: mllib
    name: segmentation
    config: kmeans.yaml
    input: customer_features
outputs:
  recent: { from: recent, schema: clean_transactions }
  segments: { from: customer_segments, schema: customer_segments }
checks:
  - name: has_rows
    output: recent
    minRows: 1
`;

const RECENT_SQL = `-- lines before the snapshot date
SELECT *
FROM transactions
WHERE order_ts < CAST(:snapshot_date AS TIMESTAMP)
`;
const FEATURES_SQL = "SELECT customer_id FROM recent\n";

function files(text: string, overrides: { sql?: Record<string, string>; mllib?: Record<string, string> } = {}): JobFiles {
  return {
    file: "jobs/demo.yaml",
    text,
    sql: new Map(Object.entries(overrides.sql ?? { "clean/recent.sql": RECENT_SQL, "features.sql": FEATURES_SQL })),
    mllib: new Map(Object.entries(overrides.mllib ?? { "kmeans.yaml": KMEANS })),
    sqlDir: "jobs/spark-sql",
    mllibDir: "jobs/mllib-configs",
  };
}

/** Replaces exactly one occurrence, so a test cannot silently edit nothing. */
function edit(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`"${from}" must occur exactly once in the fixture`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** 1-based line of the (only) occurrence of needle: computed from the text, not from the parser. */
function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`"${needle}" not in the text`);
  return text.slice(0, at).split("\n").length;
}

function rejected(jobFiles: JobFiles): SparkjobsError {
  try {
    checkJob(jobFiles);
  } catch (e) {
    expect(e).toBeInstanceOf(SparkjobsError);
    const error = e as SparkjobsError;
    expect(error.kind).toBe("definition");
    expect(error.exitCode).toBe(3);
    expect(EXIT_CODES.definition).toBe(3);
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.message).toContain(jobFiles.file);
    return error;
  }
  throw new Error("checkJob accepted an invalid job");
}

function problemAt(error: SparkjobsError, path: string): Problem {
  const found = error.problems.find((p) => p.path === path);
  if (!found) throw new Error(`no problem at ${path}; problems: ${JSON.stringify(error.problems, null, 2)}`);
  return found;
}

describe("checkJob accepts", () => {
  test("a valid job, with its SQL text and parsed MLlib configuration per stage", () => {
    const job = checkJob(files(BASE));
    expect(job.file).toBe("jobs/demo.yaml");
    expect(job.definition.name).toBe("demo");
    expect(job.definition.stages.map((s) => s.name)).toEqual(["recent", "customer_features", "segmentation"]);
    expect(job.sql.get("recent")).toEqual({ file: "jobs/spark-sql/clean/recent.sql", text: RECENT_SQL });
    expect(job.sql.get("customer_features")?.file).toBe("jobs/spark-sql/features.sql");
    expect(job.mllib.get("segmentation")?.file).toBe("jobs/mllib-configs/kmeans.yaml");
    expect(job.mllib.get("segmentation")?.config.k).toEqual({ param: "k", min: 2, max: 8 });
    // Defaults filled in by the schema.
    expect(job.definition.stages[0]).toMatchObject({ kind: "sql", cache: false });
    expect(job.definition.sparkConf).toEqual({});
  });

  test("an output read from an MLlib result view and a check on a declared output", () => {
    const job = checkJob(files(BASE));
    expect(job.definition.outputs.segments?.from).toBe("customer_segments");
    expect(job.definition.checks).toEqual([{ name: "has_rows", output: "recent", minRows: 1 }]);
  });
});

describe("checkJob rejects", () => {
  test("an unknown key in a stage (sqlFile: instead of file:), suggesting the key it was meant to be", () => {
    const text = edit(BASE, "    file: clean/recent.sql", "    sqlFile: clean/recent.sql");
    const error = rejected(files(text));
    // One problem: the misspelt key explains the missing file:, which is not reported again.
    expect(error.problems).toHaveLength(1);
    const unknown = problemAt(error, "stages[0].sqlFile");
    expect(unknown.file).toBe("jobs/demo.yaml");
    expect(unknown.line).toBe(lineOf(text, "sqlFile:"));
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: job definition jobs/demo.yaml is not valid (1 problem)
        - jobs/demo.yaml:20: stages[0].sqlFile: unknown key "sqlFile": did you mean "file"?
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
  });

  test("an unknown key next to a missing key it does not resemble: both reported", () => {
    const text = edit(BASE, "    file: clean/recent.sql", "    query: clean/recent.sql");
    const error = rejected(files(text));
    expect(problemAt(error, "stages[0].query").message).toBe('unknown key "query" (remove it or fix its spelling)');
    expect(problemAt(error, "stages[0].file").message).toMatch(/^is required/);
    expect(error.problems).toHaveLength(2);
  });

  // A misspelt top-level key whose value is a block: `stage:` for `stages:`, and `sparkconf:`
  // (sparkConf has a default, so nothing is missing and there is no suggestion).
  const topLevel = [
    {
      key: "stage",
      text: edit(BASE, "stages:\n", "stage:\n"),
      message: 'unknown key "stage": did you mean "stages"?',
    },
    {
      key: "sparkconf",
      text: `${BASE}sparkconf:\n  spark.sql.shuffle.partitions: "4"\n`,
      message: 'unknown key "sparkconf" (remove it or fix its spelling)',
    },
  ];

  test.each(topLevel)("a misspelt top-level key ($key): rejected, naming the key", ({ key, text, message }) => {
    const error = rejected(files(text));
    expect(error.problems).toHaveLength(1);
    expect(problemAt(error, key)).toMatchObject({ file: "jobs/demo.yaml", message });
  });

  test.each(topLevel)("a misspelt top-level key ($key): the line of the key, not of its block value", ({ key, text }) => {
    const error = rejected(files(text));
    expect(problemAt(error, key).line).toBe(lineOf(text, `${key}:`));
  });

  test("a misspelt top-level key: the formatted message", () => {
    const error = rejected(files(topLevel[1]!.text));
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: job definition jobs/demo.yaml is not valid (1 problem)
        - jobs/demo.yaml:36: sparkconf: unknown key "sparkconf" (remove it or fix its spelling)
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
  });

  test("a wrong type: version: \"one\"", () => {
    const text = edit(BASE, "version: 1", 'version: "one"');
    const error = rejected(files(text));
    expect(problemAt(error, "version").line).toBe(lineOf(text, "version:"));
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: job definition jobs/demo.yaml is not valid (1 problem)
        - jobs/demo.yaml:2: version: Invalid input: expected number, received string
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
  });

  test("a wrong type: cache: \"yes\"", () => {
    const text = edit(BASE, "    cache: true", '    cache: "yes"');
    const error = rejected(files(text));
    expect(problemAt(error, "stages[1].cache").line).toBe(lineOf(text, 'cache: "yes"'));
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: job definition jobs/demo.yaml is not valid (1 problem)
        - jobs/demo.yaml:24: stages[1].cache: Invalid input: expected boolean, received string
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
  });

  test("a SQL file that does not exist", () => {
    const text = edit(BASE, "file: features.sql", "file: feature.sql");
    const error = rejected(files(text));
    expect(error.problems).toHaveLength(1);
    const p = problemAt(error, "stages[1].file");
    expect(p.line).toBe(lineOf(text, "file: feature.sql"));
    expect(p.message).toContain("jobs/spark-sql/feature.sql");
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: job definition jobs/demo.yaml is not valid (1 problem)
        - jobs/demo.yaml:23: stages[1].file: SQL file jobs/spark-sql/feature.sql does not exist (create it, or fix the path: it is relative to jobs/spark-sql)
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
  });

  test("a SQL file that refers to an undeclared :param, at the line in the SQL file", () => {
    const sql = `SELECT *\nFROM transactions\nWHERE quantity <= :max_quantity\n  AND order_ts < CAST(:snapshot_date AS TIMESTAMP)\n`;
    const error = rejected(files(BASE, { sql: { "clean/recent.sql": sql, "features.sql": FEATURES_SQL } }));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ file: "jobs/spark-sql/clean/recent.sql", line: lineOf(sql, ":max_quantity"), path: ":max_quantity" });
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: job definition jobs/demo.yaml is not valid (1 problem)
        - jobs/spark-sql/clean/recent.sql:3: :max_quantity: parameter :max_quantity is not declared under params in jobs/demo.yaml
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
  });

  test("an MLlib stage whose input view does not exist", () => {
    const text = edit(BASE, "input: customer_features", "input: customer_feature");
    const error = rejected(files(text));
    expect(problemAt(error, "stages[2].input").line).toBe(lineOf(text, "input: customer_feature"));
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: job definition jobs/demo.yaml is not valid (1 problem)
        - jobs/demo.yaml:28: stages[2].input: "customer_feature" is not an input or an earlier stage
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
  });

  test("an MLlib stage that reads a view defined only by a later stage", () => {
    // Stage order matters: the view must exist before the stage runs.
    const text = edit(edit(BASE, "input: customer_features", "input: late"), "outputs:", "  - kind: sql\n    name: late\n    file: features.sql\noutputs:");
    const error = rejected(files(text));
    expect(problemAt(error, "stages[2].input").message).toContain('"late"');
  });

  test("an output whose from is not a view", () => {
    const text = edit(BASE, "from: customer_segments", "from: segment");
    const error = rejected(files(text));
    expect(problemAt(error, "outputs.segments.from").line).toBe(lineOf(text, "from: segment,"));
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: job definition jobs/demo.yaml is not valid (1 problem)
        - jobs/demo.yaml:31: outputs.segments.from: "segment" is not an input, a stage or an MLlib result view
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
  });

  test("a check that refers to an unknown output", () => {
    const text = edit(BASE, "    output: recent", "    output: recnet");
    const error = rejected(files(text));
    expect(problemAt(error, "checks[0].output").line).toBe(lineOf(text, "output: recnet"));
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: job definition jobs/demo.yaml is not valid (1 problem)
        - jobs/demo.yaml:34: checks[0].output: "recnet" is not one of the outputs (recent, segments)
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
  });

  test("an MLlib configuration with an unknown key, reported in the configuration's file", () => {
    const line = KMEANS.match(/^restarts: \d+$/m)![0];
    const config = edit(KMEANS, line, line.replace("restarts", "restart"));
    const error = rejected(files(BASE, { mllib: { "kmeans.yaml": config } }));
    const p = problemAt(error, "restart");
    expect(p.file).toBe("jobs/mllib-configs/kmeans.yaml");
    expect(p.line).toBe(lineOf(config, line.replace("restarts", "restart")));
  });

  test("a k parameter that is not an int", () => {
    const text = edit(BASE, "    type: int\n    default: 0", "    type: double\n    default: 0");
    const error = rejected(files(text));
    expect(problemAt(error, "k.param")).toMatchObject({ file: "jobs/mllib-configs/kmeans.yaml" });
    expect(problemAt(error, "k.param").message).toContain("must have type int, not double");
  });

  test("K-Means features from a parameter that is not a list, names from one with other values", () => {
    let text = edit(BASE, "  features: { type: list,", "  features: { type: enum,");
    text = edit(text, "  names: { type: enum, values: [business, numbered]", "  names: { type: enum, values: [business, fancy]");
    const error = rejected(files(text));
    expect(problemAt(error, "features.param")).toMatchObject({ file: "jobs/mllib-configs/kmeans.yaml", message: 'parameter "features" must have type list, not enum' });
    expect(problemAt(error, "names.param").message).toBe('parameter "names" may take business and numbered only, not "fancy"');
  });

  test("checks evaluated in Spark name outputs, inputs and columns that exist, and drift has a threshold", () => {
    const text = BASE.replace("checks:\n", `checks:
  - name: key
    unique: { output: segments, columns: [customer_id, custmer] }
  - name: known
    references: { output: segments, columns: [customer_id], to: nowhere }
  - name: names
    accepted: { output: segments, column: segmnt, values: [loyal] }
  - name: shares
    drift: { shares: { output: segmnts, column: segment } }
    error: { param: k_max }
  - name: rows
    drift: { rows: recent }
  - name: key
    references: { output: recent, columns: [customer_id], to: transactions, toColumns: [customer_id, order_id] }
`);
    const error = rejected(files(text));
    expect(error.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'checks[0].unique.columns[1]: "custmer" is not a column of segments (customer_id, cluster, segment, distance, recency_days, frequency, monetary)',
      'checks[1].references.to: "nowhere" is not an output or an input of the job',
      'checks[2].accepted.column: "segmnt" is not a column of segments (customer_id, cluster, segment, distance, recency_days, frequency, monetary)',
      'checks[3].error.param: parameter "k_max" is not declared under params',
      'checks[3].drift.shares.output: "segmnts" is not one of the outputs (recent, segments)',
      "checks[4].drift: a drift check needs a warn or an error threshold (or both)",
      'checks[5].name: another check is already named "key"',
      "checks[5].references.toColumns: give as many toColumns as columns (1)",
    ]);
    expect(error.problems.every((p) => p.line !== undefined)).toBe(true);
  });

  test("every problem at once", () => {
    let text = edit(BASE, "from: customer_segments", "from: segment");
    text = edit(text, "    output: recent", "    output: recnet");
    text = edit(text, "input: customer_features", "input: customer_feature");
    const error = rejected(files(text));
    expect(error.problems.map((p) => p.path).sort()).toEqual(["checks[0].output", "outputs.segments.from", "stages[2].input"]);
    expect(error.message).toContain("3 problems");
  });

  // YAML syntax errors: each is rejected (first test) and names the line it is on (second test).
  const FIX_LINE = "  fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json";
  const yamlCases = [
    {
      what: "an unclosed flow mapping",
      text: edit(BASE, "  recent: { from: recent, schema: clean_transactions }", "  recent: { from: recent, schema: clean_transactions"),
      // The line of the unclosed mapping, or the next one, where the parser notices it.
      lines: (text: string) => [lineOf(text, "  recent: { from"), lineOf(text, "  recent: { from") + 1],
      message: "YAML: Flow map in block collection must be sufficiently indented and end with a }",
    },
    {
      what: "a key given twice",
      text: edit(BASE, "version: 1\n", "version: 1\nversion: 2\n"),
      lines: (text: string) => [lineOf(text, "version: 2")],
      message: "YAML: Map keys must be unique",
    },
    {
      what: "bad indentation",
      text: edit(BASE, "    name: recent\n", "      name: recent\n"),
      // The parser may point at the stage's first line or at the over-indented key.
      lines: (text: string) => [lineOf(text, "      name: recent") - 1, lineOf(text, "      name: recent")],
      message: "YAML: Nested mappings are not allowed in compact mappings",
    },
  ];

  test.each(yamlCases)("YAML syntax error ($what): rejected, in the definition's file", ({ text, message }) => {
    const error = rejected(files(text));
    for (const p of error.problems) {
      expect(p.file).toBe("jobs/demo.yaml");
      expect(p.message).toMatch(/^YAML: /);
    }
    expect(error.problems[0]?.message).toBe(message);
  });

  test.each(yamlCases)("YAML syntax error ($what): names the line", ({ text, lines }) => {
    const error = rejected(files(text));
    expect(lines(text)).toContain(error.problems[0]?.line);
  });

  test("YAML syntax error: the formatted message", () => {
    const error = rejected(files(yamlCases[1]!.text));
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: job definition jobs/demo.yaml is not valid (1 problem)
        - jobs/demo.yaml:3: YAML: Map keys must be unique
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
    expect(formatError(error).split("\n").at(-1)).toBe(FIX_LINE);
  });
});

describe("checkJob: classifier and score stages", () => {
  const RESPONSE_MODELS = readFileSync(join(repo, "jobs", "mllib-configs", "response_models.yaml"), "utf8");
  const SCORE = readFileSync(join(repo, "jobs", "mllib-configs", "score_offers.yaml"), "utf8");
  const JOB = `name: demo
version: 1
description: response and scoring
params:
  model_run: { type: runId }
  model: { type: enum, values: [gbt, logistic], default: gbt }
inputs:
  transactions: { uri: data/transactions.parquet, schema: transactions }
  customers: { uri: data/customers.parquet, schema: customers }
models:
  response_model:
    fromRun: { param: model_run, job: response, model: "response_{model}" }
stages:
  - { kind: sql, name: rows, file: features.sql }
  - { kind: mllib, name: response, config: response.yaml, input: rows }
  - { kind: mllib, name: scoring, config: score.yaml, input: rows }
outputs:
  scores: { from: scored_offers, schema: offer_scores }
  metrics: { from: model_metrics, schema: model_metrics }
`;
  const jobFiles = (text: string, mllib: Record<string, string> = {}) =>
    files(text, { sql: { "features.sql": FEATURES_SQL }, mllib: { "response.yaml": RESPONSE_MODELS, "score.yaml": SCORE, ...mllib } });

  test("the committed configurations load, and their result views can be outputs", () => {
    const job = checkJob(jobFiles(JOB));
    expect(job.mllib.get("response")?.config.algorithm).toBe("classifier");
    expect(job.mllib.get("scoring")?.config.algorithm).toBe("score");
  });

  test("a log1p column that is not a numeric feature, and a label that is also a feature", () => {
    const config = edit(edit(RESPONSE_MODELS, "log1p: [recency_days,", "log1p: [segment, recency_days,"), "label: responded", "label: frequency");
    const error = rejected(jobFiles(JOB, { "response.yaml": config }));
    expect(problemAt(error, "log1p")).toMatchObject({ file: "jobs/mllib-configs/response.yaml", message: '"segment" is not one of the numeric features' });
    expect(problemAt(error, "label").message).toBe('the label "frequency" is also a feature');
  });

  test("a score stage whose model is not declared under models", () => {
    const error = rejected(jobFiles(JOB, { "score.yaml": edit(SCORE, "model: response_model", "model: churn_model") }));
    expect(problemAt(error, "model")).toMatchObject({ file: "jobs/mllib-configs/score.yaml", message: '"churn_model" is not declared under models in jobs/demo.yaml' });
  });

  test("a model whose run parameter is not a runId, and an undeclared placeholder", () => {
    const text = edit(edit(JOB, "model_run: { type: runId }", "model_run: { type: string }"), '"response_{model}"', '"response_{algo}"');
    const error = rejected(jobFiles(text));
    expect(problemAt(error, "models.response_model.fromRun.param").message).toBe('parameter "model_run" must have type runId');
    expect(problemAt(error, "models.response_model.fromRun.model").message).toBe("placeholder {algo} is not a declared parameter");
  });

  test("a classifier without models", () => {
    const config = RESPONSE_MODELS.slice(0, RESPONSE_MODELS.indexOf("models:")) + "models: {}\n" + RESPONSE_MODELS.slice(RESPONSE_MODELS.indexOf("groupBy:"));
    const error = rejected(jobFiles(JOB, { "response.yaml": config }));
    expect(problemAt(error, "models").message).toBe("name at least one model");
  });
});
