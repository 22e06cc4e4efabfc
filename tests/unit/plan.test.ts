/**
 * buildPlan is pure: definition + resolved params + input URIs -> RunPlan. The plan is the bytes
 * that get hashed and staged, so equal inputs must give equal bytes.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { RUN_ID_PATTERN, runPlan, tables, type ParamValue } from "../../schemas/src/index.js";
import { tableJsonSchema } from "../../schemas/src/export.js";
import { checkJob, loadJob, type LoadedJob } from "../../submitter/src/config/job.js";
import { resolveParams } from "../../submitter/src/config/params.js";
import { BASE_SPARK_CONF, buildPlan, joinUri, newRunId, planSha256, planText, runUri, type PlanContext } from "../../submitter/src/plan/build.js";
import { SparkjobsError } from "../../submitter/src/errors.js";

const repo = join(import.meta.dirname, "..", "..");
const KMEANS = readFileSync(join(repo, "jobs", "mllib-configs", "kmeans_segmentation.yaml"), "utf8");

const DEFINITION = `name: demo
version: 3
description: plan tests
params:
  source: { type: runId }
  snapshot_date: { type: date, default: "2024-01-01" }
  max_quantity: { type: int, default: 500 }
  k: { type: int, default: 0, min: 0, max: 20 }
  features: { type: list, values: [recency_days, frequency, monetary, avg_order_value, tenure_days], default: "recency_days,frequency,monetary,avg_order_value,tenure_days" }
  names: { type: enum, values: [business, numbered], default: business }
  unused: { type: string, default: "never referenced" }
inputs:
  transactions:
    fromRun: { param: source, job: generate, output: transactions }
    schema: transactions
  truth_segments:
    fromRun: { param: source, job: generate, output: truth_segments }
    schema: truth_segments
    optional: true
stages:
  - { kind: sql, name: recent, file: recent.sql, cache: true }
  - { kind: sql, name: counts, file: counts.sql, metrics: counts }
  - { kind: sql, name: customer_features, file: features.sql }
  - kind: mllib
    name: segmentation
    config: kmeans.yaml
    input: customer_features
    truth: { view: truth_segments, column: true_segment }
outputs:
  customer_segments: { from: customer_segments, schema: customer_segments }
  segment_profiles: { from: segment_profiles, schema: segment_profiles, files: 1 }
checks:
  - { name: silhouette, metric: segmentation.silhouette, min: 0.25 }
sparkConf:
  spark.sql.shuffle.partitions: "8"
  spark.executor.memory: 2g
`;

const SQL = {
  // max_quantity twice, snapshot_date once, and a marker in a comment that must not count.
  "recent.sql": "-- not :unused\nSELECT * FROM transactions\nWHERE quantity <= :max_quantity AND quantity > -:max_quantity\n  AND order_ts < CAST(:snapshot_date AS TIMESTAMP)\n",
  "counts.sql": "SELECT count(*) AS n FROM recent\n",
  "features.sql": "SELECT customer_id, datediff(:snapshot_date, to_date(max(order_ts))) AS recency_days FROM recent GROUP BY 1\n",
};

function job(): LoadedJob {
  return checkJob({
    file: "jobs/demo.yaml",
    text: DEFINITION,
    sql: new Map(Object.entries(SQL)),
    mllib: new Map([["kmeans.yaml", KMEANS]]),
    sqlDir: "jobs/spark-sql",
    mllibDir: "jobs/mllib-configs",
  });
}

function params(given: Record<string, string> = {}): Record<string, ParamValue> {
  const j = job();
  return resolveParams(j.definition, j.file, { source: "gen-1", ...given }).values;
}

const URIS = {
  transactions: "/data/root/runs/gen-1/transactions",
  truth_segments: "/data/root/runs/gen-1/truth_segments",
};

function ctx(overrides: Partial<PlanContext> = {}): PlanContext {
  return { runId: "demo-20240102T030405Z-abcdef", root: "/data/root", params: params(), inputUris: { ...URIS }, engineConf: {}, ...overrides };
}

describe("buildPlan", () => {
  test("is deterministic: same inputs, same bytes and hash", () => {
    const a = buildPlan(job(), ctx());
    const b = buildPlan(job(), ctx());
    expect(planText(b)).toBe(planText(a));
    expect(planSha256(b)).toBe(planSha256(a));
    expect(planSha256(a)).toBe(createHash("sha256").update(planText(a)).digest("hex"));
    expect(planSha256(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  test("does not depend on the key order of its inputs", () => {
    const a = buildPlan(job(), ctx({ engineConf: { "spark.a": "1", "spark.b": "2" } }));
    const reversedParams = Object.fromEntries(Object.entries(params()).reverse());
    const b = buildPlan(job(), ctx({ params: reversedParams, engineConf: { "spark.b": "2", "spark.a": "1" } }));
    expect(planText(b)).toBe(planText(a));
  });

  test("planText sorts keys at every level and ends with a newline", () => {
    const text = planText(buildPlan(job(), ctx()));
    expect(text.endsWith("}\n")).toBe(true);
    const checkSorted = (value: unknown, path: string) => {
      if (Array.isArray(value)) value.forEach((v, i) => checkSorted(v, `${path}[${i}]`));
      else if (value && typeof value === "object") {
        const keys = Object.keys(value);
        expect(keys, path).toEqual([...keys].sort());
        for (const k of keys) checkSorted((value as Record<string, unknown>)[k], `${path}.${k}`);
      }
    };
    checkSorted(JSON.parse(text), "plan");
  });

  test("a different parameter value or run id gives a different hash", () => {
    const base = planSha256(buildPlan(job(), ctx()));
    expect(planSha256(buildPlan(job(), ctx({ params: params({ max_quantity: "501" }) })))).not.toBe(base);
    expect(planSha256(buildPlan(job(), ctx({ runId: "demo-2" })))).not.toBe(base);
  });

  test("binds only the params each SQL stage uses, sorted, each once", () => {
    const plan = buildPlan(job(), ctx());
    const sql = plan.stages.filter((s) => s.kind === "sql");
    expect(sql.map((s) => [s.name, s.params])).toEqual([
      ["recent", ["max_quantity", "snapshot_date"]],
      ["counts", []],
      ["customer_features", ["snapshot_date"]],
    ]);
    // The plan carries every resolved value; the stages say which ones to bind.
    expect(Object.keys(plan.params).sort()).toEqual(["features", "k", "max_quantity", "names", "snapshot_date", "source", "unused"]);
  });

  test("inlines the SQL text and keeps cache and metrics", () => {
    const plan = buildPlan(job(), ctx());
    expect(plan.stages[0]).toEqual({
      kind: "sql",
      name: "recent",
      file: "jobs/spark-sql/recent.sql",
      sql: SQL["recent.sql"],
      params: ["max_quantity", "snapshot_date"],
      cache: true,
    });
    expect(plan.stages[1]).toMatchObject({ name: "counts", cache: false, metrics: "counts" });
    expect(plan.stages[2]).not.toHaveProperty("metrics");
  });

  test.each([
    ["0", null],
    ["2", 2],
    ["6", 6],
  ])("sets fixedK from the k param: k=%s -> %s", (k, fixedK) => {
    const plan = buildPlan(job(), ctx({ params: params({ k }) }));
    const mllib = plan.stages.find((s) => s.kind === "mllib");
    expect(mllib).toMatchObject({ kind: "mllib", name: "segmentation", input: "customer_features", fixedK });
  });

  test("K-Means features and names chosen by parameters become the plan's lists", () => {
    const mllib = (given: Record<string, string>) => buildPlan(job(), ctx({ params: params(given) })).stages.find((s) => s.kind === "mllib")!;
    expect(mllib({})).toMatchObject({ config: { features: ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days"], names: "business" } });
    const rfm = mllib({ features: " recency_days, frequency,monetary", names: "numbered" });
    expect(rfm).toMatchObject({ config: { features: ["recency_days", "frequency", "monetary"], names: "numbered" } });
    expect(runPlan.safeParse(buildPlan(job(), ctx({ params: params({ features: "monetary" }) }))).success).toBe(true);
  });

  test.each([
    ["recency_days,age", '--param features: "age" is not one of recency_days, frequency, monetary, avg_order_value, tenure_days'],
    ["recency_days,,frequency", '--param features: expected one or more of recency_days, frequency, monetary, avg_order_value, tenure_days separated by commas, got "recency_days,,frequency"'],
    ["monetary,monetary", '--param features: "monetary" is given twice'],
  ])("a features list that is not one of the choices: %s", (features, message) => {
    try {
      params({ features });
      expect.unreachable();
    } catch (e) {
      expect((e as SparkjobsError).kind).toBe("usage");
      expect((e as SparkjobsError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([message]);
    }
  });

  test("keeps the truth when the optional truth input is present", () => {
    const plan = buildPlan(job(), ctx());
    expect(plan.stages[3]).toMatchObject({ truth: { view: "truth_segments", column: "true_segment" } });
    expect(plan.inputs.map((i) => i.name)).toEqual(["transactions", "truth_segments"]);
  });

  test("drops the truth (and the input) when the optional truth input is absent", () => {
    const plan = buildPlan(job(), ctx({ inputUris: { transactions: URIS.transactions } }));
    expect(plan.stages[3]).not.toHaveProperty("truth");
    expect(plan.inputs).toEqual([{ name: "transactions", uri: URIS.transactions, format: "parquet", table: "transactions" }]);
    expect(Object.keys(plan.tables)).not.toContain("truth_segments");
    expect(runPlan.safeParse(plan).success).toBe(true);
  });

  test("merges sparkConf as base < engine < job", () => {
    const engineConf = {
      "spark.ui.showConsoleProgress": "true", // overrides base
      "spark.sql.shuffle.partitions": "200", // overridden by the job
      "spark.master.only": "engine", // engine only
    };
    const plan = buildPlan(job(), ctx({ engineConf }));
    expect(plan.sparkConf).toEqual({
      "spark.sql.session.timeZone": "UTC",
      "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
      "spark.sql.parquet.compression.codec": "snappy",
      "spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version": "1",
      "spark.sql.sources.partitionOverwriteMode": "static",
      "spark.ui.showConsoleProgress": "true",
      "spark.sql.shuffle.partitions": "8",
      "spark.master.only": "engine",
      "spark.executor.memory": "2g",
    });
    // Never the v2 committer, whatever the engine says, unless the job itself says so.
    expect(buildPlan(job(), ctx({ engineConf: {} })).sparkConf["spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version"]).toBe("1");
    expect(BASE_SPARK_CONF["spark.sql.session.timeZone"]).toBe("UTC");
  });

  test("writes each output under <root>/runs/<run id>/<output>", () => {
    const plan = buildPlan(job(), ctx({ root: "s3://bucket/prefix/" }));
    expect(plan.runUri).toBe("s3://bucket/prefix/runs/demo-20240102T030405Z-abcdef");
    expect(plan.outputs).toEqual([
      { name: "customer_segments", view: "customer_segments", table: "customer_segments", uri: "s3://bucket/prefix/runs/demo-20240102T030405Z-abcdef/customer_segments" },
      { name: "segment_profiles", view: "segment_profiles", table: "segment_profiles", uri: "s3://bucket/prefix/runs/demo-20240102T030405Z-abcdef/segment_profiles", files: 1 },
    ]);
  });

  test("carries the JSON Schema of exactly the tables it reads and writes", () => {
    const plan = buildPlan(job(), ctx());
    expect(Object.keys(plan.tables)).toEqual(["customer_segments", "segment_profiles", "transactions", "truth_segments"]);
    expect(plan.tables.transactions).toEqual(tableJsonSchema(tables.transactions));
  });

  test("the plan parses with the zod runPlan schema, and round-trips through planText", () => {
    const plan = buildPlan(job(), ctx());
    const parsed = runPlan.parse(JSON.parse(planText(plan)));
    expect(planText(parsed)).toBe(planText(plan));
    expect(parsed.job).toEqual({ name: "demo", version: 3, file: "jobs/demo.yaml" });
    expect(parsed.checks.filter((c) => !("unique" in c))).toEqual([{ name: "silhouette", metric: "segmentation.silhouette", min: 0.25 }]);
  });

  test("every output whose table declares a key gets a uniqueness gate, unless the definition has one", () => {
    const plan = buildPlan(job(), ctx());
    expect(plan.checks.filter((c) => "unique" in c)).toEqual([
      { name: "customer_segments_key_unique", unique: { output: "customer_segments", columns: ["customer_id"] }, description: "the key of customer_segments (customer_id) identifies one row" },
      { name: "segment_profiles_key_unique", unique: { output: "segment_profiles", columns: ["cluster"] }, description: "the key of segment_profiles (cluster) identifies one row" },
    ]);
    const own = job();
    own.definition.checks.push({ name: "segments_key", unique: { output: "customer_segments", columns: ["customer_id", "cluster"] }, severity: "warn" });
    const names = buildPlan(own, ctx()).checks.filter((c) => "unique" in c).map((c) => c.name);
    expect(names).toEqual(["segments_key", "segment_profiles_key_unique"]);
  });

  test("drift thresholds given as parameters become numbers", () => {
    const real = loadJob(join(repo, "jobs"), "customer-segmentation");
    const params = Object.fromEntries(Object.entries(real.definition.params).filter(([, p]) => "default" in p).map(([n, p]) => [n, { type: p.type === "double" ? "double" : p.type === "int" ? "int" : "string", value: (p as { default: unknown }).default }]));
    const plan = buildPlan(real, { runId: "r1", root: "/r", params: { ...params, max_share_shift: { type: "double", value: 0.2 } } as never, inputUris: { transactions: "/r/t" } });
    expect(plan.checks.find((c) => c.name === "segment_shares_stable")).toEqual({
      name: "segment_shares_stable", drift: { shares: { output: "customer_segments", column: "segment" } }, warn: 0.05, error: 0.2,
      description: "segment shares against the previous run of the series",
    });
  });

  test("a plan of a real job parses too", () => {
    const real = loadJob(join(repo, "jobs"), "customer-segmentation");
    const values = resolveParams(real.definition, real.file, { source: "gen-1" }).values;
    const plan = buildPlan(real, { runId: "r1", root: "/tmp/root", params: values, inputUris: { transactions: "/a", events: "/b" } });
    expect(runPlan.safeParse(plan).success).toBe(true);
    const flag = plan.stages.find((s) => s.name === "flagged_transactions");
    expect(flag).toMatchObject({ kind: "sql", params: ["max_quantity", "max_unit_price", "snapshot_date"] });
  });

  test("the zod schema rejects a plan with an unknown key", () => {
    const plan = { ...buildPlan(job(), ctx()), extra: true };
    expect(runPlan.safeParse(plan).success).toBe(false);
  });
});

describe("joinUri and runUri", () => {
  test("one slash between the parts, whatever the parts carry", () => {
    expect(joinUri("s3://b/p/", "/runs/", "x/")).toBe("s3://b/p/runs/x");
    expect(runUri("/root//", "r1")).toBe("/root/runs/r1");
  });
});

describe("newRunId", () => {
  const now = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));

  test("is the job, the UTC time and 6 hex digits, and matches the run id pattern", () => {
    expect(newRunId("customer-segmentation", now, () => 0)).toBe("customer-segmentation-20240102T030405Z-000000");
    const id = newRunId("customer-segmentation", now, () => 0.5);
    expect(id).toBe(`customer-segmentation-20240102T030405Z-${Math.floor(0.5 * 0xffffff).toString(16).padStart(6, "0")}`);
    expect(id).toMatch(RUN_ID_PATTERN);
  });

  test("matches the pattern for random values over the whole range", () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    for (let i = 0; i < 200; i++) expect(newRunId("generate", now, random)).toMatch(/^generate-20240102T030405Z-[0-9a-f]{6}$/);
    expect(newRunId("generate", now, () => 0.999999999)).toMatch(RUN_ID_PATTERN);
  });

  test("different random values give different ids, even for the longest job name", () => {
    // Job names may have 63 characters; the id is cut to 64, which must not cut off the
    // random part (two runs of such a job would otherwise get the same id).
    const name = `j${"x".repeat(62)}`;
    const a = newRunId(name, now, () => 0.1);
    const b = newRunId(name, now, () => 0.2);
    expect(a).toMatch(RUN_ID_PATTERN);
    expect(b).toMatch(RUN_ID_PATTERN);
    expect(a).not.toBe(b);
  });
});

describe("gates whose bounds are parameters", () => {
  const withBound = DEFINITION.replace(
    "  - { name: silhouette, metric: segmentation.silhouette, min: 0.25 }",
    "  - { name: silhouette, metric: segmentation.silhouette, min: { param: min_silhouette }, max: 1 }",
  ).replace("  unused:", "  min_silhouette: { type: double, default: 0.25 }\n  unused:");
  const load = (text: string) =>
    checkJob({ file: "jobs/demo.yaml", text, sql: new Map(Object.entries(SQL)), mllib: new Map([["kmeans.yaml", KMEANS]]), sqlDir: "jobs/spark-sql", mllibDir: "jobs/mllib-configs" });

  test("the plan carries the parameter's value, the default or the one given", () => {
    const j = load(withBound);
    const values = (given: Record<string, string>) => resolveParams(j.definition, j.file, { source: "gen-1", ...given }).values;
    expect(buildPlan(j, ctx({ params: values({}) })).checks.filter((c) => "metric" in c)).toEqual([{ name: "silhouette", metric: "segmentation.silhouette", min: 0.25, max: 1 }]);
    expect(buildPlan(j, ctx({ params: values({ min_silhouette: "0.6" }) })).checks[0]).toMatchObject({ min: 0.6, max: 1 });
    expect(runPlan.safeParse(buildPlan(j, ctx({ params: values({}) }))).success).toBe(true);
  });

  test("an undeclared or non-numeric parameter is a definition error naming the check", () => {
    const problems = (text: string) => {
      try {
        load(text);
      } catch (e: any) {
        return e.problems.map((p: any) => `${p.path}: ${p.message}`) as string[];
      }
      throw new Error("accepted");
    };
    expect(problems(withBound.replace("min: { param: min_silhouette }", "min: { param: nope }"))).toContain('checks[0].min.param: parameter "nope" is not declared under params');
    expect(problems(withBound.replace("min: { param: min_silhouette }", "min: { param: snapshot_date }"))).toContain('checks[0].min.param: parameter "snapshot_date" must have type int or double, not date');
  });
});

describe("a source's customer features in the plans of the shipped jobs", () => {
  const shipped = join(repo, "jobs");
  const extras = { customers: [{ name: "past_spend", type: "double" as const }, { name: "purchase_channel", type: "string" as const }] };
  const planOf = (name: string, given: Record<string, string>, inputs: string[]) => {
    const j = loadJob(shipped, name);
    const values = resolveParams(j.definition, j.file, given).values;
    const inputUris = Object.fromEntries(inputs.map((i) => [i, `/data/root/runs/src/${i}`]));
    return buildPlan(j, { runId: "r1", root: "/data/root", params: values, inputUris, inputExtras: extras, modelUris: { response_model: "/m/r", treatment_model: "/m/t", control_model: "/m/c" }, engineConf: {} });
  };
  const stage = (plan: ReturnType<typeof buildPlan>, name: string) => plan.stages.find((s) => s.name === name) as any;

  test.each([
    ["response", "response", { source: "src" }, ["campaigns", "customers"]],
    ["uplift", "uplift", { source: "src" }, ["campaigns", "customers"]],
    ["clv", "clv", { source: "src", segments: "seg", cutoff: "2024-01-01" }, ["transactions_all", "customer_segments", "customers", "next_period"]],
  ])("%s learns from them: numeric and categorical features of its %s stage", (job, stageName, given, inputs) => {
    const config = stage(planOf(job, given, inputs), stageName).config;
    expect(config.numeric).toContain("past_spend");
    expect(config.categorical).toContain("purchase_channel");
    expect(config.sourceFeatures).toEqual({ input: "customers", key: "customer_id", numeric: ["past_spend"], categorical: ["purchase_channel"] });
  });

  test.each([
    ["score", "scoring", { model_run: "m", source: "src" }],
    ["score-uplift", "treated", { model_run: "m", source: "src" }],
    ["score-uplift", "control", { model_run: "m", source: "src" }],
  ])("%s joins them again before its %s stage scores", (job, stageName, given) => {
    const plan = planOf(job, given, ["customers", "campaigns"]);
    expect(stage(plan, stageName).config.sourceFeatures).toEqual({ input: "customers", key: "customer_id", numeric: ["past_spend"], categorical: ["purchase_channel"] });
    expect(runPlan.safeParse(plan).success).toBe(true);
  });
});
