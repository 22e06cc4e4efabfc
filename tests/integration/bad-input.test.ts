/**
 * Bad input gets a clear error naming the file, the field or column and the fix, with a
 * documented exit code, before Spark starts wherever that is possible (no driver log is made).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli as runCli, ensureOnlineRetailIngest, ONLINE_RETAIL_INGEST, python, repo, type CliResult } from "./helpers.js";

/** Every case of this file: its name, the exit code and the first line of the message, printed as a table at the end. */
const cases: { name: string; code: number; first: string; stackTrace: boolean }[] = [];
function cli(args: string[], options: Parameters<typeof runCli>[1] = {}): CliResult {
  const r = runCli(args, options);
  const name = (expect.getState().currentTestName ?? args.join(" ")).split(" > ").slice(-1)[0]!;
  cases.push({ name, code: r.code, first: r.stderr.split("\n").find((l) => l.startsWith("error:")) ?? r.stderr.split("\n")[0] ?? "", stackTrace: /\n\s+at .+:\d+:\d+\)?\n/.test(r.stderr) });
  return r;
}

afterAll(() => {
  const width = Math.max(...cases.map((c) => c.name.length));
  console.log(["bad input: case, exit code, first line of the message", ...cases.map((c) => `${c.name.padEnd(width)}  ${String(c.code).padStart(3)}  ${c.first.slice(0, 150)}`)].join("\n"));
  // No user mistake ends as "a bug" (exit 1) or with a stack trace.
  expect(cases.filter((c) => c.code === 1 || c.stackTrace).map((c) => c.name)).toEqual([]);
});

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
        - <tmp>/unknown-key.yaml:69: stages[1].sqlfile: unknown key "sqlfile": did you mean "file"?
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
        - <tmp>/missing-sql.yaml:69: stages[1].file: SQL file <tmp>/spark-sql/clean/transaction_count.sql does not exist (create it, or fix the path: it is relative to <tmp>/spark-sql)
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
        - --param kk: job customer-segmentation has no parameter "kk" (it has: source, snapshot_date, k, features, names, max_quantity, max_unit_price, max_share_shift)
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

describe("careless and hostile input, before anything is read, written or started", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sparkjobs-hostile-"));
    writeFileSync(join(dir, "a-file"), "not a folder");
    // A job folder with a definition whose aliases expand a billion-fold, and one of 300 KiB.
    const laughs = ["a: &a [x, x, x, x, x, x, x, x, x]", ...["b", "c", "d", "e", "f", "g"].map((n, i) => `${n}: &${n} [${Array(9).fill(`*${"abcdefg"[i]}`).join(", ")}]`)];
    writeFileSync(join(dir, "laughs.yaml"), `${laughs.join("\n")}\n`);
    writeFileSync(join(dir, "huge.yaml"), `name: huge\ndescription: "${"x".repeat(300 * 1024)}"\n`);
    // A run folder whose manifest lists a file outside it, and one whose data file is not Parquet.
    for (const [run, path] of [["escape", "../../../../../../../../etc/passwd"], ["garbled", "part-0.parquet"]] as const) {
      const runDir = join(dir, "root", "runs", run);
      mkdirSync(join(runDir, "segment_map"), { recursive: true });
      writeFileSync(join(runDir, "segment_map", "part-0.parquet"), "PAR1".padEnd(64, "x"));
      writeFileSync(join(runDir, "_manifest.json"), JSON.stringify({
        manifestVersion: 1, runId: run, job: { name: "customer-pca", version: 1 }, planSha256: "0".repeat(64), status: "succeeded",
        engine: { sparkVersion: "3.5.5", master: "local", applicationId: "a" }, startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:00:01Z", durationMs: 1,
        outputs: { segment_map: { uri: join(runDir, "segment_map"), table: "segment_map", rows: 1, files: [{ path, bytes: 64 }], columns: [] } }, metrics: {}, stages: [],
      }));
    }
  });

  it.each([
    ["--run-id with a path", 2, ["plan", "generate", "--run-id", "../../../x"], 'error: --run-id "../../../x" contains a path separator'],
    ["--run-id empty", 2, ["plan", "generate", "--run-id", ""], 'error: --run-id "" is empty'],
    ["--run-id of 65 characters", 2, ["plan", "generate", "--run-id", "r".repeat(65)], "is 65 characters long"],
    ["--run-id with a space", 2, ["plan", "generate", "--run-id", "a b"], 'error: --run-id "a b" is not a run id'],
    ["--run-id with a non-ASCII letter", 2, ["plan", "generate", "--run-id", "café"], 'error: --run-id "café" is not a run id'],
    ["validate of a path-like run", 2, ["validate", "..%2f..%2fetc"], "is not a run id"],
    ["--root s3://", 2, ["plan", "generate", "--root", "s3://"], 'error: --root "s3://" names no bucket'],
    ["--root s3:/x", 2, ["plan", "generate", "--root", "s3:/x"], 'error: --root "s3:/x" is not an S3 URI'],
    ["--root with a bucket S3 refuses", 2, ["plan", "generate", "--root", "s3://Bad_Bucket!/x"], 'the bucket name "Bad_Bucket!"'],
    ["--root gs://", 2, ["plan", "generate", "--root", "gs://bucket/x"], "gs:// is not a storage sparkjobs can use"],
    ["--root abfs://", 2, ["plan", "generate", "--root", "abfs://c@account.dfs.core.windows.net/x"], "abfs:// is not a storage sparkjobs can use"],
    ["--root hdfs:// without a folder", 2, ["plan", "generate", "--root", "hdfs://nn:8020"], 'error: --root "hdfs://nn:8020" names no folder'],
    ["a source definition on gs://", 2, ["plan", "ingest", "--param", "sources=gs://bucket/shop.yaml"], "a source definition is read from a local file"],
    ["a job name that is a path", 2, ["plan", "../../other/evil-job"], "error:"],
    ["--conf with a secret key", 2, ["plan", "generate", "-c", "spark.hadoop.fs.s3a.secret.key=abc123"], "--conf spark.hadoop.fs.s3a.secret.key=... holds a credential"],
    ["--conf with a password in a URL", 2, ["plan", "generate", "-c", "spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:mysql://u:pw@db/m"], "has a user and password in its URL"],
    ["--region that is not one", 2, ["plan", "generate", "--region", "mars-1"], 'error: --region "mars-1" is not an AWS region'],
  ])("%s: exit %i", (_name, code, args, message) => {
    const r = cli(args as string[]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain("fix:");
  });

  it("a root that is a file: exit 9 naming it", () => {
    const r = cli(["stage", "generate", "--root", join(dir, "a-file")]);
    expect(r.code, r.stderr).toBe(9);
    expect(r.stderr).toContain(`${join(dir, "a-file")} is a file, not a folder`);
  });

  it("an endpoint URL with credentials in it: exit 2, the secret never printed", () => {
    const r = cli(["plan", "generate", "--root", "s3://sparkjobs-x/r"], { env: { AWS_ENDPOINT_URL_S3: "http://minio:supersecret@127.0.0.1:9" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("AWS_ENDPOINT_URL_S3 has a user and password in it");
    expect(r.stderr + r.stdout).not.toContain("supersecret");
  });

  it("definitions that expand a billion-fold or run to 300 KiB: exit 3, refused quickly", () => {
    const started = Date.now();
    for (const name of ["laughs", "huge"]) {
      const r = cli(["plan", name, "--jobs-dir", dir]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(name === "laughs" ? "its aliases (*name) expand too far" : "a definition may have at most 256 KiB");
    }
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a manifest listing a file outside its run is not read (exit 8); a garbled data file is an output error naming it (exit 6)", () => {
    const escape = cli(["validate", "escape", "--root", join(dir, "root")]);
    expect(escape.code, escape.stderr).toBe(8);
    expect(escape.stderr).toContain("lists files outside the run folder");
    const garbled = cli(["validate", "garbled", "--root", join(dir, "root")]);
    expect(garbled.code, garbled.stderr).toBe(6);
    expect(garbled.stderr).toContain(`${join(dir, "root", "runs", "garbled", "segment_map", "part-0.parquet")}: is not a readable Parquet file`);
  });
});
