/**
 * The yarn target: spark-submit of the pinned Spark with --master yarn, in cluster deploy mode by
 * default (the driver runs in the ApplicationMaster's container on a node of the cluster) or
 * client mode (the driver runs here). The ResourceManager's REST API is the source of truth: the
 * state, final status and progress of the application, and its cancel (state KILLED), so Ctrl-C
 * and SIGTERM stop the application on the cluster, not only the local spark-submit. On failure
 * the runner's own error is read from the aggregated container logs, waiting for them up to a
 * bound. The application carries the run id as a tag: a retried submit of a run whose
 * application is still live follows that application instead of starting a second one.
 *
 * The driver and executors use the cluster's Python (python3 on the nodes, or
 * spark.pyspark.python), never the submitter's venv. The Spark jars go to the root once,
 * content-addressed, as spark.yarn.archive, unless the settings name an archive or jars already.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { RunPlan } from "../../../schemas/src/index.js";
import { SparkjobsError } from "../errors.js";
import { sparkSubmitPath, venvDir } from "../env/where.js";
import { joinUri } from "../plan/build.js";
import type { HadoopConf } from "../stage/hadoop-conf.js";
import { pythonEnvSubmitArgs } from "../stage/python-env.js";
import { runnerArgs, type Staged } from "../stage/stage.js";
import type { Storage } from "../stage/storage.js";
import { zip } from "../stage/zip.js";
import { systemClock, type Clock } from "../wait/poll.js";
import { tail } from "./logs.js";
import { runnerFailureFrom, type Backend, type RunState, type RunStatus, type Submission } from "./types.js";
import { aggregatedLogDirs, isFirstContainer, parseAggregatedLog, type ContainerLog } from "./yarn-logs.js";

export interface YarnBackendOptions {
  /** The ResourceManager's web address, http://host:port. */
  resourceManager: string;
  hadoopConfDir: string;
  hadoopConf: HadoopConf;
  storage: Storage;
  /** The storage root: the Spark jars archive is staged under it. */
  root: string;
  deployMode?: "cluster" | "client";
  queue?: string;
  principal?: string;
  keytab?: string;
  /** Settings for this engine (--conf), merged into every plan under the job's own. */
  conf?: Record<string, string>;
  /** How long to wait for aggregated logs after a failure. */
  logWaitMs?: number;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  clock?: Clock;
  log?: (message: string) => void;
  onLog?: (line: string) => void;
}

interface AppInfo {
  id: string;
  name: string;
  user: string;
  queue: string;
  state: string;
  finalStatus: string;
  progress: number;
  trackingUrl?: string;
  diagnostics?: string;
  logAggregationStatus?: string;
  applicationTags?: string;
}

const LIVE_STATES = "NEW,NEW_SAVING,SUBMITTED,ACCEPTED,RUNNING";

/** The tag that marks a run's application (YARN lower-cases tags; the name keeps the exact run id). */
export function runTag(runId: string): string {
  return `sparkjobs-run-${runId.toLowerCase()}`;
}

export function appName(plan: RunPlan): string {
  return `sparkjobs-${plan.job.name}-${plan.runId}`;
}

/** The name (and tag) of a pipeline's session application: its folder's name, never a run's. */
export function sessionName(sessionUri: string): string {
  return `sparkjobs-session-${sessionUri.replace(/\/+$/, "").split("/").pop()!.toLowerCase()}`;
}

/** YARN's state and final status as a RunState. */
export function yarnState(app: Pick<AppInfo, "state" | "finalStatus">): RunState {
  switch (app.state) {
    case "NEW":
    case "NEW_SAVING":
    case "SUBMITTED":
    case "ACCEPTED":
      return "pending";
    case "RUNNING":
      return "running";
    case "FINISHED":
      return app.finalStatus === "SUCCEEDED" ? "succeeded" : app.finalStatus === "KILLED" ? "cancelled" : "failed";
    case "KILLED":
      return "cancelled";
    default:
      return "failed";
  }
}

/** The Spark installation of the pinned pyspark (its jars folder is what the cluster needs). */
export function sparkHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPARK_HOME) return env.SPARK_HOME;
  const lib = join(venvDir(env), "lib");
  const python = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith("python")) : undefined;
  return join(lib, python ?? "python3", "site-packages", "pyspark");
}

/** spark-submit's arguments for a yarn run (an array, never a joined string). */
export function yarnSubmitArgs(plan: RunPlan, staged: Staged, o: { deployMode: string; queue?: string; principal?: string; keytab?: string; archive?: string }): string[] {
  // A pipeline's session application carries the session's name and tag, not its first step's:
  // a retried submit of that step must not follow an application that runs other steps.
  const name = staged.session ? sessionName(staged.session) : appName(plan);
  const args = ["--master", "yarn", "--deploy-mode", o.deployMode, "--name", name];
  if (o.queue) args.push("--queue", o.queue);
  if (o.principal) args.push("--principal", o.principal);
  if (o.keytab) args.push("--keytab", o.keytab);
  args.push("--conf", `spark.yarn.tags=sparkjobs,${staged.session ? name : runTag(plan.runId)}`);
  // spark-submit returns once the application is accepted: the ResourceManager is asked from then on.
  if (o.deployMode === "cluster") args.push("--conf", "spark.yarn.submit.waitAppCompletion=false");
  if (o.archive) args.push("--conf", `spark.yarn.archive=${o.archive}`);
  for (const [k, v] of Object.entries(plan.sparkConf)) args.push("--conf", `${k}=${v}`);
  args.push(...pythonEnvSubmitArgs(staged.pythonEnv, o.deployMode === "cluster"));
  args.push("--py-files", staged.pyFilesUri, staged.runnerUri, ...runnerArgs(staged));
  // In client mode the driver's stderr is read here as it comes: the runner reports progress on it.
  if (o.deployMode === "client") args.push("--progress-seconds", "2");
  return args;
}

export class YarnBackend implements Backend {
  readonly target = "yarn";
  readonly shipsPythonEnv = true;
  /** The ResourceManager's REST API is cheap to ask: a run's end is seen within 2 s. */
  readonly maxPollDelayMs = 2000;
  private readonly deployMode: "cluster" | "client";
  private readonly env: NodeJS.ProcessEnv;
  private readonly fetch: typeof fetch;
  private readonly clock: Clock;
  private readonly clients = new Map<string, { process: ChildProcess; log: string; exit?: number | null }>();
  private readonly logsCache = new Map<string, ContainerLog[]>();

  constructor(private readonly o: YarnBackendOptions) {
    this.deployMode = o.deployMode ?? "cluster";
    this.env = o.env ?? process.env;
    this.fetch = o.fetch ?? fetch;
    this.clock = o.clock ?? systemClock;
  }

  sparkConf(): Record<string, string> {
    return { "spark.ui.showConsoleProgress": "false", ...this.o.conf };
  }

  private async rm<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T | undefined }> {
    const url = `${this.o.resourceManager}/ws/v1/cluster${path}`;
    let response: Response;
    try {
      response = await this.fetch(url, { ...init, headers: { accept: "application/json", ...(init.body ? { "content-type": "application/json" } : {}) } });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      throw new SparkjobsError("unreachable", `the YARN ResourceManager at ${this.o.resourceManager} cannot be reached (${cause?.code ?? (e as Error).message})`, {
        fix: "check that YARN is up and that HADOOP_CONF_DIR's yarn-site.xml gives yarn.resourcemanager.webapp.address (or set SPARKJOBS_YARN_RM_URL=http://resourcemanager:8088)",
        cause: e,
      });
    }
    const text = await response.text();
    let body: T | undefined;
    try {
      body = text ? (JSON.parse(text) as T) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, body };
  }

  private user(): string {
    return this.env.HADOOP_USER_NAME || this.env.USER || "sparkjobs";
  }

  private async app(id: string): Promise<AppInfo | undefined> {
    const r = await this.rm<{ app: AppInfo }>(`/apps/${id}`);
    return r.status === 200 ? r.body?.app : undefined;
  }

  /** The queues the scheduler knows (leaf and parent names), for checking --queue before submitting. */
  private async queues(): Promise<string[] | undefined> {
    const r = await this.rm<{ scheduler?: { schedulerInfo?: unknown } }>("/scheduler");
    if (r.status !== 200 || !r.body) return undefined;
    const names: string[] = [];
    const walk = (q: unknown) => {
      if (!q || typeof q !== "object") return;
      const o = q as Record<string, unknown>;
      if (typeof o.queueName === "string") names.push(o.queueName);
      const children = (o.queues as { queue?: unknown[] } | undefined)?.queue;
      if (Array.isArray(children)) children.forEach(walk);
    };
    walk(r.body.scheduler?.schedulerInfo);
    return names.length ? names : undefined;
  }

  /** The live application of a run, if a submit of it is already running on the cluster. */
  private async liveApplication(plan: RunPlan): Promise<AppInfo | undefined> {
    const r = await this.rm<{ apps: { app?: AppInfo[] } | null }>(`/apps?applicationTags=${encodeURIComponent(runTag(plan.runId))}&states=${LIVE_STATES}`);
    return (r.body?.apps?.app ?? []).find((a) => a.name === appName(plan));
  }

  /** The Spark jars as one archive under the root, uploaded once per Spark build. */
  private async sparkArchive(): Promise<string | undefined> {
    const conf = { ...this.o.conf };
    if (conf["spark.yarn.archive"] || conf["spark.yarn.jars"]) return undefined;
    const jarsDir = join(sparkHome(this.env), "jars");
    if (!existsSync(jarsDir)) throw new SparkjobsError("environment", `the Spark jars were not found at ${jarsDir}`, { fix: "run `bash scripts/bootstrap.sh`, or set SPARK_HOME, or give -c spark.yarn.archive=<uri of a zip of Spark's jars>" });
    const names = readdirSync(jarsDir).filter((n) => n.endsWith(".jar")).sort();
    const key = createHash("sha256");
    for (const n of names) key.update(`${n}:${statSync(join(jarsDir, n)).size}\n`);
    const uri = joinUri(this.o.root, "stage", "spark", key.digest("hex").slice(0, 16), "spark-jars.zip");
    if ((await this.o.storage.size(uri)) === undefined) {
      this.o.log?.(`uploading Spark's ${names.length} jars to ${uri} (once per Spark build)`);
      await this.o.storage.put(uri, zip(names.map((n) => ({ path: n, data: readFileSync(join(jarsDir, n)) })), { store: true }));
    }
    return uri;
  }

  async submit(plan: RunPlan, staged: Staged): Promise<Submission> {
    const info = await this.rm<{ clusterInfo?: { state?: string } }>("/info");
    if (info.status !== 200 || !info.body?.clusterInfo) {
      throw new SparkjobsError("unreachable", `${this.o.resourceManager} did not answer as a YARN ResourceManager (HTTP ${info.status})`, {
        fix: "check yarn.resourcemanager.webapp.address in HADOOP_CONF_DIR's yarn-site.xml, or set SPARKJOBS_YARN_RM_URL",
      });
    }
    const live = staged.session ? undefined : await this.liveApplication(plan);
    if (live) {
      this.o.log?.(`run ${plan.runId} is already running as YARN application ${live.id} (${live.state}); following it instead of submitting it again`);
      return { runId: plan.runId, engineId: live.id, logLocation: live.trackingUrl ?? `${this.o.resourceManager}/cluster/app/${live.id}` };
    }
    if (this.o.queue) {
      const queues = await this.queues();
      if (queues && !queues.includes(this.o.queue)) {
        throw new SparkjobsError("usage", `--queue ${this.o.queue}: the YARN scheduler has no such queue`, { fix: `use one of ${queues.join(", ")}` });
      }
    }
    const sparkSubmit = sparkSubmitPath(this.env);
    if (!existsSync(sparkSubmit)) {
      throw new SparkjobsError("environment", `spark-submit was not found at ${sparkSubmit}`, { fix: "run `bash scripts/bootstrap.sh` (npm start does it), or set SPARKJOBS_SPARK_SUBMIT" });
    }
    const archive = await this.sparkArchive();
    const args = yarnSubmitArgs(plan, staged, {
      deployMode: this.deployMode,
      ...(this.o.queue ? { queue: this.o.queue } : {}),
      ...(this.o.principal ? { principal: this.o.principal } : {}),
      ...(this.o.keytab ? { keytab: this.o.keytab } : {}),
      ...(archive ? { archive } : {}),
    });
    // The submitter's Python must not travel: Spark passes PYSPARK_PYTHON on to the application master.
    const { PYSPARK_PYTHON: _p, PYSPARK_DRIVER_PYTHON: _d, ...env } = this.env;
    const child = spawn(sparkSubmit, args, {
      env: { ...env, SPARK_HOME: sparkHome(this.env), HADOOP_CONF_DIR: this.o.hadoopConfDir, ...(this.deployMode === "client" ? { PYSPARK_PYTHON: env.SPARKJOBS_CLIENT_PYTHON ?? join(venvDir(this.env), "bin", "python") } : {}) },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const entry: { process: ChildProcess; log: string; exit?: number | null } = { process: child, log: "" };
    const applicationId = await new Promise<string>((resolve, reject) => {
      let found = false;
      const onData = (chunk: Buffer) => {
        entry.log += chunk.toString();
        if (entry.log.length > 4_000_000) entry.log = entry.log.slice(-2_000_000);
        for (const line of chunk.toString().split("\n")) if ((line.startsWith("[runner]") || line.startsWith("[progress]"))) this.o.onLog?.(line);
        const m = /Submitted application (application_\d+_\d+)/.exec(entry.log);
        if (m && !found) {
          found = true;
          resolve(m[1]!);
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.on("error", (e) => reject(new SparkjobsError("environment", `spark-submit could not start: ${e.message}`, { fix: "run `bash scripts/bootstrap.sh`" })));
      child.on("close", (code) => {
        entry.exit = code;
        if (found) return;
        const lines = entry.log.split("\n").filter((l) => /Exception|Error|refused|denied/i.test(l)).slice(-5).join("\n");
        reject(new SparkjobsError("runFailed", `spark-submit ended (exit ${code}) before YARN accepted the application`, {
          fix: `its output ends with:\n${lines || tail(entry.log, 10)}`,
        }));
      });
    });
    this.clients.set(applicationId, entry);
    return { runId: plan.runId, engineId: applicationId, logLocation: `${this.o.resourceManager}/cluster/app/${applicationId}` };
  }

  async status(submission: Submission): Promise<RunStatus> {
    const app = await this.app(submission.engineId);
    if (!app) return { state: "failed", engineState: "UNKNOWN", reason: `the ResourceManager does not know application ${submission.engineId} (restarted, or it was removed from its history)` };
    const state = yarnState(app);
    const engineState = app.state === "FINISHED" ? `FINISHED/${app.finalStatus}` : `${app.state} ${Math.round(app.progress)}%`;
    if (state !== "failed") return { state, engineState };
    const logs = await this.containerLogs(app);
    const driver = logs.filter((l) => isFirstContainer(l.container) && (l.file === "stdout" || l.file === "stderr"));
    const failure = runnerFailureFrom(driver.map((l) => l.text).join("\n"));
    const reason = app.diagnostics?.split("\n").find((l) => l.trim()) ?? `the application ended ${app.finalStatus}`;
    const stderr = driver.find((l) => l.file === "stderr")?.text;
    return {
      state,
      engineState,
      ...(failure ? { failure } : { reason }),
      ...(stderr ? { logTail: `driver log (aggregated container logs of ${app.id}, ${driver[0]!.container}):\n${tail(stderr, 20)}` } : logs.length ? {} : { logTail: `no container logs of ${app.id} arrived within the wait; see them with: yarn logs -applicationId ${app.id}` }),
    };
  }

  /** The aggregated logs of an ended application, waiting for aggregation up to logWaitMs. */
  private async containerLogs(app: AppInfo): Promise<ContainerLog[]> {
    const cached = this.logsCache.get(app.id);
    if (cached) return cached;
    const remote = this.o.hadoopConf.get("yarn.nodemanager.remote-app-log-dir") ?? "/tmp/logs";
    const suffix = this.o.hadoopConf.get("yarn.nodemanager.remote-app-log-dir-suffix") ?? "logs";
    const base = /^[a-z][a-z0-9+.-]*:\/\//i.test(remote) ? remote : `${this.o.hadoopConf.get("fs.defaultFS")?.replace(/\/+$/, "") ?? "hdfs://"}${remote}`;
    const deadline = this.clock.now() + (this.o.logWaitMs ?? 60_000);
    for (;;) {
      const current = (await this.app(app.id)) ?? app;
      const aggregation = current.logAggregationStatus ?? "";
      const settled = ["SUCCEEDED", "FAILED", "TIME_OUT", "DISABLED"].includes(aggregation);
      if (settled || this.clock.now() >= deadline) {
        const logs: ContainerLog[] = [];
        for (const dir of aggregatedLogDirs(base, app.user, app.id, suffix)) {
          const files = await this.o.storage.listFiles(dir).catch(() => []);
          for (const f of files) {
            const bytes = await this.o.storage.readBytes(f.uri);
            if (bytes) logs.push(...parseAggregatedLog(bytes));
          }
          if (files.length) break;
        }
        // What was read once aggregation had settled is final; a partial read after the wait is not kept.
        if (settled) this.logsCache.set(app.id, logs);
        return logs;
      }
      await this.clock.sleep(Math.min(3000, Math.max(0, deadline - this.clock.now())));
    }
  }

  async cancel(submission: Submission): Promise<void> {
    const r = await this.rm(`/apps/${submission.engineId}/state?user.name=${encodeURIComponent(this.user())}`, { method: "PUT", body: JSON.stringify({ state: "KILLED" }) });
    if (r.status >= 400 && r.status !== 404) {
      this.o.log?.(`the ResourceManager refused to kill ${submission.engineId} (HTTP ${r.status}); kill it with: yarn application -kill ${submission.engineId}`);
    }
    const client = this.clients.get(submission.engineId);
    if (client && client.exit === undefined && client.process.pid !== undefined) {
      try {
        process.kill(-client.process.pid, "SIGTERM");
      } catch {
        /* already gone */
      }
    }
  }

  async logs(submission: Submission, tailLines: number): Promise<string> {
    const app = await this.app(submission.engineId);
    if (!app || yarnState(app) === "running" || yarnState(app) === "pending") return `application ${submission.engineId} is ${app?.state ?? "unknown"}; its logs: ${submission.logLocation}`;
    const driver = (await this.containerLogs(app)).filter((l) => isFirstContainer(l.container) && (l.file === "stdout" || l.file === "stderr"));
    return tail(driver.map((l) => l.text).join("\n"), tailLines);
  }
}
