/**
 * --param name=value: split, then typed against the job's declared params. Values are bound by
 * Spark later, never pasted into SQL, but anything that is not a valid value of its type (a quote
 * in a date, SQL in a run id) is rejected here with kind "usage" (exit code 2).
 */
import { describe, expect, test } from "vitest";
import { jobDefinition, type JobDefinition } from "../../schemas/src/index.js";
import { parseConfArgs, parseParamArgs, resolveParams } from "../../submitter/src/config/params.js";
import { awsClientConfig } from "../../submitter/src/aws/config.js";
import { s3aConf } from "../../submitter/src/backends/spark-submit.js";
import { formatError, SparkjobsError } from "../../submitter/src/errors.js";

const FILE = "jobs/demo.yaml";

/** Parsed with the real schema, so defaults (maxLength) are what a loaded job has. */
const job: JobDefinition = jobDefinition.parse({
  name: "demo",
  version: 1,
  description: "parameters of every type",
  params: {
    snapshot_date: { type: "date", description: "end of the history" },
    source: { type: "runId", description: "a complete run of generate" },
    k: { type: "int", default: 0, min: 0, max: 20 },
    max_unit_price: { type: "double", default: 10000, min: 0, max: 1e6 },
    dry_run: { type: "boolean", default: false },
    mode: { type: "enum", values: ["fast", "thorough"], default: "fast" },
    data: { type: "path", default: "data/online_retail.parquet" },
    label: { type: "string", default: "none", maxLength: 40 },
    country: { type: "string", pattern: "^[A-Z]{2}$", default: "GB" },
  },
  stages: [{ kind: "sql", name: "s", file: "s.sql" }],
  outputs: { o: { from: "s", schema: "transactions" } },
});

const REQUIRED = { snapshot_date: "2011-12-10", source: "generate-20240101T000000Z-0a1b2c" };

function resolve(given: Record<string, string>) {
  return resolveParams(job, FILE, { ...REQUIRED, ...given }).values;
}

function usageError(fn: () => unknown): SparkjobsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SparkjobsError);
    const error = e as SparkjobsError;
    expect(error.kind).toBe("usage");
    expect(error.exitCode).toBe(2);
    return error;
  }
  throw new Error("expected a usage error, got none");
}

describe("parseParamArgs", () => {
  test("splits name=value pairs; the value keeps any further '='", () => {
    expect(parseParamArgs(["k=4", "filter=a=b", "label="])).toEqual({ k: "4", filter: "a=b", label: "" });
  });

  test("no pairs, no params", () => {
    expect(parseParamArgs([])).toEqual({});
  });

  test.each(["k", "=4", ""])("rejects %j, which is not name=value", (pair) => {
    const error = usageError(() => parseParamArgs([pair]));
    expect(error.message).toBe(`--param ${JSON.stringify(pair)} is not name=value`);
    expect(error.fix).toBe("write it as --param name=value");
  });

  test("rejects a parameter given twice", () => {
    const error = usageError(() => parseParamArgs(["k=4", "k=5"]));
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: --param k is given twice
        fix: give each parameter once"
    `);
  });

  test("a parameter whose name is also an Object.prototype property is not 'given twice'", () => {
    // `name in out` looks up the prototype chain: constructor, toString, valueOf, ... are found
    // in every object. Such names are valid identifiers for a job parameter.
    expect(parseParamArgs(["constructor=1"])).toEqual({ constructor: "1" });
  });
});

describe("resolveParams", () => {
  test("fills defaults and types every value", () => {
    expect(resolve({})).toEqual({
      snapshot_date: { type: "date", value: "2011-12-10" },
      source: { type: "string", value: "generate-20240101T000000Z-0a1b2c" },
      k: { type: "int", value: 0 },
      max_unit_price: { type: "double", value: 10000 },
      dry_run: { type: "boolean", value: false },
      mode: { type: "string", value: "fast" },
      data: { type: "string", value: "data/online_retail.parquet" },
      label: { type: "string", value: "none" },
      country: { type: "string", value: "GB" },
    });
  });

  test("parses given values of every type", () => {
    const v = resolve({ k: "7", max_unit_price: "2.5e3", dry_run: "true", mode: "thorough", data: "s3://bucket/a b/x.parquet", label: "spring sale", country: "FR" });
    expect(v.k).toEqual({ type: "int", value: 7 });
    expect(v.max_unit_price).toEqual({ type: "double", value: 2500 });
    expect(v.dry_run).toEqual({ type: "boolean", value: true });
    expect(v.mode).toEqual({ type: "string", value: "thorough" });
    expect(v.data).toEqual({ type: "string", value: "s3://bucket/a b/x.parquet" });
    expect(v.label).toEqual({ type: "string", value: "spring sale" });
    expect(v.country).toEqual({ type: "string", value: "FR" });
  });

  test("min and max are inclusive", () => {
    expect(resolve({ k: "20" }).k).toEqual({ type: "int", value: 20 });
    expect(resolve({ max_unit_price: "0" }).max_unit_price).toEqual({ type: "double", value: 0 });
    expect(resolve({ max_unit_price: "1000000" }).max_unit_price).toEqual({ type: "double", value: 1e6 });
  });

  test("a leap day is a date, in a leap year only", () => {
    expect(resolve({ snapshot_date: "2024-02-29" }).snapshot_date).toEqual({ type: "date", value: "2024-02-29" });
    const error = usageError(() => resolve({ snapshot_date: "2023-02-29" }));
    expect(error.problems).toEqual([{ path: "--param snapshot_date", message: 'expected a date as YYYY-MM-DD, got "2023-02-29"' }]);
  });

  const rejections: [string, Record<string, string>, string][] = [
    ["int: not a whole number", { k: "2.5" }, "k"],
    ["int: text", { k: "four" }, "k"],
    ["int: above max", { k: "21" }, "k"],
    ["int: below min", { k: "-1" }, "k"],
    ["int: beyond 2^53", { k: "9007199254740993" }, "k"],
    ["double: text", { max_unit_price: "lots" }, "max_unit_price"],
    ["double: empty", { max_unit_price: " " }, "max_unit_price"],
    ["double: infinite", { max_unit_price: "Infinity" }, "max_unit_price"],
    ["double: below min", { max_unit_price: "-0.01" }, "max_unit_price"],
    ["boolean: yes", { dry_run: "yes" }, "dry_run"],
    ["boolean: TRUE", { dry_run: "TRUE" }, "dry_run"],
    ["enum: not a value", { mode: "slow" }, "mode"],
    ["date: February 30th", { snapshot_date: "2024-02-30" }, "snapshot_date"],
    ["date: month 13", { snapshot_date: "2024-13-01" }, "snapshot_date"],
    ["date: not zero-padded", { snapshot_date: "2024-1-5" }, "snapshot_date"],
    ["date: with a time", { snapshot_date: "2024-01-05T00:00:00Z" }, "snapshot_date"],
    ["date: with SQL", { snapshot_date: "2011-12-10'; DROP TABLE x; --" }, "snapshot_date"],
    ["runId: with a quote and SQL", { source: "x' OR '1'='1" }, "source"],
    ["runId: a path", { source: "../other" }, "source"],
    ["runId: 65 characters", { source: "a".repeat(65) }, "source"],
    ["path: empty", { data: "" }, "data"],
    ["path: a newline", { data: "a\nb" }, "data"],
    ["string: too long", { label: "x".repeat(41) }, "label"],
    ["string: a control character", { label: "a\u0007b" }, "label"],
    ["string: not matching the pattern", { country: "gb" }, "country"],
  ];

  test.each(rejections)("rejects %s", (_what, given, name) => {
    const error = usageError(() => resolve(given));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]?.path).toBe(`--param ${name}`);
    expect(formatError(error)).toContain(`  - --param ${name}: `);
  });

  test("the rejection messages say what was expected and what was given", () => {
    const messages = rejections.map(([what, given]) => {
      try {
        resolve(given);
        return `${what}: accepted`;
      } catch (e) {
        return `${what}: ${(e as SparkjobsError).problems.map((p) => p.message).join("; ")}`;
      }
    });
    expect(messages).toMatchInlineSnapshot(`
      [
        "int: not a whole number: expected a whole number, got "2.5"",
        "int: text: expected a whole number, got "four"",
        "int: above max: must be at most 20, got 21",
        "int: below min: must be at least 0, got -1",
        "int: beyond 2^53: expected a whole number, got "9007199254740993"",
        "double: text: expected a number, got "lots"",
        "double: empty: expected a number, got " "",
        "double: infinite: expected a number, got "Infinity"",
        "double: below min: must be at least 0, got -0.01",
        "boolean: yes: expected true or false, got "yes"",
        "boolean: TRUE: expected true or false, got "TRUE"",
        "enum: not a value: expected one of fast, thorough, got "slow"",
        "date: February 30th: expected a date as YYYY-MM-DD, got "2024-02-30"",
        "date: month 13: expected a date as YYYY-MM-DD, got "2024-13-01"",
        "date: not zero-padded: expected a date as YYYY-MM-DD, got "2024-1-5"",
        "date: with a time: expected a date as YYYY-MM-DD, got "2024-01-05T00:00:00Z"",
        "date: with SQL: expected a date as YYYY-MM-DD, got "2011-12-10'; DROP TABLE x; --"",
        "runId: with a quote and SQL: expected a run id (1-64 of A-Z a-z 0-9 . _ -), got "x' OR '1'='1"",
        "runId: a path: expected a run id (1-64 of A-Z a-z 0-9 . _ -), got "../other"",
        "runId: 65 characters: expected a run id (1-64 of A-Z a-z 0-9 . _ -), got "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"",
        "path: empty: expected a file path or URI, got """,
        "path: a newline: expected a file path or URI, got "a\\nb"",
        "string: too long: longer than 40 characters",
        "string: a control character: contains control characters",
        "string: not matching the pattern: must match ^[A-Z]{2}$, got "gb"",
      ]
    `);
  });

  test("the accepted edges of the rejected ranges", () => {
    expect(resolve({ source: "a".repeat(64) }).source).toEqual({ type: "string", value: "a".repeat(64) });
    expect(resolve({ label: "x".repeat(40) }).label).toEqual({ type: "string", value: "x".repeat(40) });
    expect(resolve({ k: "0" }).k).toEqual({ type: "int", value: 0 });
  });

  test("a date holding SQL: the message names --param and the fix", () => {
    const error = usageError(() => resolve({ snapshot_date: "2011-12-10'; DROP TABLE x; --" }));
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: parameters of job demo are not valid
        - --param snapshot_date: expected a date as YYYY-MM-DD, got "2011-12-10'; DROP TABLE x; --"
        fix: see the params of jobs/demo.yaml; values are bound by Spark as typed literals, never pasted into SQL"
    `);
  });

  test("a run id holding a quote: the message names --param and the fix", () => {
    const error = usageError(() => resolve({ source: "x' OR '1'='1" }));
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: parameters of job demo are not valid
        - --param source: expected a run id (1-64 of A-Z a-z 0-9 . _ -), got "x' OR '1'='1"
        fix: see the params of jobs/demo.yaml; values are bound by Spark as typed literals, never pasted into SQL"
    `);
  });

  test("a plain string param holding a quote and SQL is accepted unchanged (Spark binds it)", () => {
    const value = `O'Brien"; DROP TABLE x; -- \\ :k`;
    expect(resolve({ label: value }).label).toEqual({ type: "string", value });
  });

  test("rejects an unknown parameter, naming the known ones", () => {
    const error = usageError(() => resolve({ snapshot: "2024-01-01" }));
    expect(error.problems).toHaveLength(1);
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: parameters of job demo are not valid
        - --param snapshot: job demo has no parameter "snapshot" (it has: snapshot_date, source, k, max_unit_price, dry_run, mode, data, label, country)
        fix: see the params of jobs/demo.yaml; values are bound by Spark as typed literals, never pasted into SQL"
    `);
  });

  test("rejects a missing required parameter, saying how to pass it", () => {
    const error = usageError(() => resolveParams(job, FILE, { source: REQUIRED.source }));
    expect(formatError(error)).toMatchInlineSnapshot(`
      "error: parameters of job demo are not valid
        - --param snapshot_date: is required (end of the history): pass --param snapshot_date=...
        fix: see the params of jobs/demo.yaml; values are bound by Spark as typed literals, never pasted into SQL"
    `);
  });

  test("reports every problem at once", () => {
    const error = usageError(() => resolveParams(job, FILE, { k: "99", nope: "1", dry_run: "maybe" }));
    expect(error.problems.map((p) => p.path).sort()).toEqual(
      ["--param dry_run", "--param k", "--param nope", "--param snapshot_date", "--param source"].sort(),
    );
  });

  test("an unknown parameter whose name is an Object.prototype property is rejected too", () => {
    // `name in job.params` finds toString on the prototype, so the typo goes unnoticed.
    const error = usageError(() => resolve({ toString: "x" }));
    expect(error.problems.map((p) => p.path)).toEqual(["--param toString"]);
  });

  test("a job without params accepts none and rejects any", () => {
    const bare = jobDefinition.parse({ ...job, params: {} });
    expect(resolveParams(bare, FILE, {}).values).toEqual({});
    const error = usageError(() => resolveParams(bare, FILE, { k: "1" }));
    expect(error.problems).toEqual([{ path: "--param k", message: 'job demo has no parameter "k"' }]);
  });
});

describe("credentials never reach a plan", () => {
  test.each([
    "spark.hadoop.fs.s3a.secret.key=abc",
    "spark.hadoop.fs.s3a.access.key=AKIA",
    "spark.hadoop.fs.s3a.session.token=xyz",
    "spark.hadoop.javax.jdo.option.ConnectionPassword=pw",
    "spark.authenticate.secret=sharedsecret42",
    "spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:mysql://admin:pw@db:3306/metastore",
    "spark.hadoop.fs.s3a.endpoint=http://minio:minio123@localhost:9000",
  ])("--conf %s is refused, naming the setting and how to give credentials", (pair) => {
    try {
      parseConfArgs([pair]);
      expect.unreachable();
    } catch (e) {
      expect((e as SparkjobsError).kind).toBe("usage");
      expect((e as SparkjobsError).message).toContain(`--conf ${pair.split("=")[0]}`);
      expect((e as SparkjobsError).message).not.toContain(pair.slice(pair.indexOf("=") + 1));
      expect((e as SparkjobsError).fix).toContain("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
  });

  test.each([
    "spark.hadoop.fs.s3a.aws.credentials.provider=com.amazonaws.auth.InstanceProfileCredentialsProvider",
    "spark.hadoop.hadoop.security.credential.provider.path=jceks://hdfs/keys.jceks",
    "spark.yarn.security.tokens.hive.enabled=false",
    "spark.hadoop.fs.s3a.endpoint=http://localhost:9000",
    "spark.executor.memory=4g",
  ])("--conf %s is not a credential", (pair) => {
    expect(Object.keys(parseConfArgs([pair]))).toEqual([pair.split("=")[0]]);
  });

  test("an endpoint URL with a user and password is refused, for the SDK clients and for Spark's S3A settings", () => {
    const env = { AWS_ENDPOINT_URL_S3: "http://minio:minio123@localhost:9000" };
    expect(() => awsClientConfig("S3", env)).toThrow("AWS_ENDPOINT_URL_S3 has a user and password in it");
    expect(() => s3aConf(env)).toThrow("AWS_ENDPOINT_URL_S3 has a user and password in it");
    expect(s3aConf({ AWS_ENDPOINT_URL_S3: "http://localhost:9000" })["spark.hadoop.fs.s3a.endpoint"]).toBe("http://localhost:9000");
  });
});
