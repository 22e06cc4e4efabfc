/**
 * A loopback stand-in for the Amazon EMR control plane: an HTTP server speaking EMR's AWS JSON 1.1
 * protocol (service "ElasticMapReduce"), so the real @aws-sdk/client-emr talks to it unchanged.
 * Clusters and steps live in memory; every cluster's work goes to the one Hadoop mini cluster
 * of the tests. A step runs for real, its spark-submit arguments exactly as given, on that
 * cluster's YARN (cluster-spark.ts: the cluster's side is configuration only), one at a time per
 * cluster (StepConcurrencyLevel 1); CancelSteps kills its YARN application. Once it has ended
 * (after `logLagMs`; EMR pushes logs about every five minutes) its logs are put on the S3 server in
 * the layout EMR uses, the containers' from YARN's aggregated logs:
 *
 *   {LogUri}/{clusterId}/steps/{stepId}/{controller,syslog,stdout,stderr}.gz
 *   {LogUri}/{clusterId}/containers/application_{t}_{NNNN}/container_{t}_{NNNN}_01_000001/{stdout,stderr}.gz
 *
 * In cluster deploy mode the step's stderr is what the spark-submit client prints (application
 * reports, the final status) and the driver's own output is in the first YARN container, the
 * ApplicationMaster's; in client mode (spark-submit's default) the driver is the step itself. Only
 * spark-submit through command-runner.jar is emulated.
 */
import type { ChildProcess } from "node:child_process";
import { randomInt, randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { constants } from "node:os";
import { gzipSync } from "node:zlib";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { HadoopInfo } from "../servers/hadoop.js";
import { aggregatedContainerLogs, applicationOf, clusterSpark, killApplication, startClusterSpark, type ClusterSpark } from "./cluster-spark.js";

export interface EmrServerOptions {
  /** Environment of the S3 server (AWS_ENDPOINT_URL_S3, credentials, region): steps and logs use it. */
  s3Env: Record<string, string>;
  /** The only access key id accepted in the Authorization header (the signature is not checked). */
  accessKeyId: string;
  /** The Hadoop mini cluster every EMR cluster's steps run on. */
  hadoop: HadoopInfo;
  /** Time between a step's end and its logs appearing in S3 (default 0). */
  logLagMs?: number;
  /** How long a RunJobFlow cluster takes to start, and a terminating cluster to shut down (default 500). */
  startupMs?: number;
}

export interface StateChangeReason {
  Code?: string;
  Message?: string;
}

export interface FailureDetails {
  Reason: string;
  Message: string;
  LogFile?: string;
}

/** Times are epoch milliseconds; responses give them as epoch seconds. */
export interface FakeCluster {
  id: string;
  arn: string;
  name: string;
  state: string;
  stateChangeReason: StateChangeReason;
  /** As given; DescribeCluster answers it as s3n://bucket/prefix/. Without one, no logs are written. */
  logUri?: string;
  releaseLabel: string;
  /** True when the cluster ends after its last step (KeepJobFlowAliveWhenNoSteps false). */
  autoTerminate: boolean;
  createdAt: number;
  readyAt?: number;
  endedAt?: number;
  /** In the order they were added. */
  steps: FakeStep[];
  /** YARN applications submitted on the cluster so far. */
  applications: number;
}

export interface FakeStep {
  id: string;
  name: string;
  jar: string;
  args: string[];
  properties: Record<string, string>;
  actionOnFailure: string;
  state: string;
  failureDetails?: FailureDetails;
  executionRoleArn?: string;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  /** The YARN application the step submitted, once it started. */
  applicationId?: string;
  /** Exit code of the step's command (in cluster mode the spark-submit client's: 0 or 1), once it ended. */
  exitCode?: number;
  /** True once the step's logs are in S3. */
  logsUploaded: boolean;
}

/** How an answer is lost after the request was carried out: an HTTP 500, or a reset connection. */
export type LostAnswer = "error" | "reset";

export interface EmrServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** A cluster that already exists, WAITING unless said otherwise. */
  addCluster(c: { name?: string; state?: string; logUri: string; stateChangeReason?: { Code: string; Message: string } }): FakeCluster;
  cluster(id: string): FakeCluster | undefined;
  /** Every request, in order, with the HTTP status it was answered with. */
  requests: { operation: string; status: number }[];
  /** The next n requests (of that operation, if given) are answered 400 ThrottlingException. */
  throttleNext(n: number, operation?: string): void;
  /**
   * The next n requests (of that operation, if given) that succeed are carried out, but their
   * answer is lost: "error" answers HTTP 500 InternalServerError instead, "reset" closes the
   * connection without a word (recorded with status 0). A client cannot tell whether such a request
   * took effect.
   */
  failAfterAcceptNext(n: number, operation?: string, how?: LostAnswer): void;
  /** Kills running steps, drops logs not yet written, closes the server. */
  stop(): Promise<void>;
}

const JSON_11 = "application/x-amz-json-1.1";
const TARGET_PREFIX = "ElasticMapReduce.";
const ACCOUNT = "123456789012";
const RELEASE_LABEL = "emr-7.9.0";
const SPARK_VERSION = "3.5.5";
const PAGE_SIZE = 50;
const MAX_STEP_CHARS = 10_240;
const MAX_ACTIVE_STEPS = 256;
const KILL_GRACE_MS = 10_000;

const ACTIONS_ON_FAILURE = ["TERMINATE_JOB_FLOW", "TERMINATE_CLUSTER", "CANCEL_AND_WAIT", "CONTINUE"];
const STEP_STATES = ["PENDING", "CANCEL_PENDING", "RUNNING", "COMPLETED", "CANCELLED", "FAILED", "INTERRUPTED"];
const CLUSTER_STATES = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING", "TERMINATED", "TERMINATED_WITH_ERRORS"];
const ENDING = new Set(["TERMINATING", "TERMINATED", "TERMINATED_WITH_ERRORS"]);
const READY = new Set(["RUNNING", "WAITING"]);
/** Steps whose process is alive. */
const ACTIVE_PROCESS = new Set(["RUNNING", "CANCEL_PENDING"]);

/** An error answered to the client as {"__type", "message"}. */
class EmrError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const invalidRequest = (message: string) => new EmrError("InvalidRequestException", message);
const validation = (message: string) => new EmrError("ValidationException", message);

/** A JSON request body; fields are checked where they are used. */
type Input = Record<string, unknown>;

interface StepConfigInput {
  Name?: string;
  ActionOnFailure?: string;
  HadoopJarStep?: { Jar?: string; Args?: string[]; MainClass?: string; Properties?: { Key?: string; Value?: string }[] };
}

/** A step's spark-submit while it runs. */
interface Run {
  child: ChildProcess;
  /** The YARN application, once spark-submit has printed it. */
  applicationId?: string;
  stdout: Buffer[];
  stderr: Buffer[];
  /** Resolves once the process has exited and the step has ended. */
  ended: Promise<void>;
}

/** The text of one log object, by key. */
type Logs = Map<string, string>;

const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const randomId = (prefix: string) => prefix + Array.from({ length: 13 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join("");

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/** log4j's default time format, as Spark and Hadoop print it: 26/01/31 12:00:00 (UTC here). */
function log4jTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(2, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)} ${iso.slice(11, 19)}`;
}


/** Where a log URI points: s3://, s3n:// and s3a:// name the same objects; the prefix ends with / unless empty. */
function s3Location(uri: string): { bucket: string; prefix: string } {
  const m = /^s3[an]?:\/\/([^/]+)\/?(.*)$/i.exec(uri);
  if (!m) throw validation(`The LogUri ${uri} is not a valid Amazon S3 location.`);
  const prefix = m[2]!.replace(/\/*$/, "");
  return { bucket: m[1]!, prefix: prefix ? `${prefix}/` : "" };
}

/** The LogUri as EMR answers it: s3n://bucket/prefix/. */
function displayLogUri(uri: string): string {
  const { bucket, prefix } = s3Location(uri);
  return `s3n://${bucket}/${prefix}`;
}

/** spark-submit runs the driver on the cluster only when asked; its default is client mode. */
function clusterDeployMode(args: readonly string[]): boolean {
  return args.some((a, i) => (a === "--deploy-mode" && args[i + 1] === "cluster") || a === "spark.submit.deployMode=cluster");
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? constants.signals[signal] : 0);
}

/** Signals a step's whole process group (spark-submit, its JVM, the Python workers); gone already is fine. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* the group has exited */
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseInput(body: string): Input {
  let input: unknown;
  try {
    input = body.trim() ? JSON.parse(body) : {};
  } catch {
    throw new EmrError("SerializationException", "Could not parse the request body as JSON.");
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw new EmrError("SerializationException", "The request body is not a JSON object.");
  return input as Input;
}

/** A required string member; `field` is its name as EMR's validation messages spell it. */
function requiredString(input: Input, member: string, field: string): string {
  const value = input[member];
  if (typeof value !== "string") throw validation(`1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  return value;
}

function stringList(input: Input, member: string): string[] | undefined {
  const value = input[member];
  return Array.isArray(value) ? value.map(String) : undefined;
}

function checkEnum(values: readonly string[] | undefined, allowed: readonly string[], field: string): void {
  const bad = values?.find((v) => !allowed.includes(v));
  if (bad !== undefined) {
    throw validation(`1 validation error detected: Value '${bad}' at '${field}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(", ")}]`);
  }
}

/** Pages of 50, newest first; the marker is the offset of the next page. */
function page<T>(items: T[], marker: unknown): { page: T[]; Marker?: string } {
  const start = marker === undefined ? 0 : Number(marker);
  if (!Number.isInteger(start) || start < 0) throw invalidRequest("Marker is not valid.");
  const end = start + PAGE_SIZE;
  return { page: items.slice(start, end), ...(end < items.length ? { Marker: String(end) } : {}) };
}

class FakeEmr {
  readonly clusters = new Map<string, FakeCluster>();
  readonly requests: { operation: string; status: number }[] = [];
  private readonly throttles: (string | undefined)[] = [];
  private readonly lostAnswers: { operation?: string; how: LostAnswer }[] = [];
  private readonly runs = new Map<FakeStep, Run>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly uploads = new Set<Promise<void>>();
  private readonly s3: S3Client;
  private readonly logLagMs: number;
  private readonly startupMs: number;
  private stopped = false;

  constructor(
    private readonly options: EmrServerOptions,
    private readonly spark: ClusterSpark,
  ) {
    this.logLagMs = options.logLagMs ?? 0;
    this.startupMs = options.startupMs ?? 500;
    const env = options.s3Env;
    this.s3 = new S3Client({
      region: env.AWS_REGION ?? "us-east-1",
      endpoint: env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL,
      forcePathStyle: true,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? "", secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "" },
    });
  }

  // ---- HTTP and the wire protocol ----

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    let status = 200;
    let payload: unknown;
    try {
      const body = await readBody(req);
      payload = this.answer(operation, req.headers, body);
      const lost = this.loseAnswer(operation);
      if (lost === "reset") {
        this.requests.push({ operation, status: 0 });
        req.socket.destroy();
        return;
      }
      if (lost === "error") throw new EmrError("InternalServerError", "An internal error occurred.", 500);
    } catch (e) {
      const error = e instanceof EmrError ? e : new EmrError("InternalServerError", e instanceof Error ? e.message : String(e), 500);
      status = error.status;
      payload = { __type: error.type, message: error.message };
    }
    this.requests.push({ operation, status });
    res.writeHead(status, { "content-type": JSON_11, "x-amzn-requestid": randomUUID() });
    res.end(JSON.stringify(payload));
  }

  private answer(operation: string, headers: IncomingHttpHeaders, body: string): object {
    const handler = this.operations[operation];
    if (!handler) throw new EmrError("UnknownOperationException", `Operation ${operation || "(none)"} is not supported by this EMR emulation.`);
    const region = this.authenticate(headers.authorization);
    this.throttle(operation);
    return handler(parseInput(body), region);
  }

  /** Checks the access key id of a SigV4 Authorization header and returns the region it was signed for. */
  private authenticate(authorization: string | undefined): string {
    if (!authorization) throw new EmrError("MissingAuthenticationTokenException", "Missing Authentication Token");
    const m = /Credential=([^/]+)\/[^/]+\/([^/]+)\//.exec(authorization);
    if (m?.[1] !== this.options.accessKeyId) throw new EmrError("UnrecognizedClientException", "The security token included in the request is invalid.");
    return m[2]!;
  }

  throttleNext(n: number, operation?: string): void {
    for (let i = 0; i < n; i++) this.throttles.push(operation);
  }

  failAfterAcceptNext(n: number, operation?: string, how: LostAnswer = "error"): void {
    for (let i = 0; i < n; i++) this.lostAnswers.push({ operation, how });
  }

  /** How the answer to a request that was carried out is lost, if it is. */
  private loseAnswer(operation: string): LostAnswer | undefined {
    const i = this.lostAnswers.findIndex((l) => l.operation === undefined || l.operation === operation);
    if (i < 0) return undefined;
    return this.lostAnswers.splice(i, 1)[0]!.how;
  }

  private throttle(operation: string): void {
    const i = this.throttles.findIndex((o) => o === undefined || o === operation);
    if (i < 0) return;
    this.throttles.splice(i, 1);
    throw new EmrError("ThrottlingException", "Rate exceeded");
  }

  private readonly operations: Record<string, (input: Input, region: string) => object> = {
    DescribeCluster: (input) => ({ Cluster: this.clusterJson(this.existingCluster(requiredString(input, "ClusterId", "clusterId"))) }),
    ListClusters: (input) => this.listClusters(input),
    RunJobFlow: (input, region) => this.runJobFlow(input, region),
    TerminateJobFlows: (input) => this.terminateJobFlows(input),
    AddJobFlowSteps: (input) => this.addJobFlowSteps(input),
    DescribeStep: (input) => this.describeStep(input),
    ListSteps: (input) => this.listSteps(input),
    CancelSteps: (input) => this.cancelSteps(input),
  };

  // ---- Clusters ----

  private existingCluster(id: string): FakeCluster {
    const cluster = this.clusters.get(id);
    if (!cluster) throw invalidRequest(`Cluster id '${id}' is not valid.`);
    return cluster;
  }

  newCluster(fields: { name: string; state: string; logUri?: string; autoTerminate: boolean; region: string; releaseLabel?: string }): FakeCluster {
    if (fields.logUri) s3Location(fields.logUri);
    let id = randomId("j-");
    while (this.clusters.has(id)) id = randomId("j-");
    const cluster: FakeCluster = {
      id,
      arn: `arn:aws:elasticmapreduce:${fields.region}:${ACCOUNT}:cluster/${id}`,
      name: fields.name,
      state: fields.state,
      stateChangeReason: {},
      ...(fields.logUri ? { logUri: fields.logUri } : {}),
      releaseLabel: fields.releaseLabel ?? RELEASE_LABEL,
      autoTerminate: fields.autoTerminate,
      createdAt: Date.now(),
      steps: [],
      applications: 0,
    };
    this.clusters.set(id, cluster);
    return cluster;
  }

  private clusterStatus(c: FakeCluster): object {
    return {
      State: c.state,
      StateChangeReason: c.stateChangeReason,
      Timeline: { CreationDateTime: seconds(c.createdAt), ReadyDateTime: seconds(c.readyAt), EndDateTime: seconds(c.endedAt) },
    };
  }

  private clusterJson(c: FakeCluster): object {
    return {
      Id: c.id,
      Name: c.name,
      Status: this.clusterStatus(c),
      ...(c.logUri ? { LogUri: displayLogUri(c.logUri) } : {}),
      ReleaseLabel: c.releaseLabel,
      StepConcurrencyLevel: 1,
      Applications: [{ Name: "Spark", Version: SPARK_VERSION }],
      AutoTerminate: c.autoTerminate,
      TerminationProtected: false,
      VisibleToAllUsers: true,
      NormalizedInstanceHours: 0,
      ClusterArn: c.arn,
    };
  }

  private listClusters(input: Input): object {
    const states = stringList(input, "ClusterStates");
    checkEnum(states, CLUSTER_STATES, "clusterStates");
    const after = typeof input.CreatedAfter === "number" ? input.CreatedAfter * 1000 : -Infinity;
    const before = typeof input.CreatedBefore === "number" ? input.CreatedBefore * 1000 : Infinity;
    const matching = [...this.clusters.values()]
      .filter((c) => (!states || states.includes(c.state)) && c.createdAt >= after && c.createdAt <= before)
      .reverse();
    const { page: clusters, Marker } = page(matching, input.Marker);
    return {
      Clusters: clusters.map((c) => ({ Id: c.id, Name: c.name, Status: this.clusterStatus(c), NormalizedInstanceHours: 0, ClusterArn: c.arn })),
      ...(Marker ? { Marker } : {}),
    };
  }

  /** A new cluster starts (STARTING, BOOTSTRAPPING), then runs the steps it was given. */
  private runJobFlow(input: Input, region: string): object {
    const name = requiredString(input, "Name", "name");
    const instances = input.Instances as { KeepJobFlowAliveWhenNoSteps?: boolean } | undefined;
    if (!instances) throw validation("1 validation error detected: Value null at 'instances' failed to satisfy constraint: Member must not be null");
    const logUri = typeof input.LogUri === "string" ? input.LogUri : undefined;
    const steps = this.validSteps((input.Steps as StepConfigInput[] | undefined) ?? []);
    const cluster = this.newCluster({
      name,
      state: "STARTING",
      logUri,
      autoTerminate: instances.KeepJobFlowAliveWhenNoSteps !== true,
      region,
      releaseLabel: typeof input.ReleaseLabel === "string" ? input.ReleaseLabel : undefined,
    });
    this.addSteps(cluster, steps, undefined);
    this.later(this.startupMs / 2, () => {
      if (cluster.state === "STARTING") cluster.state = "BOOTSTRAPPING";
    });
    this.later(this.startupMs, () => {
      if (cluster.state !== "STARTING" && cluster.state !== "BOOTSTRAPPING") return;
      cluster.readyAt = Date.now();
      cluster.state = "WAITING";
      this.runNext(cluster);
    });
    return { JobFlowId: cluster.id, ClusterArn: cluster.arn };
  }

  private terminateJobFlows(input: Input): object {
    const ids = stringList(input, "JobFlowIds");
    if (!ids) throw validation("1 validation error detected: Value null at 'jobFlowIds' failed to satisfy constraint: Member must not be null");
    const clusters = ids.map((id) => {
      const cluster = this.clusters.get(id);
      if (!cluster) throw validation(`Specified job flow ID not valid: ${id}`);
      return cluster;
    });
    for (const cluster of clusters) void this.terminate(cluster, "TERMINATED", { Code: "USER_REQUEST", Message: "Terminated by user request" });
    return {};
  }

  /**
   * TERMINATING: pending steps are cancelled, running ones killed (they end CANCELLED); once their
   * processes are gone and `startupMs` has passed, the cluster is in its final state.
   */
  private async terminate(cluster: FakeCluster, finalState: string, reason: StateChangeReason): Promise<void> {
    if (ENDING.has(cluster.state)) return;
    cluster.state = "TERMINATING";
    cluster.stateChangeReason = reason;
    this.cancelPending(cluster);
    const running = cluster.steps.flatMap((s) => {
      const run = this.runs.get(s);
      return run ? [run] : [];
    });
    for (const run of running) this.kill(run, "SIGTERM");
    await Promise.all(running.map((r) => r.ended));
    this.later(this.startupMs, () => {
      cluster.state = finalState;
      cluster.endedAt = Date.now();
    });
  }

  // ---- Steps: the API ----

  private existingStep(cluster: FakeCluster, id: string): FakeStep {
    const step = cluster.steps.find((s) => s.id === id);
    if (!step) throw invalidRequest(`Step id '${id}' is not valid.`);
    return step;
  }

  /** Checks steps as EMR does before adding any of them. */
  private validSteps(steps: StepConfigInput[]): StepConfigInput[] {
    steps.forEach((step, i) => {
      const field = `steps.${i + 1}.member`;
      const name = step.Name;
      const jar = step.HadoopJarStep?.Jar;
      const args = step.HadoopJarStep?.Args ?? [];
      if (name === undefined) throw validation(`1 validation error detected: Value null at '${field}.name' failed to satisfy constraint: Member must not be null`);
      if (jar === undefined) throw validation(`1 validation error detected: Value null at '${field}.hadoopJarStep.jar' failed to satisfy constraint: Member must not be null`);
      if (name.length > 256) throw validation(`1 validation error detected: Value '${name}' at '${field}.name' failed to satisfy constraint: Member must have length less than or equal to 256`);
      if (step.ActionOnFailure !== undefined) checkEnum([step.ActionOnFailure], ACTIONS_ON_FAILURE, `${field}.actionOnFailure`);
      if (jar !== "command-runner.jar" || args[0] !== "spark-submit") {
        throw validation(`This EMR emulation runs only spark-submit through command-runner.jar; step '${name}' has Jar '${jar}' and Args[0] '${args[0] ?? ""}'.`);
      }
      const chars = name.length + jar.length + args.join("").length;
      if (chars > MAX_STEP_CHARS) throw validation(`The step '${name}' is ${chars} characters long in all; the limit is ${MAX_STEP_CHARS}.`);
    });
    return steps;
  }

  private addSteps(cluster: FakeCluster, configs: StepConfigInput[], executionRoleArn: string | undefined): FakeStep[] {
    const taken = new Set([...this.clusters.values()].flatMap((c) => c.steps.map((s) => s.id)));
    return configs.map((config) => {
      let id = randomId("s-");
      while (taken.has(id)) id = randomId("s-");
      taken.add(id);
      const jarStep = config.HadoopJarStep!;
      const step: FakeStep = {
        id,
        name: config.Name!,
        jar: jarStep.Jar!,
        args: jarStep.Args ?? [],
        properties: Object.fromEntries((jarStep.Properties ?? []).map((p) => [p.Key ?? "", p.Value ?? ""])),
        actionOnFailure: config.ActionOnFailure ?? "TERMINATE_CLUSTER",
        state: "PENDING",
        ...(executionRoleArn ? { executionRoleArn } : {}),
        createdAt: Date.now(),
        logsUploaded: false,
      };
      cluster.steps.push(step);
      return step;
    });
  }

  private addJobFlowSteps(input: Input): object {
    const cluster = this.clusters.get(requiredString(input, "JobFlowId", "jobFlowId"));
    if (!cluster) throw validation("Specified job flow ID does not exist.");
    if (ENDING.has(cluster.state)) throw validation("A job flow that is shutting down, terminated, or finished may not be modified.");
    const configs = this.validSteps((input.Steps as StepConfigInput[] | undefined) ?? []);
    const active = cluster.steps.filter((s) => s.state === "PENDING" || ACTIVE_PROCESS.has(s.state)).length;
    if (active + configs.length > MAX_ACTIVE_STEPS) {
      throw validation("Maximum number of active steps(State = 'Running', 'Pending' or 'Cancel_Pending') for cluster exceeded.");
    }
    const executionRoleArn = typeof input.ExecutionRoleArn === "string" ? input.ExecutionRoleArn : undefined;
    const steps = this.addSteps(cluster, configs, executionRoleArn);
    this.runNext(cluster);
    return { StepIds: steps.map((s) => s.id) };
  }

  private stepStatus(s: FakeStep): object {
    return {
      State: s.state,
      StateChangeReason: {},
      ...(s.failureDetails ? { FailureDetails: s.failureDetails } : {}),
      Timeline: { CreationDateTime: seconds(s.createdAt), StartDateTime: seconds(s.startedAt), EndDateTime: seconds(s.endedAt) },
    };
  }

  private stepSummary(s: FakeStep): object {
    return {
      Id: s.id,
      Name: s.name,
      Config: { Jar: s.jar, Properties: s.properties, Args: s.args },
      ActionOnFailure: s.actionOnFailure,
      Status: this.stepStatus(s),
    };
  }

  private describeStep(input: Input): object {
    const cluster = this.existingCluster(requiredString(input, "ClusterId", "clusterId"));
    const step = this.existingStep(cluster, requiredString(input, "StepId", "stepId"));
    return { Step: { ...this.stepSummary(step), ...(step.executionRoleArn ? { ExecutionRoleArn: step.executionRoleArn } : {}) } };
  }

  private listSteps(input: Input): object {
    const cluster = this.existingCluster(requiredString(input, "ClusterId", "clusterId"));
    const states = stringList(input, "StepStates");
    const ids = stringList(input, "StepIds");
    checkEnum(states, STEP_STATES, "stepStates");
    if (ids && ids.length > 10) throw validation("A maximum of 10 step IDs can be specified.");
    const matching = cluster.steps.filter((s) => (!states || states.includes(s.state)) && (!ids || ids.includes(s.id))).reverse();
    const { page: steps, Marker } = page(matching, input.Marker);
    return { Steps: steps.map((s) => this.stepSummary(s)), ...(Marker ? { Marker } : {}) };
  }

  /** PENDING steps are cancelled at once, RUNNING ones get SIGTERM (TERMINATE_PROCESS: SIGKILL) and end CANCELLED. */
  private cancelSteps(input: Input): object {
    const cluster = this.existingCluster(requiredString(input, "ClusterId", "clusterId"));
    const ids = stringList(input, "StepIds");
    if (!ids) throw validation("1 validation error detected: Value null at 'stepIds' failed to satisfy constraint: Member must not be null");
    const option = typeof input.StepCancellationOption === "string" ? input.StepCancellationOption : "SEND_INTERRUPT";
    checkEnum([option], ["SEND_INTERRUPT", "TERMINATE_PROCESS"], "stepCancellationOption");
    const answers = ids.map((id) => {
      const step = cluster.steps.find((s) => s.id === id);
      if (!step) return { StepId: id, Status: "FAILED", Reason: `Step id '${id}' is not valid.` };
      if (step.state === "PENDING") {
        this.endPending(step);
      } else if (step.state === "RUNNING") {
        step.state = "CANCEL_PENDING";
        this.kill(this.runs.get(step)!, option === "TERMINATE_PROCESS" ? "SIGKILL" : "SIGTERM");
      } else if (step.state !== "CANCEL_PENDING") {
        return { StepId: id, Status: "FAILED", Reason: `Step ${id} is ${step.state} and cannot be cancelled.` };
      }
      return { StepId: id, Status: "SUBMITTED", Reason: "" };
    });
    this.runNext(cluster);
    return { CancelStepsInfoList: answers };
  }

  // ---- Steps: running them ----

  /** Starts the oldest pending step when the cluster is up and idle; an idle cluster waits or, if it auto-terminates, ends. */
  private runNext(cluster: FakeCluster): void {
    if (this.stopped || !READY.has(cluster.state)) return;
    if (cluster.steps.some((s) => ACTIVE_PROCESS.has(s.state))) return;
    const next = cluster.steps.find((s) => s.state === "PENDING");
    if (next) this.startStep(cluster, next);
    else if (cluster.autoTerminate) void this.terminate(cluster, "TERMINATED", { Code: "ALL_STEPS_COMPLETED", Message: "Steps completed" });
    else cluster.state = "WAITING";
  }

  private startStep(cluster: FakeCluster, step: FakeStep): void {
    cluster.state = "RUNNING";
    step.state = "RUNNING";
    step.startedAt = Date.now();
    cluster.applications++;
    const child = startClusterSpark(step.args.slice(1), this.spark);
    let resolveEnded!: () => void;
    const run: Run = { child, stdout: [], stderr: [], ended: new Promise((r) => (resolveEnded = r)) };
    this.runs.set(step, run);
    const seen = (d: Buffer) => {
      if (run.applicationId) return;
      run.applicationId = applicationOf(Buffer.concat([...run.stderr, ...run.stdout]).toString("utf8"));
      if (run.applicationId) {
        step.applicationId = run.applicationId;
        // Cancelled before YARN had accepted it: the application goes as soon as it is known.
        if (step.state === "CANCEL_PENDING" || this.stopped) void killApplication(this.spark.hadoop, run.applicationId);
      }
      void d;
    };
    child.stdout!.on("data", (d: Buffer) => {
      run.stdout.push(d);
      seen(d);
    });
    child.stderr!.on("data", (d: Buffer) => {
      run.stderr.push(d);
      seen(d);
    });
    let done = false;
    const end = (exitCode: number) => {
      if (done) return;
      done = true;
      this.runs.delete(step);
      this.finishStep(cluster, step, run, exitCode);
      resolveEnded();
    };
    child.on("error", (e) => {
      run.stderr.push(Buffer.from(`${e.message}\n`));
      end(127);
    });
    child.on("close", (code, signal) => end(exitCodeOf(code, signal)));
  }

  /**
   * The step's YARN application is killed (in cluster mode a signal to spark-submit would leave it
   * running); the spark-submit client gets SIGTERM, then SIGKILL if still there after 10 s.
   */
  private kill(run: Run, signal: NodeJS.Signals): void {
    if (run.applicationId) void killApplication(this.spark.hadoop, run.applicationId);
    signalGroup(run.child, signal);
    if (signal === "SIGTERM") {
      const timer = this.later(KILL_GRACE_MS, () => signalGroup(run.child, "SIGKILL"));
      void run.ended.then(() => this.cancelTimer(timer));
    }
  }

  /** A step's process has exited: its final state, its logs, and what the cluster does next. */
  private finishStep(cluster: FakeCluster, step: FakeStep, run: Run, exitCode: number): void {
    const cancelled = step.state === "CANCEL_PENDING" || cluster.state === "TERMINATING" || this.stopped;
    const clusterMode = clusterDeployMode(step.args);
    step.endedAt = Date.now();
    step.state = cancelled ? "CANCELLED" : exitCode === 0 ? "COMPLETED" : "FAILED";
    step.exitCode = clusterMode && !cancelled ? Math.min(exitCode, 1) : exitCode;
    const logs = this.stepLogs(cluster, step, run);
    if (step.state === "FAILED") step.failureDetails = this.failureDetails(cluster, step, logs);
    if (this.stopped) return;
    if (cluster.logUri) this.uploadLater(cluster.logUri, step, logs, cluster.id);
    if (cluster.state === "TERMINATING") return;
    if (step.state === "FAILED" && (step.actionOnFailure === "TERMINATE_CLUSTER" || step.actionOnFailure === "TERMINATE_JOB_FLOW")) {
      void this.terminate(cluster, "TERMINATED_WITH_ERRORS", { Code: "STEP_FAILURE", Message: "Shut down as step failed" });
      return;
    }
    if (step.state === "FAILED" && step.actionOnFailure === "CANCEL_AND_WAIT") this.cancelPending(cluster);
    this.runNext(cluster);
  }

  private endPending(step: FakeStep): void {
    step.state = "CANCELLED";
    step.endedAt = Date.now();
  }

  private cancelPending(cluster: FakeCluster): void {
    for (const step of cluster.steps) if (step.state === "PENDING") this.endPending(step);
  }

  /** EMR names the step's stderr and quotes the exception line it found there. */
  private failureDetails(cluster: FakeCluster, step: FakeStep, logs: Logs): FailureDetails {
    const stderrKey = [...logs.keys()].find((k) => k.endsWith(`/steps/${step.id}/stderr.gz`));
    const stderr = stderrKey ? logs.get(stderrKey)! : "";
    const exception = stderr
      .split("\n")
      .reverse()
      .find((l) => /^(Exception in thread|\S+(Exception|Error)\b)/.test(l));
    const location = cluster.logUri ? s3Location(cluster.logUri) : undefined;
    return {
      Reason: "Unknown Error.",
      Message: exception ?? `Step failed with exitCode ${step.exitCode}.`,
      ...(location ? { LogFile: `s3://${location.bucket}/${location.prefix}${cluster.id}/steps/${step.id}/stderr.gz` } : {}),
    };
  }

  // ---- Logs ----

  /** Every log object of a step that ran, keyed relative to the LogUri. */
  private stepLogs(cluster: FakeCluster, step: FakeStep, run: Run): Logs {
    const driverOut = Buffer.concat(run.stdout).toString("utf8");
    const driverErr = Buffer.concat(run.stderr).toString("utf8");
    const steps = `${cluster.id}/steps/${step.id}`;
    const trailer = step.state === "CANCELLED" ? "" : `Command exiting with ret '${step.exitCode}'\n`;
    const logs: Logs = new Map();
    logs.set(`${steps}/controller.gz`, this.controllerLog(cluster, step, run));
    logs.set(`${steps}/syslog.gz`, `${log4jTime(step.startedAt!)} INFO CommandRunner: Running spark-submit for step ${step.id}\n`);
    // What spark-submit printed: in cluster mode the YARN client's reports, in client mode the driver too.
    // The containers' logs (the driver's, in cluster mode) come later, from YARN's log aggregation.
    logs.set(`${steps}/stdout.gz`, driverOut);
    logs.set(`${steps}/stderr.gz`, driverErr + trailer);
    return logs;
  }

  /** What EMR's step runner logs about running the command. */
  private controllerLog(cluster: FakeCluster, step: FakeStep, run: Run): string {
    const iso = (ms: number) => new Date(ms).toISOString();
    const command = `hadoop jar /var/lib/aws/emr/step-runner/hadoop-jars/command-runner.jar ${step.args.join(" ")}`;
    const tookSeconds = Math.round((step.endedAt! - step.startedAt!) / 1000);
    const number = cluster.steps.indexOf(step) + 1;
    const ending =
      step.state === "COMPLETED"
        ? `INFO Step succeeded with exitCode 0 and took ${tookSeconds} seconds`
        : step.state === "CANCELLED"
          ? `INFO Step was cancelled and took ${tookSeconds} seconds`
          : `WARN Step failed with exitCode ${step.exitCode} and took ${tookSeconds} seconds`;
    return [
      `${iso(step.startedAt!)} INFO Ensure step ${number} jar file command-runner.jar`,
      `${iso(step.startedAt!)} INFO StepRunner: Created Runner for step ${number}`,
      `INFO startExec '${command}'`,
      `INFO redirectOutput to /mnt/var/log/hadoop/steps/${step.id}/stdout`,
      `INFO redirectError to /mnt/var/log/hadoop/steps/${step.id}/stderr`,
      `INFO Working dir /mnt/var/lib/hadoop/steps/${step.id}`,
      `INFO ProcessRunner started child process ${run.child.pid ?? 0}`,
      `${iso(step.startedAt!)} INFO HadoopJarStepRunner.Runner: startRun() called for ${step.id} Child Pid: ${run.child.pid ?? 0}`,
      `INFO Synchronously wait child process to complete : ${command.slice(0, 60)}...`,
      `INFO waitProcessCompletion ended with exit code ${step.exitCode} : ${command.slice(0, 60)}...`,
      `INFO total process run time: ${tookSeconds} seconds`,
      `${iso(step.endedAt!)} INFO Step created jobs: `,
      `${iso(step.endedAt!)} ${ending}`,
      "",
    ].join("\n");
  }

  /**
   * Puts a step's logs on S3 after the lag, with its YARN containers' logs once YARN has aggregated
   * them; a failed upload is reported, as EMR would leave the logs missing.
   */
  private uploadLater(logUri: string, step: FakeStep, logs: Logs, clusterId: string): void {
    const { bucket, prefix } = s3Location(logUri);
    this.later(this.logLagMs, () => {
      const upload = (async () => {
        const app = step.applicationId;
        if (app) {
          for (const [container, files] of await aggregatedContainerLogs(this.spark.hadoop, app)) {
            for (const [name, text] of Object.entries(files)) logs.set(`${clusterId}/containers/${app}/${container}/${name}.gz`, text);
          }
        }
        if (this.stopped) return;
        await Promise.all([...logs].map(([key, text]) => this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: gzipSync(text) }))));
      })().then(
        () => {
          step.logsUploaded = true;
        },
        (e: unknown) => console.error(`emr-server: the logs of ${step.id} could not be written to s3://${bucket}/${prefix}: ${String(e)}`),
      );
      this.uploads.add(upload);
      void upload.finally(() => this.uploads.delete(upload));
    });
  }

  // ---- Timers and shutdown ----

  /** A timer that stop() clears. */
  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private cancelTimer(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** Kills every running step (SIGTERM, SIGKILL after 10 s) and waits for logs already being written. */
  async stop(): Promise<void> {
    const running = [...this.runs.values()];
    for (const run of running) signalGroup(run.child, "SIGTERM");
    const killLate = setTimeout(() => running.forEach((r) => signalGroup(r.child, "SIGKILL")), KILL_GRACE_MS);
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(running.map((r) => r.ended));
    clearTimeout(killLate);
    await Promise.all(this.uploads);
    this.s3.destroy();
  }
}

export async function startEmrServer(options: EmrServerOptions): Promise<EmrServer> {
  const emr = new FakeEmr(options, await clusterSpark({ s3Env: options.s3Env, hadoop: options.hadoop }));
  const server = createServer((req, res) => void emr.serve(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests: emr.requests,
    addCluster: (c) => {
      const state = c.state ?? "WAITING";
      const cluster = emr.newCluster({ name: c.name ?? "sparkjobs-test", state, logUri: c.logUri, autoTerminate: false, region: "us-east-1" });
      cluster.stateChangeReason = c.stateChangeReason ?? {};
      if (READY.has(state) || ENDING.has(state)) cluster.readyAt = cluster.createdAt;
      if (state === "TERMINATED" || state === "TERMINATED_WITH_ERRORS") cluster.endedAt = cluster.createdAt;
      return cluster;
    },
    cluster: (id) => emr.clusters.get(id),
    throttleNext: (n, operation) => emr.throttleNext(n, operation),
    failAfterAcceptNext: (n, operation, how) => emr.failAfterAcceptNext(n, operation, how),
    stop: () =>
      (stopping ??= (async () => {
        await emr.stop();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })()),
  };
}
