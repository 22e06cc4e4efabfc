/**
 * Bad input gets a clear error naming the file, the field or column and the fix, with a
 * documented exit code, before Spark starts wherever that is possible (no driver log is made).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, ensureOnlineRetailIngest, ONLINE_RETAIL_INGEST, python, repo } from "./helpers.js";

const onlineRetail = join(repo, "..", "shared", "datasets", "online_retail", "online_retail.parquet");

/** stderr with the temp folder replaced, so error texts can be snapshotted. */
const scrub = (text: string, dir: string) => text.split(dir).join("<tmp>").trim();

describe("bad job definitions (exit 3, before Spark)", () => {
  let jobsDir: string;
  const write = (name: string, text: string) => writeFileSync(join(jobsDir, `${name}.yaml`), text);
  const base = () => readFileSync(join(repo, "jobs", "customer-segmentation.yaml"), "utf8");

  beforeAll(() => {
    jobsDir = mkdtempSync(join(tmpdir(), "sparkjobs-jobs-"));
    cpSync(join(repo, "jobs", "spark-sql"), join(jobsDir, "spark-sql"), { recursive: true });
    cpSync(join(repo, "jobs", "mllib-configs"), join(jobsDir, "mllib-configs"), { recursive: true });
  });

  it("an unknown key", () => {
    write("unknown-key", base().replace("  - { kind: sql, name: transaction_counts, file: clean/transaction_counts.sql, metrics: clean_transactions }", "  - { kind: sql, name: transaction_counts, sqlfile: clean/transaction_counts.sql, metrics: clean_transactions }"));
    const r = cli(["plan", "unknown-key", "--jobs-dir", jobsDir]);
    expect(r.code).toBe(3);
    expect(scrub(r.stderr, jobsDir)).toMatchInlineSnapshot(`
      "error: job definition <tmp>/unknown-key.yaml is not valid (1 problem)
        - <tmp>/unknown-key.yaml:63: stages[1].sqlfile: unknown key "sqlfile": did you mean "file"?
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
  });

  it("a wrong type", () => {
    write("wrong-type", base().replace("version: 1", 'version: "one"'));
    const r = cli(["plan", "wrong-type", "--jobs-dir", jobsDir]);
    expect(r.code).toBe(3);
    expect(scrub(r.stderr, jobsDir)).toMatchInlineSnapshot(`
      "error: job definition <tmp>/wrong-type.yaml is not valid (1 problem)
        - <tmp>/wrong-type.yaml:2: version: Invalid input: expected number, received string
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
  });

  it("a missing SQL file", () => {
    write("missing-sql", base().replace("file: clean/transaction_counts.sql", "file: clean/transaction_count.sql"));
    const r = cli(["plan", "missing-sql", "--jobs-dir", jobsDir]);
    expect(r.code).toBe(3);
    expect(scrub(r.stderr, jobsDir)).toMatchInlineSnapshot(`
      "error: job definition <tmp>/missing-sql.yaml is not valid (1 problem)
        - <tmp>/missing-sql.yaml:63: stages[1].file: SQL file <tmp>/spark-sql/clean/transaction_count.sql does not exist (create it, or fix the path: it is relative to <tmp>/spark-sql)
        fix: correct the fields listed above; the reference is schemas/json/job-definition.schema.json"
    `);
  });
});

describe("bad inputs (exit 4, before Spark)", () => {
  let dir: string;
  let runRoot: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sparkjobs-bad-"));
    runRoot = join(dir, "root");
    execFileSync(python(), [join(repo, "fixtures", "make_bad_inputs.py"), onlineRetail, runRoot]);
  });

  // Each bad run looks complete: its manifest names a transactions output whose files are broken.
  const runWith = (source: string) => cli(["run", "customer-segmentation", "--param", `source=${source}`, "--run-id", `seg-${source}`], { root: runRoot });

  it("a missing column", () => {
    const r = runWith("bad-missing-column");
    expect(r.code).toBe(4);
    expect(scrub(r.stderr, dir)).toMatchInlineSnapshot(`
      "error: inputs of job customer-segmentation do not match their table schemas
        - <tmp>/root/runs/bad-missing-column/transactions/part-00000.parquet: customer_id: column is missing (input transactions must have the columns of table transactions: expected string)
        fix: fix the input data or point the job at the right files; the expected columns are in schemas/json/tables/"
    `);
    expect(existsSync(join(runRoot, "logs"))).toBe(false);
  });

  it("a wrong column type", () => {
    const r = runWith("bad-wrong-type");
    expect(r.code).toBe(4);
    expect(scrub(r.stderr, dir)).toMatchInlineSnapshot(`
      "error: inputs of job customer-segmentation do not match their table schemas
        - <tmp>/root/runs/bad-wrong-type/transactions/part-00000.parquet: quantity: column has type string, table transactions expects int
        fix: fix the input data or point the job at the right files; the expected columns are in schemas/json/tables/"
    `);
    expect(existsSync(join(runRoot, "logs"))).toBe(false);
  });

  it("no rows", () => {
    const r = runWith("bad-no-rows");
    expect(r.code).toBe(4);
    expect(scrub(r.stderr, dir)).toMatchInlineSnapshot(`
      "error: inputs of job customer-segmentation do not match their table schemas
        - <tmp>/root/runs/bad-no-rows/transactions: inputs.transactions: has no rows (1 file, all empty)
        fix: fix the input data or point the job at the right files; the expected columns are in schemas/json/tables/"
    `);
  });

  it("a file that is not Parquet", () => {
    const r = runWith("bad-not-parquet");
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("part-00000.parquet");
    expect(r.stderr).toContain("is not a readable Parquet file");
  });

  it("an output folder that is not there", () => {
    const r = runWith("bad-no-files");
    expect(r.code).toBe(4);
    expect(scrub(r.stderr, dir)).toMatchInlineSnapshot(`
      "error: inputs of job customer-segmentation do not match their table schemas
        - <tmp>/root/runs/bad-no-files/transactions: inputs.transactions: does not exist
        fix: fix the input data or point the job at the right files; the expected columns are in schemas/json/tables/"
    `);
  });

  it("a source run that does not exist", () => {
    const r = cli(["run", "customer-segmentation", "--param", "source=no-such-run"], { root: runRoot });
    expect(r.code).toBe(4);
    expect(scrub(r.stderr, dir)).toMatchInlineSnapshot(`
      "error: inputs of job customer-segmentation cannot be found
        - jobs/customer-segmentation.yaml: inputs.transactions: run no-such-run (--param source) is not complete: nothing at <tmp>/root/runs/no-such-run: the run has not written anything
        fix: run the job that makes them first (sparkjobs run ingest --param sources=<your source definition> --run-id <id>), or pass the id of a complete run"
    `);
  });

  it("--json failures print one JSON error object on stdout", () => {
    const r = cli(["run", "customer-segmentation", "--param", "source=bad-no-rows", "--json"], { root: runRoot });
    expect(r.code).toBe(4);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ status: "error", error: { kind: "input", exitCode: 4 } });
    expect(json.error.problems[0].file).toContain("bad-no-rows");
  });
});

describe("bad parameters (exit 2, before Spark)", () => {
  it("a date holding a quote and SQL", () => {
    const r = cli(["plan", "customer-segmentation", "--param", "source=x", "--param", "snapshot_date=2011-12-10'; DROP TABLE online_retail; --"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: parameters of job customer-segmentation are not valid
        - --param snapshot_date: expected a date as YYYY-MM-DD, got "2011-12-10'; DROP TABLE online_retail; --"
        fix: see the params of jobs/customer-segmentation.yaml; values are bound by Spark as typed literals, never pasted into SQL
      "
    `);
  });

  it("a run id holding a quote", () => {
    const r = cli(["plan", "customer-segmentation", "--param", "source=x' OR '1'='1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: parameters of job customer-segmentation are not valid
        - --param source: expected a run id (1-64 of A-Z a-z 0-9 . _ -), got "x' OR '1'='1"
        fix: see the params of jobs/customer-segmentation.yaml; values are bound by Spark as typed literals, never pasted into SQL
      "
    `);
  });

  it("a number holding SQL, and an unknown parameter", () => {
    const r = cli(["plan", "customer-segmentation", "--param", "source=x", "--param", "k=4 OR 1=1", "--param", "kk=4"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: parameters of job customer-segmentation are not valid
        - --param kk: job customer-segmentation has no parameter "kk" (it has: source, snapshot_date, k, features, names, max_quantity, max_unit_price)
        - --param k: expected a whole number, got "4 OR 1=1"
        fix: see the params of jobs/customer-segmentation.yaml; values are bound by Spark as typed literals, never pasted into SQL
      "
    `);
  });

  it("the SQL gets parameters as bound values: the plan carries no value in any SQL text", () => {
    ensureOnlineRetailIngest();
    const r = cli(["plan", "customer-segmentation", "--param", `source=${ONLINE_RETAIL_INGEST.runId}`, "--param", "snapshot_date=2011-12-09", "--run-id", "p1"]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.params.snapshot_date).toEqual({ type: "date", value: "2011-12-09" });
    for (const stage of plan.stages.filter((s: any) => s.kind === "sql")) expect(stage.sql).not.toContain("2011-12-09");
    expect(plan.stages.find((s: any) => s.name === "flagged_transactions").params).toEqual(["max_quantity", "max_unit_price", "snapshot_date"]);
  });
});

describe("usage errors", () => {
  it("an unknown job names the known ones (exit 2)", () => {
    const r = cli(["run", "segmentation"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: no job named "segmentation" in jobs
        fix: use one of: basket-rules, clv, customer-pca, customer-segmentation, generate, ingest, kpis, recommend, response, score, score-uplift, target, uplift (sparkjobs list)
      "
    `);
  });
  it("an unknown option (exit 2)", () => {
    const r = cli(["run", "generate", "--parm", "x=1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--parm'");
  });
});
