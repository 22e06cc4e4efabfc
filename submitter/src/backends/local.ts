/**
 * The local backend: spark-submit of the pinned Spark with master local[*], as a child process.
 * The driver's output (the JVM's and, through it, the Python runner's) goes to
 * <root>/logs/<run-id>/driver.log.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunPlan } from "../../../schemas/src/index.js";
import { SparkjobsError } from "../errors.js";
import { pythonPath, sparkSubmitPath } from "../env/where.js";
import type { Staged } from "../stage/stage.js";
import { toLocalPath } from "../stage/storage.js";
import { runnerFailureFrom, type Backend, type RunStatus, type Submission } from "./types.js";

export interface LocalBackendOptions {
  /** Storage root (a local folder) where logs/ lives. */
  root: string;
  master?: string;
  driverMemory?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each line the runner logs (stderr lines starting with [runner]). */
  onLog?: (line: string) => void;
}

interface Child {
  process: ChildProcess;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  log: string;
}

export function sparkSubmitArgs(plan: RunPlan, staged: Staged, master: string, driverMemory: string): string[] {
  const args = ["--master", master, "--name", `sparkjobs-${plan.job.name}-${plan.runId}`, "--driver-memory", driverMemory];
  for (const [k, v] of Object.entries(plan.sparkConf)) args.push("--conf", `${k}=${v}`);
  args.push("--py-files", toLocalPath(staged.pyFilesUri), toLocalPath(staged.runnerUri), "--plan", toLocalPath(staged.planUri));
  return args;
}

export class LocalBackend implements Backend {
  readonly target = "local";
  private readonly children = new Map<string, Child>();
  private readonly master: string;
  private readonly driverMemory: string;

  constructor(private readonly options: LocalBackendOptions) {
    this.master = options.master ?? "local[*]";
    this.driverMemory = options.driverMemory ?? "2g";
  }

  sparkConf(): Record<string, string> {
    return {
      "spark.ui.enabled": "false",
      "spark.driver.extraJavaOptions": "-Dlog4j2.level=warn",
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
    const logDir = join(toLocalPath(this.options.root), "logs", plan.runId);
    mkdirSync(logDir, { recursive: true });
    const logFile = join(logDir, "driver.log");
    const logStream = createWriteStream(logFile);
    const python = env.SPARKJOBS_SPARK_SUBMIT ? (env.PYSPARK_PYTHON ?? "python3") : pythonPath(env);
    const child = spawn(sparkSubmit, sparkSubmitArgs(plan, staged, this.master, this.driverMemory), {
      env: { ...env, PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python, SPARK_LOCAL_IP: env.SPARK_LOCAL_IP ?? "127.0.0.1" },
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
        for (const line of lines) if (line.startsWith("[runner]")) this.options.onLog?.(line);
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
