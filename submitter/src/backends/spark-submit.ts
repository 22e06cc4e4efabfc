/**
 * Backends that run spark-submit of the pinned Spark here, as a child process, in client mode:
 * `local` (master local[*]) and `standalone` (master spark://host:port; Python applications on a
 * standalone cluster run their driver on the submitting machine). The driver's output (the JVM's
 * and, through it, the Python runner's) goes to <logDir>/<run-id>/driver.log.
 *
 * s3:// URIs are read and written by Hadoop's S3A (the plan's sparkConf maps s3:// and s3n:// to
 * it), with the hadoop-aws jars of scripts/pins.txt on the driver's and executors' class path.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CREDENTIALS_FIX, URL_WITH_PASSWORD } from "../config/params.js";
import type { RunPlan } from "../../../schemas/src/index.js";
import { SparkjobsError } from "../errors.js";
import { classArchiveOption } from "../env/class-archive.js";
import { pythonPath, s3aJars, sparkSubmitPath } from "../env/where.js";
import { runnerArgs, type Staged } from "../stage/stage.js";
import { isS3, toLocalPath } from "../stage/storage.js";
import { runnerFailureFrom, type Backend, type RunStatus, type Submission } from "./types.js";

export interface SparkSubmitBackendOptions {
  /** Shown in output: "local" or "standalone". */
  target: string;
  /** Local folder for driver logs (<logDir>/<run-id>/driver.log). */
  logDir: string;
  master: string;
  driverMemory?: string;
  /**
   * Spark SQL's warehouse folder (spark.sql.warehouse.dir) unless conf gives one: Spark creates it
   * when its catalog starts, by default in the working directory, outside the root.
   */
  warehouseDir?: string;
  /** Settings for this engine, merged into every plan (under the job's own). */
  conf?: Record<string, string>;
  /** Also put the S3A jars on the executors' class path (workers that share this machine's cache). */
  executorS3aJars?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Called with each line the runner logs (stderr lines starting with [runner]). */
  onLog?: (line: string) => void;
}

interface Child {
  process: ChildProcess;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  log: string;
}

/** The spark-submit arguments after the program name: an array, never a joined string. */
export function sparkSubmitArgs(plan: RunPlan, staged: Staged, master: string, driverMemory: string, classPath: string[] = [], executorClassPath = false): string[] {
  const args = ["--master", master, "--name", `sparkjobs-${plan.job.name}-${plan.runId}`, "--driver-memory", driverMemory];
  // Spark resolves s3:// resources before it loads --jars, so S3A goes on the launcher's class path.
  if (classPath.length) args.push("--driver-class-path", classPath.join(":"));
  if (classPath.length && executorClassPath) args.push("--conf", `spark.executor.extraClassPath=${classPath.join(":")}`);
  for (const [k, v] of Object.entries(plan.sparkConf)) args.push("--conf", `${k}=${v}`);
  // The driver's stderr is read here as it comes: the runner reports progress on it (report/progress.ts).
  args.push("--py-files", toLocalPath(staged.pyFilesUri), toLocalPath(staged.runnerUri), ...runnerArgs({ ...staged, planUri: toLocalPath(staged.planUri) }), "--progress-seconds", "2");
  return args;
}

/**
 * Hadoop settings for S3 through S3A: s3:// and s3n:// use S3A too, the endpoint comes from
 * AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) like the submitter's own S3 client, and credentials
 * come from S3A's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment of the
 * driver and of each worker, or the instance role), never from the plan.
 */
export function s3aConf(env: NodeJS.ProcessEnv): Record<string, string> {
  const conf: Record<string, string> = {
    "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
    "spark.hadoop.fs.s3n.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
  };
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (endpoint && URL_WITH_PASSWORD.test(endpoint)) {
    throw new SparkjobsError("usage", `${env.AWS_ENDPOINT_URL_S3 !== undefined ? "AWS_ENDPOINT_URL_S3" : "AWS_ENDPOINT_URL"} has a user and password in it: the endpoint goes into the Spark settings of plans (staged, printed, passed to EMR)`, { fix: CREDENTIALS_FIX });
  }
  if (endpoint) {
    conf["spark.hadoop.fs.s3a.endpoint"] = endpoint;
    conf["spark.hadoop.fs.s3a.path.style.access"] = "true";
    conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = String(endpoint.startsWith("https:"));
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region) conf["spark.hadoop.fs.s3a.endpoint.region"] = region;
  return conf;
}

function touchesS3(plan: RunPlan, staged: Staged): boolean {
  return [plan.runUri, staged.planUri, staged.runnerUri, ...plan.inputs.map((i) => i.uri)].some(isS3);
}

export class SparkSubmitBackend implements Backend {
  readonly target: string;
  private readonly children = new Map<string, Child>();
  private readonly master: string;
  private readonly driverMemory: string;
  /** Asking a child process whether it ended is free: a run's end is seen within 250 ms, not up to 15 s later. */
  readonly maxPollDelayMs = 250;

  constructor(private readonly options: SparkSubmitBackendOptions) {
    this.target = options.target;
    this.master = options.master;
    this.driverMemory = options.driverMemory ?? "2g";
  }

  sparkConf(): Record<string, string> {
    return {
      "spark.ui.enabled": "false",
      // With the UI off, the description of each query's plan that Spark builds for its listeners
      // (again at every adaptive re-plan) is read by nobody, and the default "formatted" one is
      // dear: a sixth of the driver JVM's CPU samples in a segmentation of 800 customers (Java
      // Flight Recorder). The short one costs a small part of that.
      "spark.sql.ui.explainMode": "simple",
      "spark.driver.extraJavaOptions": "-Dlog4j2.level=warn",
      ...(this.options.warehouseDir ? { "spark.sql.warehouse.dir": this.options.warehouseDir } : {}),
      ...s3aConf(this.options.env ?? process.env),
      ...this.options.conf,
    };
  }

  async submit(plan: RunPlan, staged: Staged): Promise<Submission> {
    const env = this.options.env ?? process.env;
    const sparkSubmit = sparkSubmitPath(env);
    if (!existsSync(sparkSubmit)) {
      throw new SparkjobsError("environment", `spark-submit was not found at ${sparkSubmit}`, {
        fix: "run `bash scripts/bootstrap.sh` (npm start does it) to install the pinned pyspark, or set SPARKJOBS_SPARK_SUBMIT",
      });
    }
    let classPath: string[] = [];
    if (touchesS3(plan, staged)) {
      classPath = s3aJars(env);
      const missing = classPath.filter((j) => !existsSync(j));
      if (missing.length) {
        throw new SparkjobsError("environment", `reading s3:// on a ${this.target} Spark needs the S3A jars; missing: ${missing.join(", ")}`, {
          fix: "run `bash scripts/bootstrap.sh --with-s3` to download them (checked against scripts/pins.txt), or set SPARKJOBS_S3A_JARS",
        });
      }
    }
    const logDir = join(this.options.logDir, plan.runId);
    mkdirSync(logDir, { recursive: true });
    const logFile = join(logDir, "driver.log");
    const logStream = createWriteStream(logFile);
    // A driver log that cannot be written (a full disk) is said once; the log is still kept in memory for errors.
    logStream.on("error", (e: NodeJS.ErrnoException) => this.options.onLog?.(`[sparkjobs] warning: the driver log ${logFile} cannot be written (${e.code ?? e.message}); its last lines are kept for errors`));
    // A run with Python packages runs its built environment (stage/python-env.ts) on this machine.
    const python = staged.pythonEnv?.python ?? (env.SPARKJOBS_SPARK_SUBMIT ? (env.PYSPARK_PYTHON ?? "python3") : pythonPath(env));
    // The driver's JVM maps the classes of Spark from the archive bootstrap.sh built (env/class-archive.ts), when there is one.
    const archive = classArchiveOption(env, classPath);
    const submitOpts = [env.SPARK_SUBMIT_OPTS, archive].filter(Boolean).join(" ");
    const child = spawn(sparkSubmit, sparkSubmitArgs(plan, staged, this.master, this.driverMemory, classPath, this.options.executorS3aJars ?? false), {
      env: { ...env, PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python, SPARK_LOCAL_IP: env.SPARK_LOCAL_IP ?? "127.0.0.1", ...(submitOpts ? { SPARK_SUBMIT_OPTS: submitOpts } : {}) },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const entry: Child = { process: child, log: "" };
    // Spark's launcher sends the Python driver's stderr to its stdout: read both the same way.
    for (const stream of [child.stdout!, child.stderr!]) {
      let pending = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        logStream.write(chunk);
        entry.log += chunk;
        if (entry.log.length > 4_000_000) entry.log = entry.log.slice(-2_000_000);
        pending += chunk;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) if ((line.startsWith("[runner]") || line.startsWith("[progress]"))) this.options.onLog?.(line);
      });
    }
    child.on("close", () => logStream.end());
    child.on("close", (code, signal) => {
      entry.exit = { code, signal };
    });
    child.on("error", (error) => {
      entry.exit = { code: 127, signal: null };
      entry.log += `\nspark-submit could not start: ${error.message}\n`;
    });
    this.children.set(plan.runId, entry);
    return { runId: plan.runId, engineId: String(child.pid), logLocation: logFile };
  }

  async status(submission: Submission): Promise<RunStatus> {
    const child = this.children.get(submission.runId);
    if (!child) return { state: "failed", engineState: "UNKNOWN", reason: "this process did not submit the run" };
    if (!child.exit) return { state: "running", engineState: "RUNNING" };
    const { code, signal } = child.exit;
    if (code === 0) return { state: "succeeded", engineState: "EXIT 0" };
    if (signal) return { state: "cancelled", engineState: signal };
    const failure = runnerFailureFrom(child.log);
    return { state: "failed", engineState: `EXIT ${code}`, ...(failure ? { failure } : { reason: `spark-submit exited with ${code}` }) };
  }

  async cancel(submission: Submission): Promise<void> {
    const child = this.children.get(submission.runId);
    if (!child || child.exit || child.process.pid === undefined) return;
    try {
      process.kill(-child.process.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
  }

  async logs(submission: Submission, tailLines: number): Promise<string> {
    const child = this.children.get(submission.runId);
    const text = child?.log ?? (existsSync(submission.logLocation) ? readFileSync(submission.logLocation, "utf8") : "");
    return text.split("\n").slice(-tailLines).join("\n");
  }
}
