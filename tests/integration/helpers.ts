/**
 * Running the real CLI as a user would, and reading what it wrote.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { readSmallTable } from "../../submitter/src/results/parquet.js";
import { LocalStorage, RoutedStorage, type Storage } from "../../submitter/src/stage/storage.js";
import { WebHdfsStorage } from "../../submitter/src/stage/webhdfs.js";
import { S3Storage, s3ClientFromEnv } from "../../submitter/src/stage/s3.js";

export const repo = join(import.meta.dirname, "..", "..");
export const cliPath = join(repo, "dist", "submitter", "src", "cli.js");
export const root = () => inject("root");
export const venv = () => inject("venv");
export const python = () => join(venv(), "bin", "python");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

let calls = 0;
/**
 * The environment of one CLI call: the test root, and a history series of its own unless the test
 * names one, so that drift gates compare only the runs a test means to compare (runs on different
 * data sets share the root).
 */
function cliEnv(options: { root?: string; env?: NodeJS.ProcessEnv }): NodeJS.ProcessEnv {
  return { ...process.env, SPARKJOBS_ROOT: options.root ?? root(), SPARKJOBS_SERIES: `it-${process.pid}-${++calls}`, ...options.env };
}

/**
 * The shared runs (it-pm.*, it-retail.*, below) are made under one lock across the test
 * processes (two integration files run at once, vitest.config.ts): a file that needs a shared run
 * another file is making waits for it, then reuses it, instead of meeting the run's own lock.
 */
const SHARED_RUN = /^it-(pm|retail)(\.|$)/;
let fixtureDepth = 0;
export function withFixtureLock<T>(make: () => T): T {
  if (fixtureDepth > 0) return make();
  const lock = join(root(), ".test-locks", "fixtures");
  mkdirSync(join(root(), ".test-locks"), { recursive: true });
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      // A holder that died leaves its lock behind: taken over once its process is gone.
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lock, "pid"), "utf8"));
      } catch {
        /* being written or removed */
      }
      if (staleLock(lock, holder)) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(pause, 0, 0, 500);
    }
  }
  fixtureDepth++;
  try {
    return make();
  } finally {
    fixtureDepth--;
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A lock whose holder's process is gone, or one without a holder for over 10 s (its maker died writing it). */
function staleLock(lock: string, holder: number): boolean {
  if (holder > 0) return !alive(holder);
  try {
    return Date.now() - statSync(lock).mtimeMs > 10_000;
  } catch {
    return false;
  }
}

/**
 * The Hadoop mini cluster is shared by the files whose runs are YARN applications (targets, emr,
 * yarn, airflow, step-functions): their applications may run side by side (YARN queues what does
 * not fit), so they hold it "shared". A test that kills a NodeManager holds it "exclusive": it
 * waits until no other process holds it, and no new holder comes in meanwhile. A process must not
 * hold it shared while it waits for it exclusively (two such processes would wait on each other).
 * A holder's process that is gone gives it back. Returns the release.
 */
export async function holdMiniCluster(mode: "shared" | "exclusive" = "shared"): Promise<() => void> {
  const locks = join(root(), ".test-locks");
  const exclusive = join(locks, "mini-cluster-exclusive");
  const shared = join(locks, "mini-cluster-shared");
  mkdirSync(shared, { recursive: true });
  const pause = () => new Promise((r) => setTimeout(r, 1000));
  const holderOf = (dir: string) => {
    try {
      return Number(readFileSync(join(dir, "pid"), "utf8"));
    } catch {
      return 0;
    }
  };
  /** Another process holds it exclusively (a stale exclusive lock is removed). */
  const excluded = () => {
    if (!existsSync(exclusive)) return false;
    const holder = holderOf(exclusive);
    if (holder === process.pid) return false;
    if (staleLock(exclusive, holder)) {
      rmSync(exclusive, { recursive: true, force: true });
      return false;
    }
    return true;
  };
  if (mode === "exclusive" && readdirSync(shared).some((f) => Number(f.split("-")[0]) === process.pid)) {
    throw new Error("this process holds the mini cluster shared: give that back before holding it alone");
  }
  if (mode === "shared") {
    const mine = join(shared, `${process.pid}-${++sharedHolds}`);
    for (;;) {
      if (excluded()) {
        await pause();
        continue;
      }
      writeFileSync(mine, String(process.pid));
      // An exclusive holder that came in between: let it go first.
      if (!excluded()) return () => rmSync(mine, { force: true });
      rmSync(mine, { force: true });
      await pause();
    }
  }
  for (;;) {
    try {
      mkdirSync(exclusive);
      writeFileSync(join(exclusive, "pid"), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (!excluded()) continue;
      await pause();
    }
  }
  // Wait for the other processes' shared holds to end.
  for (;;) {
    const others = readdirSync(shared).filter((f) => {
      const pid = Number(f.split("-")[0]);
      if (!alive(pid)) {
        rmSync(join(shared, f), { force: true });
        return false;
      }
      return true;
    });
    if (others.length === 0) return () => rmSync(exclusive, { recursive: true, force: true });
    await pause();
  }
}
let sharedHolds = 0;

/** body() while holding the mini cluster (see holdMiniCluster). */
export async function onMiniCluster<T>(mode: "shared" | "exclusive", body: () => Promise<T>): Promise<T> {
  const release = await holdMiniCluster(mode);
  try {
    return await body();
  } finally {
    release();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function cli(args: string[], options: { root?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliResult {
  const runId = args.includes("--run-id") ? args[args.indexOf("--run-id") + 1] : undefined;
  if (!options.root && runId && SHARED_RUN.test(runId)) return withFixtureLock(() => cliUnlocked(args, options));
  return cliUnlocked(args, options);
}

function cliUnlocked(args: string[], options: { root?: string; env?: NodeJS.ProcessEnv; cwd?: string }): CliResult {
  const started = Date.now();
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? repo,
    env: cliEnv(options),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

export function cliJson<T = Record<string, unknown>>(args: string[], options: Parameters<typeof cli>[1] = {}): { result: CliResult; json: T } {
  const result = cli([...args, "--json"], options);
  let json: T;
  try {
    json = JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON object (exit ${result.code}):\n${result.stdout}\n--- stderr ---\n${result.stderr.slice(-3000)}`);
  }
  return { result, json };
}

/**
 * The CLI without blocking this process: needed when this process also serves the CLI (the
 * loopback EMR and EMR Serverless servers run inside the test process).
 */
export function cliAsync(args: string[], options: { root?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {}): Promise<CliResult> {
  const started = Date.now();
  const child = startCli(args, options);
  let stdout = "";
  let stderr = "";
  let seen = 0;
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    // Each complete line of stderr, as it comes: a test may act on the run's progress.
    const end = stderr.lastIndexOf("\n");
    if (options.onLine && end >= seen) {
      for (const line of stderr.slice(seen, end).split("\n")) options.onLine(line);
      seen = end + 1;
    }
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/** Starts the CLI without waiting, for tests that interrupt it. */
export function startCli(args: string[], options: { root?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, [cliPath, ...args], {
    cwd: repo,
    env: cliEnv(options),
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/**
 * The shared runs carry the run ids the precision-marketing pipeline gives its steps for the
 * pipeline run id PIPELINE (with customers=3000, seed=7, budget=TARGET_BUDGET and every other parameter at its default):
 * whichever runs first, a test or the pipeline, the other reuses it.
 */
export const PIPELINE = "it-pm";
export const GEN = { customers: 3000, seed: 7, runId: `${PIPELINE}.generate` };
/** The budget of the pipeline's two target steps: about a third of the customers by push, so whom to contact matters. */
export const TARGET_BUDGET = 50;

/**
 * The precision-marketing pipeline on the shared data set, run as pipeline.test.ts runs it: its
 * steps are the runs every other test file shares (it-pm.generate, it-pm.segments, ...). The first
 * test that needs one of them runs the whole pipeline, in one Spark application; after that every
 * step is reused.
 */
export const PRECISION_MARKETING = ["pipeline", "precision-marketing", "--param", `customers=${GEN.customers}`, "--param", `seed=${GEN.seed}`, "--param", `budget=${TARGET_BUDGET}`, "--run-id", PIPELINE];
let precisionMarketingDone = false;
function ensurePrecisionMarketing(): void {
  if (precisionMarketingDone) return;
  const r = cli(PRECISION_MARKETING);
  if (r.code !== 0) throw new Error(`the precision-marketing pipeline failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
  precisionMarketingDone = true;
}

/** The generated data set all integration tests share; generated once (with the other shared runs), then reused by run id. */
export function ensureGenerated(): CliResult {
  ensurePrecisionMarketing();
  const r = cli(["run", "generate", "--param", `customers=${GEN.customers}`, "--param", `seed=${GEN.seed}`, "--run-id", GEN.runId, "--json"]);
  if (r.code !== 0) throw new Error(`generate failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
  return r;
}

/** The segmentation run on the shared data set; run once, reused by id by every test file. */
export const SEG = { runId: `${PIPELINE}.segments`, args: ["run", "customer-segmentation", "--param", `source=${GEN.runId}`] };

/** Runs a shared step (or reuses its complete run with the same id); its failure fails the caller. */
function ensureRun(step: { runId: string; args: string[] }): { result: CliResult; json: any } {
  const run = cliJson([...step.args, "--run-id", step.runId]);
  if (run.result.code !== 0) throw new Error(`${step.args[1]} failed (exit ${run.result.code}):\n${run.result.stderr.slice(-4000)}`);
  return run;
}

export function ensureSegmentation(): { result: CliResult; json: any } {
  ensureGenerated();
  return ensureRun(SEG);
}

/** The response run on the shared segmentation (GBT + logistic regression); run once, reused by id. */
export const RESPONSE = { runId: `${PIPELINE}.response`, args: ["run", "response", "--param", `source=${GEN.runId}`, "--param", `segments=${SEG.runId}`] };

export function ensureResponse(): { result: CliResult; json: any } {
  ensureSegmentation();
  return ensureRun(RESPONSE);
}

/** Every offer scored with the response run's GBT model; run once, reused by id. */
export const SCORE = { runId: `${PIPELINE}.score`, args: ["run", "score", "--param", `model_run=${RESPONSE.runId}`, "--param", `source=${GEN.runId}`, "--param", `segments=${SEG.runId}`] };

export function ensureScore(): { result: CliResult; json: any } {
  ensureResponse();
  return ensureRun(SCORE);
}

/** The two-model uplift run on the shared segmentation; run once, reused by id. */
export const UPLIFT = { runId: `${PIPELINE}.uplift`, args: ["run", "uplift", "--param", `source=${GEN.runId}`, "--param", `segments=${SEG.runId}`] };

/** Every offer scored with the uplift run's two models; run once, reused by id. */
export const SCORE_UPLIFT = {
  runId: `${PIPELINE}.score_uplift`,
  args: ["run", "score-uplift", "--param", `model_run=${UPLIFT.runId}`, "--param", `source=${GEN.runId}`, "--param", `segments=${SEG.runId}`],
};

export function ensureScoreUplift(): { result: CliResult; json: any } {
  ensureSegmentation();
  ensureRun(UPLIFT);
  return ensureRun(SCORE_UPLIFT);
}

/** The UCI Online Retail data set beside the repository, its source definition, its ingest run and the k=4 segmentation of it. */
export const ONLINE_RETAIL_DIR = join(repo, "..", "shared", "datasets", "online_retail");
export const ONLINE_RETAIL_SOURCES = join(repo, "sources", "online-retail.yaml");
/**
 * The shipped retail-analytics pipeline on it (k=4; a wholesaler's data: lines of up to 10,000 units
 * are real orders, not outliers, where the default limit is 500). Its steps' runs are the ones below
 * (step s of pipeline p is run p.s): whichever test makes one first, the others reuse it.
 */
export const ONLINE_RETAIL_PIPELINE = {
  runId: "it-retail",
  args: ["pipeline", "retail-analytics", "--param", `sources=${ONLINE_RETAIL_SOURCES}`, "--param", "k=4", "--param", "max_quantity=10000"],
};
export const ONLINE_RETAIL_INGEST = { runId: "it-retail.ingest", args: ["run", "ingest", "--param", `sources=${ONLINE_RETAIL_SOURCES}`] };
export const ONLINE_RETAIL = {
  runId: "it-retail.segments",
  args: ["run", "customer-segmentation", "--param", `source=${ONLINE_RETAIL_INGEST.runId}`, "--param", "k=4", "--param", "max_quantity=10000"],
};

let onlineRetailDone = false;
/** The retail-analytics pipeline on UCI Online Retail, once, in one Spark application (its last step's gate may stop it: exit 7). */
function ensureRetailAnalytics(): void {
  if (onlineRetailDone) return;
  const r = cli([...ONLINE_RETAIL_PIPELINE.args, "--run-id", ONLINE_RETAIL_PIPELINE.runId]);
  if (r.code !== 0 && r.code !== 7) throw new Error(`the retail-analytics pipeline failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
  onlineRetailDone = true;
}

export function ensureOnlineRetailIngest(): { result: CliResult; json: any } {
  ensureRetailAnalytics();
  return ensureRun(ONLINE_RETAIL_INGEST);
}

export function ensureOnlineRetail(): { result: CliResult; json: any } {
  ensureOnlineRetailIngest();
  return ensureRun(ONLINE_RETAIL);
}

/** Storage for local paths, for s3:// on the S3 server whose environment is given, and for hdfs:// on the mini cluster. */
export function storageFor(s3Env: Record<string, string> = {}): Storage {
  return new RoutedStorage(
    new LocalStorage(),
    () => new S3Storage(s3ClientFromEnv({ ...process.env, ...s3Env })),
    () => new WebHdfsStorage({ env: { ...process.env, ...hadoopEnv() } }),
  );
}

/** The mini cluster's NodeManagers now (one that was killed has been replaced by another, on new ports). */
export function currentNodeManagers(): { pid: number; nodeId: string }[] {
  return JSON.parse(readFileSync(join(inject("hadoop").dir, "cluster.json"), "utf8")).nodeManagers;
}

/** The Spark settings of test runs on clusters (tests/spark-conf/spark-defaults.conf), as SPARK_CONF_DIR. */
export const clusterSparkConf = (): Record<string, string> => ({ SPARK_CONF_DIR: join(repo, "tests", "spark-conf") });

/** The environment that points the CLI at the Hadoop mini cluster (HADOOP_CONF_DIR), with the test runs' Spark settings. */
export function hadoopEnv(): Record<string, string> {
  return { HADOOP_CONF_DIR: inject("hadoop").conf, ...clusterSparkConf() };
}

/** Every row of every Parquet file of an output folder listed in a manifest entry. */
export async function readOutput(output: { uri: string; files: { path: string }[] }, storage: Storage = storageFor()): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  // One row at a time: spreading a file of hundreds of thousands of rows into push() overflows the stack.
  for (const f of output.files) for (const row of await readSmallTable(storage, `${output.uri}/${f.path}`, 2_000_000)) rows.push(row);
  return rows;
}

/** Adjusted Rand index, computed here independently of the runner's implementation. */
export function adjustedRandIndex(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  if (a.length !== b.length) throw new Error("label arrays differ in length");
  const pairs = (n: number) => (n * (n - 1)) / 2;
  const table = new Map<string, number>();
  const rows = new Map<string, number>();
  const cols = new Map<string, number>();
  for (let i = 0; i < a.length; i++) {
    const x = String(a[i]);
    const y = String(b[i]);
    table.set(`${x}\u0000${y}`, (table.get(`${x}\u0000${y}`) ?? 0) + 1);
    rows.set(x, (rows.get(x) ?? 0) + 1);
    cols.set(y, (cols.get(y) ?? 0) + 1);
  }
  const index = [...table.values()].reduce((s, n) => s + pairs(n), 0);
  const sumRows = [...rows.values()].reduce((s, n) => s + pairs(n), 0);
  const sumCols = [...cols.values()].reduce((s, n) => s + pairs(n), 0);
  const expected = (sumRows * sumCols) / pairs(a.length);
  const max = (sumRows + sumCols) / 2;
  return (index - expected) / (max - expected);
}

export function manifestOf(runRoot: string, runId: string) {
  return import("node:fs").then((fs) => JSON.parse(fs.readFileSync(join(runRoot, "runs", runId, "_manifest.json"), "utf8")));
}

/**
 * A jobs folder of one-stage SQL jobs on a products table at `productsUri` (each writes its
 * result as the output "catalogue", of the products schema): name -> the stage's SQL.
 */
export function writeProductJobs(productsUri: string, where: string, jobs: Record<string, string>, sparkConf: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "sparkjobs-jobs-"));
  mkdirSync(join(dir, "spark-sql"));
  for (const [name, sql] of Object.entries(jobs)) {
    writeFileSync(join(dir, "spark-sql", `${name}.sql`), `${sql}\n`);
    writeFileSync(
      join(dir, `${name}.yaml`),
      `name: ${name}
version: 1
description: products in ${where}, read on the cluster
inputs:
  products: { uri: "${productsUri}", schema: products }
stages:
  - { kind: sql, name: catalogue, file: ${name}.sql }
outputs:
  catalogue: { from: catalogue, schema: products, files: 1 }
${Object.keys(sparkConf).length ? `sparkConf:\n${Object.entries(sparkConf).map(([k, v]) => `  ${k}: "${v}"`).join("\n")}\n` : ""}`,
    );
  }
  return dir;
}

/**
 * A complete run copied from one root to another (local, HDFS, S3) with the outputs named (all of
 * them if none are), as a team moves a run between stores: the data files first, then the
 * manifest, its URIs rewritten.
 */
export async function copyRun(runId: string, toRoot: string, outputs?: string[], storage: Storage = storageFor(), fromRoot: string = root()): Promise<void> {
  const text = await storage.readText(`${fromRoot}/runs/${runId}/_manifest.json`);
  if (text === undefined) throw new Error(`run ${runId} has no manifest under ${fromRoot}`);
  const manifest = JSON.parse(text);
  const kept: Record<string, any> = {};
  for (const name of outputs ?? Object.keys(manifest.outputs)) {
    const output = manifest.outputs[name];
    if (!output) throw new Error(`run ${runId} has no output ${name}`);
    const uri = `${toRoot}/runs/${runId}/${name}`;
    for (const f of output.files) {
      const bytes = await storage.readBytes(`${output.uri}/${f.path}`);
      if (bytes === undefined) throw new Error(`${output.uri}/${f.path} of run ${runId} is missing`);
      await storage.put(`${uri}/${f.path}`, bytes);
    }
    kept[name] = { ...output, uri };
  }
  await storage.put(`${toRoot}/runs/${runId}/_manifest.json`, JSON.stringify({ ...manifest, outputs: kept }, null, 2));
}
