/**
 * A loopback stand-in for the Amazon EMR Serverless control plane, speaking its REST-JSON
 * (restJson1) wire protocol so the real @aws-sdk/client-emr-serverless talks to it unchanged:
 * GetApplication, StartJobRun, GetJobRun, CancelJobRun and ListJobRuns. Job runs execute for real,
 * one at a time per application, their spark-submit arguments as given, the driver and executors
 * in containers of the tests' Hadoop mini cluster (cluster deploy mode, cluster-spark.ts), and
 * their driver logs go to a real S3 server in EMR Serverless's layout (what the submission said
 * while they run; the driver container's own output once YARN has aggregated it). Tests create applications directly (addApplication),
 * read what the service saw (requests, application(id).runs) and inject throttling (throttleNext).
 */
import type { ChildProcess } from "node:child_process";
import { randomInt, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { constants } from "node:os";
import { gzipSync } from "node:zlib";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { HadoopInfo } from "../servers/hadoop.js";
import { isFirstContainer } from "../../submitter/src/backends/yarn-logs.js";
import { aggregatedContainerLogs, applicationOf, clusterSpark, killApplication, startClusterSpark, type ClusterSpark } from "./cluster-spark.js";

export interface EmrServerlessServerOptions {
  /** Environment of the S3 server that job runs read from and logs are written to. */
  s3Env: Record<string, string>;
  /** The only access key id the server accepts in a request's SigV4 Authorization header. */
  accessKeyId: string;
  /** The Hadoop mini cluster whose YARN runs the job runs' executors. */
  hadoop: HadoopInfo;
  /** Time spent in each state on the way to RUNNING, and for an application to start (default 100 ms). */
  stepDelayMs?: number;
  /** How often the logs of a running job are uploaded (default 5000 ms); they are also uploaded when it ends. */
  logFlushMs?: number;
}

export interface FakeApplication {
  id: string;
  name: string;
  arn: string;
  state: string;
  createdAt: Date;
  updatedAt: Date;
  /** Job runs in the order they were submitted. */
  runs: FakeJobRun[];
}

export interface FakeJobRun {
  id: string;
  applicationId: string;
  arn: string;
  name?: string;
  clientToken: string;
  state: string;
  stateDetails: string;
  /**
   * The spark-submit argument list: cluster deploy mode, sparkSubmitParameters split on whitespace
   * (the service's driverEnv keys as YARN's appMasterEnv), entryPoint, entryPointArguments.
   */
  args: string[];
  /** The YARN application of the run's driver, once YARN has accepted it. */
  yarnApplication?: string;
  executionRole: string;
  /** The S3 monitoring log URI, when the run was given one. */
  logUri?: string;
  createdAt: Date;
  updatedAt: Date;
  /** When the driver started (RUNNING) and when the run reached a final state. */
  startedAt?: Date;
  endedAt?: Date;
  /** Exit code of spark-submit, once it has exited. */
  exitCode?: number;
  /** The last failure to upload the logs to S3, if any. */
  logUploadError?: string;
}

export interface EmrServerlessServer {
  endpoint: string;
  addApplication(a: { name?: string; state?: string }): FakeApplication;
  application(id: string): FakeApplication | undefined;
  /** Every request in the order it arrived, with the HTTP status it was answered with (0 until answered). */
  requests: { operation: string; status: number }[];
  /** The next n requests (of that operation, if given) are answered 429 ThrottlingException. */
  throttleNext(n: number, operation?: string): void;
  /**
   * The next n requests (of that operation, if given) that succeed are carried out, but their
   * answer is lost: "error" answers HTTP 500 InternalServerException instead, "reset" closes the
   * connection without a word (recorded with status 0).
   */
  failAfterAcceptNext(n: number, operation?: string, how?: "error" | "reset"): void;
  stop(): Promise<void>;
}

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const RELEASE_LABEL = "emr-7.9.0";
const CREATED_BY = `arn:aws:iam::${ACCOUNT}:user/sparkjobs-test`;
/** EMR Serverless's default executionTimeoutMinutes (12 hours); 0 means no timeout. */
const DEFAULT_TIMEOUT_MINUTES = 720;
/** How long a cancelled driver gets after SIGTERM before SIGKILL, unless shutdownGracePeriodInSeconds says otherwise. */
const DEFAULT_GRACE_SECONDS = 10;

const APPLICATION_STATES = new Set(["CREATING", "CREATED", "STARTING", "STARTED", "STOPPING", "STOPPED", "TERMINATED"]);
const JOB_RUN_STATES = new Set(["SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "SUCCESS", "FAILED", "CANCELLING", "CANCELLED", "QUEUED"]);
const FINAL_STATES = new Set(["SUCCESS", "FAILED", "CANCELLED"]);

// ---------------------------------------------------------------------------------------------
// Errors, as the service sends them: a status, x-amzn-ErrorType and {"message"}.

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const validation = (message: string) => new ApiError(400, "ValidationException", message);
const notFound = (message: string) => new ApiError(404, "ResourceNotFoundException", message);
const conflict = (message: string) => new ApiError(409, "ConflictException", message);

// ---------------------------------------------------------------------------------------------
// Requests: which operation a method and path name, and the request as handlers see it.

interface ApiRequest {
  /** Path parameters: the application id, then the job run id when the path has one. */
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
}

type Operation = "GetApplication" | "StartJobRun" | "ListJobRuns" | "GetJobRun" | "CancelJobRun";

const ROUTES: { method: string; path: RegExp; operation: Operation }[] = [
  { method: "GET", path: /^\/applications\/([^/]+)$/, operation: "GetApplication" },
  { method: "POST", path: /^\/applications\/([^/]+)\/jobruns$/, operation: "StartJobRun" },
  { method: "GET", path: /^\/applications\/([^/]+)\/jobruns$/, operation: "ListJobRuns" },
  { method: "GET", path: /^\/applications\/([^/]+)\/jobruns\/([^/]+)$/, operation: "GetJobRun" },
  { method: "DELETE", path: /^\/applications\/([^/]+)\/jobruns\/([^/]+)$/, operation: "CancelJobRun" },
];

function route(method: string, pathname: string): { operation: Operation; params: string[] } | undefined {
  for (const r of ROUTES) {
    const m = r.method === method ? r.path.exec(pathname) : null;
    if (m) return { operation: r.operation, params: m.slice(1).map(decodeURIComponent) };
  }
  return undefined;
}

/** The access key id of a SigV4 Authorization header (the signature itself is not checked). */
function accessKeyOf(req: IncomingMessage): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? "")?.[1];
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (!text) return {};
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === "object" && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    /* answered below */
  }
  throw new ApiError(400, "SerializationException", "The request body is not a JSON object");
}

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "x-amzn-RequestId": randomUUID(),
    ...(errorType ? { "x-amzn-ErrorType": errorType } : {}),
  });
  res.end(text);
}

// ---------------------------------------------------------------------------------------------
// StartJobRun's input, checked as the service checks it.

interface SparkSubmitDriver {
  entryPoint: string;
  entryPointArguments?: string[];
  sparkSubmitParameters?: string;
}

interface JobRunInput {
  clientToken: string;
  executionRoleArn: string;
  name?: string;
  jobDriver: { sparkSubmit: SparkSubmitDriver };
  configurationOverrides?: { monitoringConfiguration?: { s3MonitoringConfiguration?: { logUri?: string } } };
  tags: Record<string, string>;
  executionTimeoutMinutes: number;
  mode: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

function checkClientToken(token: unknown): string {
  if (typeof token !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(token)) {
    throw validation("clientToken must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
  }
  return token;
}

function checkExecutionRole(arn: unknown): string {
  if (arn === undefined) throw validation("executionRoleArn is required");
  if (typeof arn !== "string" || !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(arn)) {
    throw validation(`executionRoleArn ${JSON.stringify(arn)} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`);
  }
  return arn;
}

function checkSparkSubmit(driver: unknown): SparkSubmitDriver {
  if (!isObject(driver)) throw validation("jobDriver is required");
  if (driver.hive !== undefined) throw validation("jobDriver hive is not supported by an application of type Spark");
  const spark = driver.sparkSubmit;
  if (!isObject(spark)) throw validation("jobDriver.sparkSubmit is required");
  const { entryPoint, entryPointArguments, sparkSubmitParameters } = spark;
  if (typeof entryPoint !== "string" || entryPoint.length < 1 || entryPoint.length > 256) {
    throw validation("jobDriver.sparkSubmit.entryPoint must be a string of 1 to 256 characters");
  }
  if (entryPointArguments !== undefined && !isStringList(entryPointArguments)) {
    throw validation("jobDriver.sparkSubmit.entryPointArguments must be a list of strings");
  }
  if (sparkSubmitParameters !== undefined && typeof sparkSubmitParameters !== "string") {
    throw validation("jobDriver.sparkSubmit.sparkSubmitParameters must be a string");
  }
  return spark as unknown as SparkSubmitDriver;
}

function checkLogUri(overrides: unknown): string | undefined {
  if (overrides === undefined) return undefined;
  if (!isObject(overrides)) throw validation("configurationOverrides must be an object");
  const s3 = isObject(overrides.monitoringConfiguration) ? overrides.monitoringConfiguration.s3MonitoringConfiguration : undefined;
  const logUri = isObject(s3) ? s3.logUri : undefined;
  if (logUri === undefined) return undefined;
  if (typeof logUri !== "string" || !/^s3[an]?:\/\/[^/]+/.test(logUri)) {
    throw validation(`logUri ${JSON.stringify(logUri)} is not an S3 URI`);
  }
  return logUri;
}

function checkInteger(value: unknown, what: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw validation(`${what} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function parseStartJobRun(body: Record<string, unknown>): JobRunInput & { logUri?: string } {
  const { name, tags, mode } = body;
  if (name !== undefined && (typeof name !== "string" || name.length > 256)) throw validation("name must be a string of at most 256 characters");
  if (tags !== undefined && !(isObject(tags) && Object.values(tags).every((v) => typeof v === "string"))) {
    throw validation("tags must map strings to strings");
  }
  if (mode !== undefined && mode !== "BATCH" && mode !== "STREAMING") throw validation("mode must be BATCH or STREAMING");
  const logUri = checkLogUri(body.configurationOverrides);
  return {
    clientToken: checkClientToken(body.clientToken),
    executionRoleArn: checkExecutionRole(body.executionRoleArn),
    ...(name !== undefined ? { name: name as string } : {}),
    jobDriver: { sparkSubmit: checkSparkSubmit(body.jobDriver) },
    ...(body.configurationOverrides !== undefined ? { configurationOverrides: body.configurationOverrides as JobRunInput["configurationOverrides"] } : {}),
    tags: (tags as Record<string, string> | undefined) ?? {},
    executionTimeoutMinutes: checkInteger(body.executionTimeoutMinutes, "executionTimeoutMinutes", 0, 1_000_000) ?? DEFAULT_TIMEOUT_MINUTES,
    mode: (mode as string | undefined) ?? "BATCH",
    ...(logUri !== undefined ? { logUri } : {}),
  };
}

/** The spark-submit argument list of a run, as EMR Serverless builds it from the job driver. */
/**
 * The spark-submit of a job run: its driver in a YARN container (cluster deploy mode), as EMR
 * Serverless runs drivers in workers of their own. The service's own keys become YARN's: the
 * driver's environment (spark.emr-serverless.driverEnv.*) is the application master's.
 */
function sparkArgs(driver: SparkSubmitDriver): string[] {
  const parameters = (driver.sparkSubmitParameters ?? "").split(/\s+/).filter(Boolean).map((p) => p.replace(/^spark\.emr-serverless\.driverEnv\./, "spark.yarn.appMasterEnv."));
  return ["--deploy-mode", "cluster", ...parameters, driver.entryPoint, ...(driver.entryPointArguments ?? [])];
}

// ---------------------------------------------------------------------------------------------
// What the service keeps per application and per run, beyond what tests see.

interface ApplicationRecord {
  app: FakeApplication;
  /** Settles when the application's last queued run has finished: runs execute one at a time. */
  tail: Promise<void>;
  /** Set while the application is starting. */
  starting?: Promise<void>;
}

interface RunRecord extends FakeJobRun {
  input: JobRunInput;
  /** JSON of the request without its clientToken, to tell a retry from a different run with a reused token. */
  fingerprint: string;
  child?: ChildProcess;
  /** spark-submit's own output (the YARN client's), for a run whose driver never started. */
  stdout: Buffer[];
  stderr: Buffer[];
  /** The driver's own output (its YARN container's), once the run has ended and YARN has aggregated it. */
  driverLogs?: { stdout: string; stderr: string };
  /** Settles after the last log upload started so far. */
  flushing: Promise<void>;
  timers: NodeJS.Timeout[];
  /** Settles when the run's lifecycle has nothing left to do. */
  done: Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const epochSeconds = (d: Date) => d.getTime() / 1000;

/** 16 lower-case alphanumerics, like the ids EMR Serverless gives applications and job runs. */
function newId(): string {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  return Array.from({ length: 16 }, () => alphabet[randomInt(alphabet.length)]).join("");
}

/** The last line that looks like an exception (Java or Python), for a FAILED run's stateDetails. */
function lastException(text: string): string | undefined {
  const lines = text.split("\n").filter((l) => /(^|[\s:])([\w$]+\.)*[\w$]*(Exception|Error)(:|$)|^Exception in thread /.test(l.trim()));
  return lines.at(-1)?.trim().slice(0, 1000);
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* the process group has already exited */
  }
}

// ---------------------------------------------------------------------------------------------
// The service.

class EmrServerless {
  readonly requests: { operation: string; status: number }[] = [];
  private readonly applications = new Map<string, ApplicationRecord>();
  /** Requests still to throttle, by operation; "*" counts for any operation. */
  private readonly throttles = new Map<string, number>();
  /** Answers to lose after the request was carried out, in order; operation "*" is any. */
  private readonly lostAnswers: { operation: string; how: "error" | "reset" }[] = [];
  private readonly s3: S3Client;
  private readonly stepMs: number;
  private readonly flushMs: number;
  private closed = false;

  constructor(
    private readonly options: EmrServerlessServerOptions,
    private readonly spark: ClusterSpark,
  ) {
    this.stepMs = options.stepDelayMs ?? 100;
    this.flushMs = options.logFlushMs ?? 5000;
    this.s3 = s3Client(options.s3Env);
  }

  addApplication(a: { name?: string; state?: string }): FakeApplication {
    const state = a.state ?? "CREATED";
    if (!APPLICATION_STATES.has(state)) throw new Error(`${state} is not an EMR Serverless application state`);
    const id = newId();
    const now = new Date();
    const app: FakeApplication = {
      id,
      name: a.name ?? `sparkjobs-${id}`,
      arn: `arn:aws:emr-serverless:${REGION}:${ACCOUNT}:/applications/${id}`,
      state,
      createdAt: now,
      updatedAt: now,
      runs: [],
    };
    this.applications.set(id, { app, tail: Promise.resolve() });
    return app;
  }

  application(id: string): FakeApplication | undefined {
    return this.applications.get(id)?.app;
  }

  throttleNext(n: number, operation = "*"): void {
    this.throttles.set(operation, (this.throttles.get(operation) ?? 0) + n);
  }

  /** Answers one HTTP request: route, credentials, throttling, then the operation. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry = { operation: "Unknown", status: 0 };
    this.requests.push(entry);
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      const found = route(req.method ?? "GET", url.pathname);
      if (!found) throw new ApiError(404, "UnknownOperationException", `No operation matches ${req.method} ${url.pathname}`);
      entry.operation = found.operation;
      this.authorize(req);
      this.throttle(found.operation);
      const body = await readJson(req);
      const answer = this.dispatch(found.operation, { params: found.params, query: url.searchParams, body });
      const lost = this.loseAnswer(found.operation);
      if (lost === "reset") {
        req.socket.destroy();
        return;
      }
      if (lost === "error") throw new ApiError(500, "InternalServerException", "Request processing failed because of an internal error");
      entry.status = 200;
      send(res, 200, answer);
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError(500, "InternalServerException", e instanceof Error ? e.message : String(e));
      entry.status = error.status;
      send(res, error.status, { message: error.message }, error.type);
    }
  }

  failAfterAcceptNext(n: number, operation = "*", how: "error" | "reset" = "error"): void {
    for (let i = 0; i < n; i++) this.lostAnswers.push({ operation, how });
  }

  private loseAnswer(operation: string): "error" | "reset" | undefined {
    const i = this.lostAnswers.findIndex((l) => l.operation === "*" || l.operation === operation);
    if (i < 0) return undefined;
    return this.lostAnswers.splice(i, 1)[0]!.how;
  }

  private authorize(req: IncomingMessage): void {
    const key = accessKeyOf(req);
    if (key === undefined) throw new ApiError(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    if (key !== this.options.accessKeyId) throw new ApiError(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
  }

  private throttle(operation: string): void {
    for (const key of [operation, "*"]) {
      const left = this.throttles.get(key) ?? 0;
      if (left > 0) {
        this.throttles.set(key, left - 1);
        throw new ApiError(429, "ThrottlingException", "Rate exceeded");
      }
    }
  }

  private dispatch(operation: Operation, r: ApiRequest): unknown {
    const [applicationId, jobRunId] = r.params as [string, string];
    switch (operation) {
      case "GetApplication":
        return { application: applicationJson(this.record(applicationId).app) };
      case "StartJobRun":
        return this.startJobRun(this.record(applicationId), r.body);
      case "ListJobRuns":
        return listJobRuns(this.record(applicationId).app, r.query);
      case "GetJobRun":
        return { jobRun: jobRunJson(this.run(applicationId, jobRunId)) };
      case "CancelJobRun":
        return this.cancelJobRun(this.run(applicationId, jobRunId), r.query);
    }
  }

  private record(applicationId: string): ApplicationRecord {
    if (!/^[0-9a-z]{1,64}$/.test(applicationId)) throw validation(`applicationId ${JSON.stringify(applicationId)} is not valid`);
    const record = this.applications.get(applicationId);
    if (!record) throw notFound(`Application ${applicationId} does not exist`);
    return record;
  }

  private run(applicationId: string, jobRunId: string): RunRecord {
    const run = this.record(applicationId).app.runs.find((r) => r.id === jobRunId);
    if (!run) throw notFound(`Job run ${jobRunId} does not exist for application ${applicationId}`);
    return run as RunRecord;
  }

  // --- StartJobRun ---------------------------------------------------------------------------

  private startJobRun(record: ApplicationRecord, body: Record<string, unknown>) {
    const { app } = record;
    const { logUri, ...input } = parseStartJobRun(body);
    const fingerprint = JSON.stringify({ ...input, clientToken: undefined });
    const earlier = app.runs.find((r) => r.clientToken === input.clientToken) as RunRecord | undefined;
    if (earlier) {
      // The same token is a retry of the same request: the same run, and nothing new starts.
      if (earlier.fingerprint !== fingerprint) throw conflict(`clientToken ${input.clientToken} was already used for job run ${earlier.id} with different parameters`);
      return { applicationId: app.id, jobRunId: earlier.id, arn: earlier.arn };
    }
    if (app.state === "TERMINATED") throw validation(`Application ${app.id} is in TERMINATED state and cannot accept job runs`);
    if (app.state === "CREATING" || app.state === "STOPPING") throw conflict(`Application ${app.id} is in ${app.state} state; submit the job run again later`);
    const run = this.newRun(app, input, fingerprint, logUri);
    app.runs.push(run);
    const started = this.applicationStarted(record);
    const previous = record.tail;
    run.done = this.lifecycle(run, started, previous);
    record.tail = run.done;
    return { applicationId: app.id, jobRunId: run.id, arn: run.arn };
  }

  private newRun(app: FakeApplication, input: JobRunInput, fingerprint: string, logUri: string | undefined): RunRecord {
    const id = newId();
    const now = new Date();
    return {
      id,
      applicationId: app.id,
      arn: `${app.arn}/jobruns/${id}`,
      ...(input.name !== undefined ? { name: input.name } : {}),
      clientToken: input.clientToken,
      state: "SUBMITTED",
      stateDetails: "",
      args: sparkArgs(input.jobDriver.sparkSubmit),
      executionRole: input.executionRoleArn,
      ...(logUri !== undefined ? { logUri } : {}),
      createdAt: now,
      updatedAt: now,
      input,
      fingerprint,
      stdout: [],
      stderr: [],
      flushing: Promise.resolve(),
      timers: [],
      done: Promise.resolve(),
    };
  }

  /** A CREATED or STOPPED application starts when a job run is submitted (STARTING, then STARTED). */
  private applicationStarted(record: ApplicationRecord): Promise<void> {
    if (record.app.state === "STARTED") return Promise.resolve();
    record.starting ??= (async () => {
      setApplicationState(record.app, "STARTING");
      await sleep(this.stepMs);
      setApplicationState(record.app, "STARTED");
      record.starting = undefined;
    })();
    return record.starting;
  }

  // --- A run's life --------------------------------------------------------------------------

  /** True when the run should not go on: it was cancelled, or the server is stopping. */
  private halted(run: RunRecord): boolean {
    return this.closed || run.state === "CANCELLING" || run.state === "CANCELLED";
  }

  /**
   * SUBMITTED, PENDING until the application has started and the previous run has finished,
   * SCHEDULED, then RUNNING while spark-submit runs, and a final state when it exits.
   */
  private async lifecycle(run: RunRecord, applicationStarted: Promise<void>, previous: Promise<void>): Promise<void> {
    await sleep(this.stepMs);
    if (this.halted(run)) return;
    setRunState(run, "PENDING");
    await Promise.all([applicationStarted, previous, sleep(this.stepMs)]);
    if (this.halted(run)) return;
    setRunState(run, "SCHEDULED");
    await sleep(this.stepMs);
    if (this.halted(run)) return;
    await this.execute(run);
  }

  /** Runs spark-submit, uploading the logs while it runs and once more before the final state. */
  private async execute(run: RunRecord): Promise<void> {
    const exited = this.spawnDriver(run);
    run.startedAt = new Date();
    setRunState(run, "RUNNING");
    this.scheduleFlush(run);
    if (run.input.executionTimeoutMinutes > 0) {
      const minutes = run.input.executionTimeoutMinutes;
      const timedOut = () => run.state === "RUNNING" && this.cancel(run, `Job run exceeded its execution timeout of ${minutes} minutes`, DEFAULT_GRACE_SECONDS);
      run.timers.push(setTimeout(timedOut, minutes * 60_000));
    }
    const { code, error } = await exited;
    run.exitCode = code;
    run.timers.forEach(clearTimeout);
    // Whatever the driver left behind in its process group (a Python that ignored SIGTERM) goes too.
    if (run.child) killGroup(run.child, "SIGKILL");
    if (this.closed) return;
    // The driver's own output, from its container (the application's first) once YARN has aggregated it.
    if (run.yarnApplication) {
      for (const [container, files] of await aggregatedContainerLogs(this.spark.hadoop, run.yarnApplication)) {
        if (isFirstContainer(container)) run.driverLogs = { stdout: files.stdout ?? "", stderr: files.stderr ?? "" };
      }
    }
    await this.flushLogs(run);
    run.endedAt = new Date();
    if (run.state === "CANCELLING") setRunState(run, "CANCELLED", run.stateDetails);
    else if (code === 0) setRunState(run, "SUCCESS");
    else setRunState(run, "FAILED", failureDetails(run, code, error));
  }

  /** Starts spark-submit, collecting its output; settles with its exit code, or 127 and the error if it could not start. */
  private spawnDriver(run: RunRecord): Promise<{ code: number; error?: Error }> {
    let child: ChildProcess;
    try {
      child = startClusterSpark(run.args, this.spark);
    } catch (e) {
      return Promise.resolve({ code: 127, error: e instanceof Error ? e : new Error(String(e)) });
    }
    run.child = child;
    const seen = (chunk: Buffer) => {
      run.yarnApplication ??= applicationOf(Buffer.concat([...run.stderr, ...run.stdout]).toString("utf8"));
      // A cancel that came before YARN named the application reaches it now.
      if (run.yarnApplication && run.state === "CANCELLING") void killApplication(this.spark.hadoop, run.yarnApplication);
      return chunk;
    };
    child.stdout!.on("data", (chunk: Buffer) => run.stdout.push(seen(chunk)));
    child.stderr!.on("data", (chunk: Buffer) => run.stderr.push(seen(chunk)));
    return new Promise((resolve) => {
      child.once("error", (error) => resolve({ code: 127, error }));
      child.once("close", (code, signal) => resolve({ code: exitCodeOf(code, signal) }));
    });
  }

  // --- CancelJobRun --------------------------------------------------------------------------

  private cancelJobRun(run: RunRecord, query: URLSearchParams) {
    const grace = query.has("shutdownGracePeriodInSeconds")
      ? checkInteger(Number(query.get("shutdownGracePeriodInSeconds")), "shutdownGracePeriodInSeconds", 0, 1800)!
      : DEFAULT_GRACE_SECONDS;
    if (FINAL_STATES.has(run.state)) throw validation(`Job run ${run.id} is in ${run.state} state and cannot be cancelled`);
    if (run.state !== "CANCELLING") this.cancel(run, "Job run cancelled by user", grace);
    return { applicationId: run.applicationId, jobRunId: run.id };
  }

  /**
   * A running driver gets SIGTERM on its whole process group (SIGKILL after the grace period) and
   * the run becomes CANCELLED when it exits; a run that has not started yet is just dropped.
   */
  private cancel(run: RunRecord, details: string, graceSeconds: number): void {
    setRunState(run, "CANCELLING", details);
    const child = run.child;
    // The driver runs in YARN: the service stops its application, then the client that waits on it.
    if (run.yarnApplication) void killApplication(this.spark.hadoop, run.yarnApplication);
    if (child) {
      killGroup(child, "SIGTERM");
      run.timers.push(setTimeout(() => killGroup(child, "SIGKILL"), graceSeconds * 1000));
      return;
    }
    const cancelled = () => {
      run.endedAt = new Date();
      setRunState(run, "CANCELLED", details);
    };
    run.timers.push(setTimeout(cancelled, this.stepMs));
  }

  // --- Logs ----------------------------------------------------------------------------------

  private scheduleFlush(run: RunRecord): void {
    run.timers.push(
      setTimeout(async () => {
        await this.flushLogs(run);
        if (run.exitCode === undefined && !this.closed) this.scheduleFlush(run);
      }, this.flushMs),
    );
  }

  /** Uploads everything the driver has written so far; uploads of one run never overlap. */
  private flushLogs(run: RunRecord): Promise<void> {
    if (run.logUri === undefined) return Promise.resolve();
    run.flushing = run.flushing.then(() => this.uploadLogs(run));
    return run.flushing;
  }

  private async uploadLogs(run: RunRecord): Promise<void> {
    const { bucket, prefix } = parseLogUri(run.logUri!);
    const folder = `${prefix}applications/${run.applicationId}/jobs/${run.id}/SPARK_DRIVER`;
    try {
      // The driver's output once its container's logs are there; until then (and for a driver that
      // never started) what the service itself saw of the submission.
      const logs = run.driverLogs
        ? [["stdout.gz", Buffer.from(run.driverLogs.stdout)], ["stderr.gz", Buffer.from(run.driverLogs.stderr)]] as const
        : [["stdout.gz", Buffer.concat(run.stdout)], ["stderr.gz", Buffer.concat(run.stderr)]] as const;
      for (const [name, body] of logs) {
        await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${folder}/${name}`, Body: gzipSync(body) }));
      }
    } catch (e) {
      run.logUploadError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }

  // --- Shutdown ------------------------------------------------------------------------------

  /** Kills every running driver (SIGTERM, SIGKILL after the grace period) and waits for the runs to end. */
  async close(): Promise<void> {
    this.closed = true;
    const runs = [...this.applications.values()].flatMap((r) => r.app.runs as RunRecord[]);
    for (const run of runs) {
      run.timers.forEach(clearTimeout);
      if (run.child && run.exitCode === undefined) {
        const child = run.child;
        killGroup(child, "SIGTERM");
        run.timers.push(setTimeout(() => killGroup(child, "SIGKILL"), DEFAULT_GRACE_SECONDS * 1000));
      }
    }
    await Promise.all(runs.map((r) => r.done));
    runs.forEach((r) => r.timers.forEach(clearTimeout));
    this.s3.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// State changes and the JSON the service answers with (timestamps are epoch seconds, restJson1's default).

function setApplicationState(app: FakeApplication, state: string): void {
  app.state = state;
  app.updatedAt = new Date();
}

function setRunState(run: FakeJobRun, state: string, details = ""): void {
  run.state = state;
  run.stateDetails = details;
  run.updatedAt = new Date();
}

function failureDetails(run: RunRecord, code: number, error: Error | undefined): string {
  if (error) return `Job failed: spark-submit could not start: ${error.message}`;
  // The driver's own output when its container ran, else the submission's (stderr last, so it wins).
  const output = run.driverLogs
    ? `${run.driverLogs.stdout}\n${run.driverLogs.stderr}`
    : `${Buffer.concat(run.stdout).toString("utf8")}\n${Buffer.concat(run.stderr).toString("utf8")}`;
  const exception = lastException(output);
  return `Job failed, please check complete logs in configured logging destination. ExitCode: ${code}.${exception ? ` Last few exceptions: ${exception}` : ""}`;
}

function applicationJson(app: FakeApplication) {
  return {
    applicationId: app.id,
    name: app.name,
    arn: app.arn,
    releaseLabel: RELEASE_LABEL,
    type: "Spark",
    state: app.state,
    createdAt: epochSeconds(app.createdAt),
    updatedAt: epochSeconds(app.updatedAt),
    autoStartConfiguration: { enabled: true },
    autoStopConfiguration: { enabled: true, idleTimeoutMinutes: 15 },
    architecture: "X86_64",
    tags: {},
  };
}

function jobRunJson(run: RunRecord) {
  const { input } = run;
  return {
    applicationId: run.applicationId,
    jobRunId: run.id,
    arn: run.arn,
    ...(run.name !== undefined ? { name: run.name } : {}),
    createdBy: CREATED_BY,
    createdAt: epochSeconds(run.createdAt),
    updatedAt: epochSeconds(run.updatedAt),
    executionRole: run.executionRole,
    state: run.state,
    stateDetails: run.stateDetails,
    releaseLabel: RELEASE_LABEL,
    jobDriver: input.jobDriver,
    ...(input.configurationOverrides !== undefined ? { configurationOverrides: input.configurationOverrides } : {}),
    tags: input.tags,
    executionTimeoutMinutes: input.executionTimeoutMinutes,
    mode: input.mode,
    attempt: 1,
    attemptCreatedAt: epochSeconds(run.createdAt),
    attemptUpdatedAt: epochSeconds(run.updatedAt),
    ...(run.startedAt ? { startedAt: epochSeconds(run.startedAt) } : {}),
    ...(run.endedAt ? { endedAt: epochSeconds(run.endedAt) } : {}),
    ...(run.startedAt && run.endedAt ? { totalExecutionDurationSeconds: Math.round((run.endedAt.getTime() - run.startedAt.getTime()) / 1000) } : {}),
  };
}

function jobRunSummaryJson(run: RunRecord) {
  return {
    applicationId: run.applicationId,
    id: run.id,
    ...(run.name !== undefined ? { name: run.name } : {}),
    arn: run.arn,
    createdBy: CREATED_BY,
    createdAt: epochSeconds(run.createdAt),
    updatedAt: epochSeconds(run.updatedAt),
    executionRole: run.executionRole,
    state: run.state,
    stateDetails: run.stateDetails,
    releaseLabel: RELEASE_LABEL,
    type: "Spark",
    mode: run.input.mode,
    attempt: 1,
    attemptCreatedAt: epochSeconds(run.createdAt),
    attemptUpdatedAt: epochSeconds(run.updatedAt),
  };
}

function queryTime(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw validation(`${name} ${JSON.stringify(value)} is not a timestamp`);
  return ms;
}

/** ListJobRuns: newest first, filtered by states, mode and creation time, in pages of maxResults (at most 50). */
function listJobRuns(app: FakeApplication, query: URLSearchParams) {
  const states = query.getAll("states");
  const unknown = states.find((s) => !JOB_RUN_STATES.has(s));
  if (unknown) throw validation(`${unknown} is not a job run state`);
  const after = queryTime(query, "createdAtAfter");
  const before = queryTime(query, "createdAtBefore");
  const mode = query.get("mode");
  const pageSize = query.has("maxResults") ? checkInteger(Number(query.get("maxResults")), "maxResults", 1, 50)! : 50;
  const start = query.has("nextToken") ? Number(Buffer.from(query.get("nextToken")!, "base64url").toString("utf8")) : 0;
  if (!Number.isInteger(start) || start < 0) throw validation("nextToken is not valid");
  const runs = (app.runs as RunRecord[])
    .filter((r) => !states.length || states.includes(r.state))
    .filter((r) => mode === null || r.input.mode === mode)
    .filter((r) => (after === undefined || r.createdAt.getTime() >= after) && (before === undefined || r.createdAt.getTime() <= before))
    .reverse();
  const page = runs.slice(start, start + pageSize);
  const next = start + pageSize < runs.length ? Buffer.from(String(start + pageSize)).toString("base64url") : undefined;
  return { jobRuns: page.map(jobRunSummaryJson), ...(next ? { nextToken: next } : {}) };
}

function parseLogUri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3[an]?:\/\/([^/]+)\/?(.*)$/.exec(uri)!;
  const key = m[2]!.replace(/\/+$/, "");
  return { bucket: m[1]!, prefix: key ? `${key}/` : "" };
}

function s3Client(env: Record<string, string>): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? REGION,
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
  });
}

export async function startEmrServerlessServer(options: EmrServerlessServerOptions): Promise<EmrServerlessServer> {
  const service = new EmrServerless(options, await clusterSpark({ s3Env: options.s3Env, hadoop: options.hadoop }));
  const server = createServer((req, res) => void service.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    addApplication: (a) => service.addApplication(a),
    application: (id) => service.application(id),
    requests: service.requests,
    throttleNext: (n, operation) => service.throttleNext(n, operation),
    failAfterAcceptNext: (n, operation, how) => service.failAfterAcceptNext(n, operation, how),
    stop: async () => {
      await service.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
