/**
 * EmrBackend and EmrServerlessBackend against in-memory SDK clients (no network, no real time):
 * what each submit asks and sends, in which order; that a retried submit follows the step or job
 * run already there instead of starting a second one; that a dead cluster or application is
 * refused; how engine states map to RunStatus; what cancel sends; how a failure is explained from
 * the logs; and which SparkjobsError kind each AWS error becomes.
 */
import { gzipSync } from "node:zlib";
import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  DescribeClusterCommand,
  DescribeStepCommand,
  InvalidRequestException,
  ListClustersCommand,
  ListStepsCommand,
  RunJobFlowCommand,
  type EMRClient,
} from "@aws-sdk/client-emr";
import {
  CancelJobRunCommand,
  ConflictException,
  GetApplicationCommand,
  GetJobRunCommand,
  ResourceNotFoundException,
  StartJobRunCommand,
  ValidationException,
  type EMRServerlessClient,
} from "@aws-sdk/client-emr-serverless";
import { describe, expect, test } from "vitest";
import type { RunPlan, TransientCluster } from "../../schemas/src/index.js";
import { EmrBackend, type EmrBackendOptions } from "../../submitter/src/backends/emr.js";
import { EmrServerlessBackend, type EmrServerlessBackendOptions } from "../../submitter/src/backends/emr-serverless.js";
import type { Submission } from "../../submitter/src/backends/types.js";
import { SparkjobsError } from "../../submitter/src/errors.js";
import type { Staged } from "../../submitter/src/stage/stage.js";
import type { Storage } from "../../submitter/src/stage/storage.js";
import type { Clock } from "../../submitter/src/wait/poll.js";

const RUN_ID = "seg-20260101T000000Z-abc123";
const plan = (sparkConf: Record<string, string> = { "spark.sql.session.timeZone": "UTC" }, runId = RUN_ID) =>
  ({ runId, job: { name: "customer-segmentation", version: 1, file: "x.yaml" }, sparkConf }) as unknown as RunPlan;
const staged: Staged = {
  planUri: "s3://lake/sj/stage/plans/aa.json",
  planSha256: "aa",
  runnerUri: "s3://lake/sj/stage/code/0123456789abcdef/runner.py",
  pyFilesUri: "s3://lake/sj/stage/code/0123456789abcdef/sparkjobs_runner.zip",
  uploaded: [],
};
const STEP_NAME = `sparkjobs customer-segmentation ${RUN_ID}`;
const SPARK_SUBMIT_ARGS = [
  "spark-submit", "--deploy-mode", "cluster", "--name", `sparkjobs-customer-segmentation-${RUN_ID}`,
  "--conf", "spark.sql.session.timeZone=UTC",
  "--py-files", staged.pyFilesUri, staged.runnerUri, "--plan", staged.planUri,
];

class FakeClock implements Clock {
  readonly start = 1_000_000;
  t = this.start;
  now() {
    return this.t;
  }
  async sleep(ms: number) {
    this.t += ms;
  }
  get elapsed() {
    return this.t - this.start;
  }
}

/** Objects by URI; .gz objects are stored gzipped, as EMR writes them. */
class FakeStorage implements Storage {
  readonly files = new Map<string, Buffer>();
  readonly reads: string[] = [];
  add(uri: string, text: string) {
    this.files.set(uri, uri.endsWith(".gz") ? gzipSync(text) : Buffer.from(text));
  }
  async readBytes(uri: string) {
    this.reads.push(uri);
    return this.files.get(uri);
  }
  async readText(uri: string) {
    return (await this.readBytes(uri))?.toString("utf8");
  }
  async list(uri: string) {
    const prefix = `${uri.replace(/\/+$/, "")}/`;
    const names = [...this.files.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split("/")[0]!);
    return [...new Set(names)].sort();
  }
  async put(uri: string, body: Buffer | string) {
    this.files.set(uri, Buffer.from(body));
  }
  async putIfAbsent(uri: string, body: Buffer | string) {
    if (this.files.has(uri)) return false;
    this.files.set(uri, Buffer.from(body));
    return true;
  }
  async delete(uri: string) {
    this.files.delete(uri);
  }
  async size(uri: string) {
    return this.files.get(uri)?.length;
  }
  listFiles(): never {
    throw new Error("not used by the backends");
  }
  open(): never {
    throw new Error("not used by the backends");
  }
}

interface Call {
  command: string;
  input: any;
}

/** An SDK client stand-in: records every command, throws what a test asks for, else answers from its state. */
abstract class FakeClient {
  readonly calls: Call[] = [];
  /** Command name -> the error the next calls of it throw. */
  readonly failures = new Map<string, Error>();
  async send(command: { input: any }): Promise<any> {
    const name = command.constructor.name;
    this.calls.push({ command: name, input: structuredClone(command.input) });
    if (this.calls.length > 200) throw new Error("more than 200 calls: a loop that never ends");
    const failure = this.failures.get(name);
    if (failure) throw failure;
    return this.answer(command);
  }
  protected abstract answer(command: { input: any }): unknown;
  get order() {
    return this.calls.map((c) => c.command);
  }
  inputs(command: string) {
    return this.calls.filter((c) => c.command === command).map((c) => c.input);
  }
}

function page<T>(items: T[], marker: string | undefined, size: number): { items: T[]; Marker?: string } {
  const start = marker === undefined ? 0 : Number(marker);
  const end = start + size;
  return { items: items.slice(start, end), ...(end < items.length ? { Marker: String(end) } : {}) };
}

interface FakeStep {
  Id: string;
  Name: string;
  Status: { State: string; FailureDetails?: { Reason?: string; Message?: string }; StateChangeReason?: { Message?: string } };
}
interface FakeCluster {
  Id: string;
  Name: string;
  Status: { State: string; StateChangeReason?: { Code?: string; Message?: string } };
  LogUri?: string;
  steps: FakeStep[];
}

/** The EMR control plane as ListSteps and ListClusters see it: state filters, newest step first, pages of `pageSize`. */
class FakeEmr extends FakeClient {
  readonly clusters: FakeCluster[] = [];
  pageSize = 50;
  private nextStep = 1;
  private nextCluster = 1;

  cluster(id: string, state = "WAITING", logUri: string | null = "s3n://logs/emr/"): FakeCluster {
    const c: FakeCluster = { Id: id, Name: `cluster ${id}`, Status: { State: state }, ...(logUri ? { LogUri: logUri } : {}), steps: [] };
    this.clusters.push(c);
    return c;
  }
  step(cluster: FakeCluster, name: string, state: string): FakeStep {
    const s: FakeStep = { Id: `s-${this.nextStep++}`, Name: name, Status: { State: state } };
    cluster.steps.push(s);
    return s;
  }
  private find(id: string): FakeCluster {
    const c = this.clusters.find((x) => x.Id === id);
    if (!c) throw new InvalidRequestException({ message: `Cluster id '${id}' is not valid.`, $metadata: { httpStatusCode: 400 } });
    return c;
  }
  protected answer(command: { input: any }): unknown {
    const input = command.input;
    if (command instanceof DescribeClusterCommand) {
      const { steps: _, ...cluster } = this.find(input.ClusterId);
      return { Cluster: cluster };
    }
    if (command instanceof ListStepsCommand) {
      const c = this.find(input.ClusterId);
      const matching = c.steps.filter((s) => !input.StepStates || input.StepStates.includes(s.Status.State)).reverse();
      const { items, Marker } = page(matching, input.Marker, this.pageSize);
      return { Steps: items, ...(Marker ? { Marker } : {}) };
    }
    if (command instanceof AddJobFlowStepsCommand) {
      const c = this.find(input.JobFlowId);
      return { StepIds: input.Steps.map((s: { Name: string }) => this.step(c, s.Name, "PENDING").Id) };
    }
    if (command instanceof DescribeStepCommand) {
      const step = this.find(input.ClusterId).steps.find((s) => s.Id === input.StepId);
      if (!step) throw new InvalidRequestException({ message: `Step id '${input.StepId}' is not valid.`, $metadata: { httpStatusCode: 400 } });
      return { Step: step };
    }
    if (command instanceof CancelStepsCommand) {
      this.find(input.ClusterId);
      return { CancelStepsInfoList: input.StepIds.map((id: string) => ({ StepId: id, Status: "SUBMITTED" })) };
    }
    if (command instanceof ListClustersCommand) {
      const matching = this.clusters.filter((c) => !input.ClusterStates || input.ClusterStates.includes(c.Status.State));
      const { items, Marker } = page(matching, input.Marker, this.pageSize);
      return { Clusters: items.map(({ steps: _, ...c }) => c), ...(Marker ? { Marker } : {}) };
    }
    if (command instanceof RunJobFlowCommand) {
      const c = this.cluster(`j-NEW${this.nextCluster++}`, "STARTING", input.LogUri);
      c.Name = input.Name;
      for (const s of input.Steps ?? []) this.step(c, s.Name, "PENDING");
      return { JobFlowId: c.Id, ClusterArn: `arn:aws:elasticmapreduce:eu-west-1:123456789012:cluster/${c.Id}` };
    }
    throw new Error(`FakeEmr does not answer ${command.constructor.name}`);
  }
}

interface FakeJobRun {
  jobRunId: string;
  clientToken: string;
  fingerprint: string;
  state: string;
  stateDetails?: string;
}

/** EMR Serverless as StartJobRun's clientToken works: the same token and request is the same job run; another request under it is a ConflictException. */
class FakeEmrServerless extends FakeClient {
  application: { applicationId: string; state: string; stateDetails?: string } = { applicationId: "00app", state: "STARTED" };
  readonly runs: FakeJobRun[] = [];
  private next = 1;
  protected answer(command: { input: any }): unknown {
    const input = command.input;
    const app = (id: string) => {
      if (id !== this.application.applicationId) throw new ResourceNotFoundException({ message: `Application ${id} does not exist`, $metadata: { httpStatusCode: 404 } });
      return this.application;
    };
    const run = (id: string) => {
      const r = this.runs.find((x) => x.jobRunId === id);
      if (!r) throw new ResourceNotFoundException({ message: `Job run ${id} does not exist`, $metadata: { httpStatusCode: 404 } });
      return r;
    };
    if (command instanceof GetApplicationCommand) return { application: { ...app(input.applicationId) } };
    if (command instanceof StartJobRunCommand) {
      app(input.applicationId);
      const fingerprint = JSON.stringify({ ...input, clientToken: undefined });
      const earlier = this.runs.find((r) => r.clientToken === input.clientToken);
      if (earlier) {
        if (earlier.fingerprint !== fingerprint) {
          throw new ConflictException({ message: `clientToken ${input.clientToken} was already used with different parameters`, $metadata: { httpStatusCode: 409 } });
        }
        return { applicationId: input.applicationId, jobRunId: earlier.jobRunId };
      }
      const r: FakeJobRun = { jobRunId: `jr-${this.next++}`, clientToken: input.clientToken, fingerprint, state: "SUBMITTED" };
      this.runs.push(r);
      return { applicationId: input.applicationId, jobRunId: r.jobRunId };
    }
    if (command instanceof GetJobRunCommand) {
      app(input.applicationId);
      const { jobRunId, state, stateDetails } = run(input.jobRunId);
      return { jobRun: { applicationId: input.applicationId, jobRunId, state, ...(stateDetails ? { stateDetails } : {}) } };
    }
    if (command instanceof CancelJobRunCommand) {
      app(input.applicationId);
      run(input.jobRunId).state = "CANCELLING";
      return { applicationId: input.applicationId, jobRunId: input.jobRunId };
    }
    throw new Error(`FakeEmrServerless does not answer ${command.constructor.name}`);
  }
  tokens() {
    return this.inputs("StartJobRunCommand").map((i) => i.clientToken);
  }
}

/** An SDK error as the SDK throws it: a name, a message and the HTTP status. */
const sdkError = (name: string, status: number | undefined, message = `${name} happened`) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, attempts: 3 } });

async function failure(p: Promise<unknown>): Promise<SparkjobsError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(SparkjobsError);
  return e as SparkjobsError;
}

function emr(options: Partial<EmrBackendOptions> = {}) {
  const client = new FakeEmr();
  const storage = new FakeStorage();
  const clock = new FakeClock();
  const logs: string[] = [];
  const backend = new EmrBackend({
    client: client as unknown as EMRClient,
    storage,
    clock,
    log: (m) => logs.push(m),
    ...(options.transient ? {} : { clusterId: "j-1" }),
    ...options,
  });
  return { client, storage, clock, logs, backend };
}

const transient: TransientCluster = {
  releaseLabel: "emr-7.9.0",
  logUri: "s3://logs/emr/",
  serviceRole: "EMR_DefaultRole",
  jobFlowRole: "EMR_EC2_DefaultRole",
  primaryInstanceType: "m5.xlarge",
  coreInstanceType: "m5.2xlarge",
  coreInstanceCount: 2,
};

describe("EmrBackend submit on a running cluster", () => {
  test("a submit describes the cluster, asks ListSteps for the run's active step, then adds the spark-submit step with the runtime role", async () => {
    const { client, backend } = emr({ executionRoleArn: "arn:aws:iam::123456789012:role/step" });
    client.cluster("j-1");
    const submission = await backend.submit(plan(), staged);
    expect(client.order).toEqual(["DescribeClusterCommand", "ListStepsCommand", "AddJobFlowStepsCommand"]);
    expect(client.inputs("DescribeClusterCommand")).toEqual([{ ClusterId: "j-1" }]);
    expect(client.inputs("ListStepsCommand")).toEqual([{ ClusterId: "j-1", StepStates: ["PENDING", "RUNNING", "CANCEL_PENDING"] }]);
    expect(client.inputs("AddJobFlowStepsCommand")).toEqual([
      {
        JobFlowId: "j-1",
        ExecutionRoleArn: "arn:aws:iam::123456789012:role/step",
        Steps: [{ Name: STEP_NAME, ActionOnFailure: "CONTINUE", HadoopJarStep: { Jar: "command-runner.jar", Args: SPARK_SUBMIT_ARGS } }],
      },
    ]);
    expect(submission).toEqual({ runId: RUN_ID, engineId: "j-1/s-1", logLocation: "s3://logs/emr/j-1/steps/s-1/" });
  });

  test("without a runtime role the step is added without ExecutionRoleArn; a cluster without a LogUri says where to look instead", async () => {
    const { client, backend } = emr();
    client.cluster("j-1", "RUNNING", null);
    const submission = await backend.submit(plan(), staged);
    expect(client.inputs("AddJobFlowStepsCommand")[0]).not.toHaveProperty("ExecutionRoleArn");
    expect(submission).toEqual({ runId: RUN_ID, engineId: "j-1/s-1", logLocation: "cluster j-1 has no LogUri: see the step in the EMR console" });
  });

  test.each(["PENDING", "RUNNING", "CANCEL_PENDING"])("a %s step of the same run is followed, not added again", async (state) => {
    const { client, backend, logs } = emr();
    const c = client.cluster("j-1");
    client.step(c, "sparkjobs other-job other-run", "RUNNING");
    const existing = client.step(c, STEP_NAME, state);
    const submission = await backend.submit(plan(), staged);
    expect(client.order).toEqual(["DescribeClusterCommand", "ListStepsCommand"]);
    expect(submission.engineId).toBe(`j-1/${existing.Id}`);
    expect(c.steps).toHaveLength(2);
    expect(logs).toEqual([`step ${existing.Id} of run ${RUN_ID} is already on j-1 (${state}); following it instead of adding another`]);
  });

  test.each(["COMPLETED", "FAILED", "CANCELLED", "INTERRUPTED"])("a %s step of the same run on a long-running cluster is a finished attempt: the submit adds a new step", async (state) => {
    const { client, backend } = emr();
    const c = client.cluster("j-1");
    client.step(c, STEP_NAME, state);
    const submission = await backend.submit(plan(), staged);
    expect(client.order).toEqual(["DescribeClusterCommand", "ListStepsCommand", "AddJobFlowStepsCommand"]);
    expect(submission.engineId).toBe("j-1/s-2");
  });

  test("a running step of another run id or another job is not taken for this run's step", async () => {
    const { client, backend } = emr();
    const c = client.cluster("j-1");
    client.step(c, `${STEP_NAME}0`, "RUNNING");
    client.step(c, `sparkjobs customer-kpis ${RUN_ID}`, "RUNNING");
    client.step(c, `sparkjobs customer-segmentation ${RUN_ID.slice(0, -1)}`, "PENDING");
    const submission = await backend.submit(plan(), staged);
    expect(client.inputs("AddJobFlowStepsCommand")).toHaveLength(1);
    expect(submission.engineId).toBe("j-1/s-4");
  });

  test("ListSteps is read page by page (Marker) until the run's step is found, and that step is followed", async () => {
    const { client, backend } = emr();
    client.pageSize = 2;
    const c = client.cluster("j-1");
    const existing = client.step(c, STEP_NAME, "RUNNING");
    for (let i = 0; i < 5; i++) client.step(c, `sparkjobs other-job run-${i}`, "PENDING");
    const submission = await backend.submit(plan(), staged);
    expect(client.inputs("ListStepsCommand").map((i) => i.Marker)).toEqual([undefined, "2", "4"]);
    expect(client.inputs("AddJobFlowStepsCommand")).toEqual([]);
    expect(submission.engineId).toBe(`j-1/${existing.Id}`);
  });

  test("when no page holds the run's step, every page is read and then the step is added once", async () => {
    const { client, backend } = emr();
    client.pageSize = 2;
    const c = client.cluster("j-1");
    for (let i = 0; i < 3; i++) client.step(c, `sparkjobs other-job run-${i}`, "RUNNING");
    await backend.submit(plan(), staged);
    expect(client.order).toEqual(["DescribeClusterCommand", "ListStepsCommand", "ListStepsCommand", "AddJobFlowStepsCommand"]);
    expect(client.inputs("ListStepsCommand").map((i) => i.Marker)).toEqual([undefined, "2"]);
  });

  test("a TERMINATED cluster is refused with EMR's reason before any step is looked up or added", async () => {
    const { client, backend } = emr();
    client.cluster("j-1", "TERMINATED").Status.StateChangeReason = { Code: "USER_REQUEST", Message: "Terminated by user request" };
    const e = await failure(backend.submit(plan(), staged));
    expect([e.kind, e.exitCode]).toEqual(["environment", 9]);
    expect(e.message).toBe("EMR cluster j-1 is TERMINATED (USER_REQUEST: Terminated by user request): it takes no more steps");
    expect(e.fix).toContain("--cluster-id");
    expect(client.order).toEqual(["DescribeClusterCommand"]);
  });

  test.each(["TERMINATING", "TERMINATED_WITH_ERRORS"])("a %s cluster is refused too", async (state) => {
    const { client, backend } = emr();
    client.cluster("j-1", state);
    const e = await failure(backend.submit(plan(), staged));
    expect(e.message).toBe(`EMR cluster j-1 is ${state}: it takes no more steps`);
    expect(client.order).toEqual(["DescribeClusterCommand"]);
  });

  test("a cluster id EMR does not know is an environment error that says to check --cluster-id and AWS_REGION", async () => {
    const { client, backend } = emr({ clusterId: "j-NOPE" });
    client.cluster("j-1");
    const e = await failure(backend.submit(plan(), staged));
    expect(e.kind).toBe("environment");
    expect(e.message).toBe("EMR says: Cluster id 'j-NOPE' is not valid. (while describing cluster j-NOPE)");
    expect(e.fix).toContain("check --cluster-id and AWS_REGION");
  });

  test("refused credentials while adding the step are an access error (13) naming the endpoint and the call", async () => {
    const { client, backend } = emr({ endpoint: "http://127.0.0.1:4566" });
    client.cluster("j-1");
    client.failures.set("AddJobFlowStepsCommand", sdkError("AccessDeniedException", 400, "User is not authorized to perform elasticmapreduce:AddJobFlowSteps"));
    const e = await failure(backend.submit(plan(), staged));
    expect([e.kind, e.exitCode]).toEqual(["access", 13]);
    expect(e.message).toBe(
      "EMR at http://127.0.0.1:4566 refused the credentials while adding a step to j-1: AccessDeniedException (HTTP 400): User is not authorized to perform elasticmapreduce:AddJobFlowSteps",
    );
  });

  test("throttling and an unreachable endpoint while listing steps are worth retrying later (12)", async () => {
    const { client, backend } = emr();
    client.cluster("j-1");
    client.failures.set("ListStepsCommand", sdkError("ThrottlingException", 400, "Rate exceeded"));
    expect((await failure(backend.submit(plan(), staged))).kind).toBe("unreachable");
    client.failures.set("ListStepsCommand", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }));
    const e = await failure(backend.submit(plan(), staged));
    expect([e.kind, e.exitCode]).toEqual(["unreachable", 12]);
    expect(e.message).toContain("while listing the steps of j-1");
    expect(client.inputs("AddJobFlowStepsCommand")).toEqual([]);
  });

  test("a backend with neither a cluster id nor a transient cluster is a usage error", () => {
    expect(() => new EmrBackend({ client: new FakeEmr() as unknown as EMRClient, storage: new FakeStorage() })).toThrow(
      "the emr target needs --cluster-id <j-...> or --transient-cluster <file>",
    );
  });

  test("every plan gets one YARN application attempt, under the user's --conf", () => {
    expect(emr().backend.sparkConf()).toEqual({ "spark.yarn.maxAppAttempts": "1" });
    expect(emr({ conf: { "spark.executor.memory": "4g" } }).backend.sparkConf()).toEqual({ "spark.yarn.maxAppAttempts": "1", "spark.executor.memory": "4g" });
  });
});

describe("EmrBackend submit on a transient cluster", () => {
  test("with no cluster of the run, RunJobFlow starts one that carries the step, and that step is followed, not added again", async () => {
    const { client, backend } = emr({ transient: { ...transient, subnetId: "subnet-1", securityConfiguration: "runtime-roles" } });
    client.pageSize = 1;
    client.cluster("j-OTHER", "RUNNING");
    client.cluster("j-OLD", "TERMINATED").Name = `sparkjobs-${RUN_ID}`;
    const submission = await backend.submit(plan(), staged);
    expect(client.order).toEqual(["ListClustersCommand", "RunJobFlowCommand", "DescribeClusterCommand", "ListStepsCommand"]);
    expect(client.inputs("ListClustersCommand")).toEqual([{ ClusterStates: ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"] }]);
    expect(client.inputs("RunJobFlowCommand")).toEqual([
      {
        Name: `sparkjobs-${RUN_ID}`,
        ReleaseLabel: "emr-7.9.0",
        LogUri: "s3://logs/emr/",
        Applications: [{ Name: "Spark" }],
        ServiceRole: "EMR_DefaultRole",
        JobFlowRole: "EMR_EC2_DefaultRole",
        SecurityConfiguration: "runtime-roles",
        Instances: {
          KeepJobFlowAliveWhenNoSteps: false,
          InstanceGroups: [
            { InstanceRole: "MASTER", InstanceType: "m5.xlarge", InstanceCount: 1 },
            { InstanceRole: "CORE", InstanceType: "m5.2xlarge", InstanceCount: 2 },
          ],
          Ec2SubnetId: "subnet-1",
        },
        Steps: [{ Name: STEP_NAME, ActionOnFailure: "CONTINUE", HadoopJarStep: { Jar: "command-runner.jar", Args: SPARK_SUBMIT_ARGS } }],
        Tags: [{ Key: "sparkjobs:run-id", Value: RUN_ID }],
      },
    ]);
    expect(client.inputs("DescribeClusterCommand")).toEqual([{ ClusterId: "j-NEW1" }]);
    expect(client.inputs("ListStepsCommand")[0]).toMatchObject({ ClusterId: "j-NEW1" });
    expect(submission).toEqual({ runId: RUN_ID, engineId: "j-NEW1/s-1", logLocation: "s3://logs/emr/j-NEW1/steps/s-1/" });
  });

  test("a transient cluster without core nodes has only the primary instance group, and no subnet or security configuration unless given", async () => {
    const { client, backend } = emr({ transient: { ...transient, coreInstanceCount: 0 } });
    await backend.submit(plan(), staged);
    const request = client.inputs("RunJobFlowCommand")[0];
    expect(request.Instances).toEqual({ KeepJobFlowAliveWhenNoSteps: false, InstanceGroups: [{ InstanceRole: "MASTER", InstanceType: "m5.xlarge", InstanceCount: 1 }] });
    expect(request).not.toHaveProperty("SecurityConfiguration");
  });

  test.each(["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"])(
    "a retried submit finds the run's cluster through ListClusters pages and follows its %s step: no second cluster, no second step",
    async (state) => {
      const { client, backend, logs } = emr({ transient });
      client.pageSize = 2;
      client.cluster("j-A", "WAITING");
      client.cluster("j-B", "RUNNING");
      const mine = client.cluster("j-MINE", "RUNNING");
      mine.Name = `sparkjobs-${RUN_ID}`;
      const step = client.step(mine, STEP_NAME, state);
      const submission = await backend.submit(plan(), staged);
      expect(client.inputs("ListClustersCommand").map((i) => i.Marker)).toEqual([undefined, "2"]);
      expect(client.order).not.toContain("RunJobFlowCommand");
      expect(client.order).not.toContain("AddJobFlowStepsCommand");
      expect(client.inputs("ListStepsCommand")[0].StepStates).toEqual(expect.arrayContaining(["PENDING", "RUNNING", "CANCEL_PENDING", "COMPLETED", "FAILED", "CANCELLED"]));
      expect(submission.engineId).toBe(`j-MINE/${step.Id}`);
      expect(logs[0]).toBe(`transient cluster j-MINE of run ${RUN_ID} is already there (RUNNING); following it`);
    },
  );

  test("a transient cluster that is already ending is not refused: it ends with its step", async () => {
    const { client, backend } = emr({ transient });
    const mine = client.cluster("j-MINE", "RUNNING");
    mine.Name = `sparkjobs-${RUN_ID}`;
    const step = client.step(mine, STEP_NAME, "COMPLETED");
    const realAnswer = client.send.bind(client);
    client.send = async (command) => {
      const answer = await realAnswer(command);
      if (command instanceof ListClustersCommand) mine.Status.State = "TERMINATING";
      return answer;
    };
    expect((await backend.submit(plan(), staged)).engineId).toBe(`j-MINE/${step.Id}`);
  });
});

/** A backend that has submitted the run's step to j-1 (LogUri s3n://logs/emr/), and that step. */
async function submittedEmr(options: Partial<EmrBackendOptions> = {}) {
  const fake = emr(options);
  const cluster = fake.client.cluster("j-1");
  const submission = await fake.backend.submit(plan(), staged);
  fake.client.calls.length = 0;
  return { ...fake, submission, step: cluster.steps[0]! };
}

const APP = "application_1700000000000_0007";
const CONTAINERS = `s3://logs/emr/j-1/containers/${APP}`;
const runnerError = (message: string) => `SPARKJOBS_ERROR ${JSON.stringify({ exitCode: 4, message, fix: "look at the input" })}`;

describe("EmrBackend status, cancel and logs", () => {
  test.each([
    ["PENDING", "pending"],
    ["RUNNING", "running"],
    ["CANCEL_PENDING", "running"],
    ["COMPLETED", "succeeded"],
    ["CANCELLED", "cancelled"],
    ["FAILED", "failed"],
    ["INTERRUPTED", "failed"],
  ])("a %s step is a %s run, asked with DescribeStep for the submission's cluster and step", async (engineState, state) => {
    const { client, backend, step, submission } = await submittedEmr({ logWaitMs: 0 });
    step.Status.State = engineState;
    const status = await backend.status(submission);
    expect(status).toMatchObject({ state, engineState });
    expect(client.inputs("DescribeStepCommand")).toEqual([{ ClusterId: "j-1", StepId: step.Id }]);
  });

  test("a failed step reports EMR's reason, the runner's error from the first container's driver log, and the tail of the step's stderr", async () => {
    const { backend, storage, step, submission } = await submittedEmr();
    step.Status = { State: "FAILED", FailureDetails: { Reason: "Unknown error", Message: "Step failed with exitCode 1" } };
    const stderr = Array.from({ length: 30 }, (_, i) => `line ${i}`).concat(`INFO Client: Application report for ${APP} (state: FAILED)`).join("\n");
    storage.add(`s3://logs/emr/j-1/steps/${step.Id}/stderr.gz`, stderr);
    storage.add(`${CONTAINERS}/container_1700000000000_0007_01_000001/stdout.gz`, `starting\n${runnerError("column id is missing")}\n`);
    storage.add(`${CONTAINERS}/container_1700000000000_0007_01_000001/stderr.gz`, "WARN something\n");
    storage.add(`${CONTAINERS}/container_1700000000000_0007_01_000002/stdout.gz`, runnerError("an executor's line, not the driver's"));
    const status = await backend.status(submission);
    expect(status).toEqual({
      state: "failed",
      engineState: "FAILED",
      reason: "Unknown error: Step failed with exitCode 1",
      failure: { exitCode: 4, message: "column id is missing", fix: "look at the input" },
      logTail: `stderr of step ${step.Id} (s3://logs/emr/j-1/steps/${step.Id}/stderr.gz):\n${stderr.split("\n").slice(-20).join("\n")}`,
    });
  });

  test("container logs that arrive after the step's stderr are waited for within the same bound, so the runner's error (exit 4) is not missed", async () => {
    const { backend, clock, storage, step, submission } = await submittedEmr({ logWaitMs: 120_000 });
    step.Status = { State: "FAILED", FailureDetails: { Reason: "Unknown error" } };
    storage.add(`s3://logs/emr/j-1/steps/${step.Id}/stderr.gz`, `INFO Client: Application report for ${APP} (state: FAILED)`);
    const list = storage.list.bind(storage);
    // Log aggregation copies the containers' logs 40 s after the step's.
    storage.list = async (uri: string) => {
      if (clock.elapsed >= 40_000 && !storage.files.has(`${CONTAINERS}/container_1700000000000_0007_01_000001/stdout.gz`)) {
        storage.add(`${CONTAINERS}/container_1700000000000_0007_01_000001/stdout.gz`, `${runnerError("column id is missing")}\n`);
      }
      return list(uri);
    };
    const status = await backend.status(submission);
    expect(status.failure).toEqual({ exitCode: 4, message: "column id is missing", fix: "look at the input" });
    expect(clock.elapsed).toBeGreaterThanOrEqual(40_000);
    expect(clock.elapsed).toBeLessThan(120_000);
  });

  test("a failed step without failure details gives the state change reason", async () => {
    const { backend, step, submission } = await submittedEmr({ logWaitMs: 0 });
    step.Status = { State: "FAILED", StateChangeReason: { Message: "the cluster was terminated" } };
    expect((await backend.status(submission)).reason).toBe("the cluster was terminated");
  });

  test("step logs that EMR has not copied yet are waited for on the clock, 5 minutes by default, then reported missing", async () => {
    const { backend, clock, storage, step, submission } = await submittedEmr();
    step.Status.State = "FAILED";
    const status = await backend.status(submission);
    expect(clock.elapsed).toBe(300_000);
    expect(new Set(storage.reads)).toEqual(new Set([`s3://logs/emr/j-1/steps/${step.Id}/stderr.gz`]));
    expect(status).toEqual({
      state: "failed",
      engineState: "FAILED",
      reason: "no reason given",
      logTail: `the step's stderr is not at s3://logs/emr/j-1/steps/${step.Id}/stderr.gz yet; EMR copies step logs every few minutes`,
    });
    const shorter = await submittedEmr({ logWaitMs: 20_000 });
    shorter.step.Status.State = "FAILED";
    await shorter.backend.status(shorter.submission);
    expect(shorter.clock.elapsed).toBe(20_000);
  });

  test("cancel sends CancelSteps for the submission's cluster and step, as an interrupt", async () => {
    const { client, backend } = emr();
    client.cluster("j-7");
    await backend.cancel({ runId: RUN_ID, engineId: "j-7/s-42", logLocation: "x" });
    expect(client.calls).toEqual([{ command: "CancelStepsCommand", input: { ClusterId: "j-7", StepIds: ["s-42"], StepCancellationOption: "SEND_INTERRUPT" } }]);
  });

  test("an error while cancelling or describing a step becomes a SparkjobsError naming the step", async () => {
    const { client, backend, submission, step } = await submittedEmr();
    client.failures.set("CancelStepsCommand", sdkError("InternalServerError", 500));
    const e = await failure(backend.cancel(submission));
    expect(e.kind).toBe("unreachable");
    expect(e.message).toContain(`while cancelling step ${step.Id}`);
    client.failures.set("DescribeStepCommand", sdkError("ValidationException", 400));
    const d = await failure(backend.status(submission));
    expect(d.kind).toBe("environment");
    expect(d.message).toBe(`EMR answered ValidationException (HTTP 400): ValidationException happened while describing step ${step.Id}`);
  });

  test("logs are the last lines of the driver's log, or of the step's stderr when it names no application", async () => {
    const { backend, storage, step, submission } = await submittedEmr({ logWaitMs: 0 });
    storage.add(`s3://logs/emr/j-1/steps/${step.Id}/stderr.gz`, `submitting\ntracking ${APP}\n`);
    storage.add(`${CONTAINERS}/container_1700000000000_0007_01_000001/stderr.gz`, "err 1\nerr 2");
    storage.add(`${CONTAINERS}/container_1700000000000_0007_01_000001/stdout.gz`, "out 1\nout 2\n");
    expect(await backend.logs(submission, 3)).toBe("err 2\nout 1\nout 2");
    storage.add(`s3://logs/emr/j-1/steps/${step.Id}/stderr.gz`, "spark-submit: bad option\nexit 1\n");
    expect(await backend.logs(submission, 1)).toBe("exit 1");
  });
});

function serverless(options: Partial<EmrServerlessBackendOptions> = {}) {
  const client = new FakeEmrServerless();
  const storage = new FakeStorage();
  const clock = new FakeClock();
  const logs: string[] = [];
  const backend = new EmrServerlessBackend({
    client: client as unknown as EMRServerlessClient,
    storage,
    clock,
    applicationId: "00app",
    executionRoleArn: "arn:aws:iam::123456789012:role/job",
    logUri: "s3://logs/sls/",
    log: (m) => logs.push(m),
    ...options,
  });
  return { client, storage, clock, logs, backend };
}

const DRIVER = "s3://logs/sls/applications/00app/jobs/jr-1/SPARK_DRIVER/";

describe("EmrServerlessBackend submit", () => {
  test("a first submit checks the application, then starts a job run with the run id as clientToken, the role, the entry point, one parameter string and the log URI", async () => {
    const { client, backend, logs } = serverless();
    const submission = await backend.submit(plan({ "spark.sql.session.timeZone": "UTC", "spark.executor.memory": "4g" }), staged);
    expect(client.order).toEqual(["GetApplicationCommand", "StartJobRunCommand", "GetJobRunCommand"]);
    expect(client.inputs("GetApplicationCommand")).toEqual([{ applicationId: "00app" }]);
    expect(client.inputs("StartJobRunCommand")).toEqual([
      {
        applicationId: "00app",
        clientToken: RUN_ID,
        executionRoleArn: "arn:aws:iam::123456789012:role/job",
        name: STEP_NAME,
        jobDriver: {
          sparkSubmit: {
            entryPoint: staged.runnerUri,
            entryPointArguments: ["--plan", staged.planUri],
            sparkSubmitParameters: `--py-files ${staged.pyFilesUri} --conf spark.sql.session.timeZone=UTC --conf spark.executor.memory=4g`,
          },
        },
        configurationOverrides: { monitoringConfiguration: { s3MonitoringConfiguration: { logUri: "s3://logs/sls/" } } },
        tags: { "sparkjobs:run-id": RUN_ID, "sparkjobs:job": "customer-segmentation" },
      },
    ]);
    expect(client.inputs("GetJobRunCommand")).toEqual([{ applicationId: "00app", jobRunId: "jr-1" }]);
    expect(submission).toEqual({ runId: RUN_ID, engineId: "jr-1", logLocation: DRIVER });
    expect(logs).toEqual([]);
  });

  test("without a log URI there is no monitoring configuration, and the submission says where the driver log is instead", async () => {
    const { client, backend } = serverless({ logUri: undefined });
    const submission = await backend.submit(plan(), staged);
    expect(client.inputs("StartJobRunCommand")[0]).not.toHaveProperty("configurationOverrides");
    expect(submission.logLocation).toBe("no --log-uri: the driver log is only in EMR Studio");
  });

  test.each(["CREATED", "STARTED", "STOPPED"])("a %s application takes the job run (it starts on demand)", async (state) => {
    const { client, backend } = serverless();
    client.application.state = state;
    expect((await backend.submit(plan(), staged)).engineId).toBe("jr-1");
  });

  test.each(["TERMINATED", "STOPPING"])("a %s application is refused with its details, and no job run is started", async (state) => {
    const { client, backend } = serverless();
    client.application = { applicationId: "00app", state, stateDetails: "stopped by admin" };
    const e = await failure(backend.submit(plan(), staged));
    expect([e.kind, e.exitCode]).toEqual(["environment", 9]);
    expect(e.message).toBe(`EMR Serverless application 00app is ${state} (stopped by admin): it takes no job runs`);
    expect(client.order).toEqual(["GetApplicationCommand"]);
  });

  test.each(["SUBMITTED", "PENDING", "SCHEDULED", "QUEUED", "RUNNING", "SUCCESS"])(
    "a retried submit whose token already has a %s job run follows it: no second job run",
    async (state) => {
      const { client, backend, logs } = serverless();
      await backend.submit(plan(), staged);
      client.runs[0]!.state = state;
      const again = await backend.submit(plan(), staged);
      expect(again.engineId).toBe("jr-1");
      expect(client.tokens()).toEqual([RUN_ID, RUN_ID]);
      expect(client.runs).toHaveLength(1);
      if (state !== "SUBMITTED") expect(logs).toEqual([`job run jr-1 (token ${RUN_ID}) is ${state}; following it`]);
    },
  );

  test.each(["FAILED", "CANCELLED"])("a job run of the same plan that ended %s is not followed: the next job run gets the token _2.<run id>", async (state) => {
    const { client, backend, logs } = serverless();
    await backend.submit(plan(), staged);
    client.runs[0]!.state = state;
    const again = await backend.submit(plan(), staged);
    expect(client.tokens()).toEqual([RUN_ID, RUN_ID, `_2.${RUN_ID}`]);
    expect(again).toEqual({ runId: RUN_ID, engineId: "jr-2", logLocation: "s3://logs/sls/applications/00app/jobs/jr-2/SPARK_DRIVER/" });
    const [first, , second] = client.inputs("StartJobRunCommand");
    expect({ ...second, clientToken: RUN_ID }).toEqual(first);
    expect(logs).toEqual([`job run jr-2 (token _2.${RUN_ID}) is SUBMITTED; following it`]);
  });

  test("after two ended job runs the third gets _3.<run id>, and a retry of that submit follows it", async () => {
    const { client, backend } = serverless();
    await backend.submit(plan(), staged);
    client.runs[0]!.state = "FAILED";
    await backend.submit(plan(), staged);
    client.runs[1]!.state = "FAILED";
    expect((await backend.submit(plan(), staged)).engineId).toBe("jr-3");
    expect(client.runs.map((r) => r.clientToken)).toEqual([RUN_ID, `_2.${RUN_ID}`, `_3.${RUN_ID}`]);
    client.runs[2]!.state = "RUNNING";
    expect((await backend.submit(plan(), staged)).engineId).toBe("jr-3");
    expect(client.runs).toHaveLength(3);
  });

  test("a token taken by a job run of another plan (ConflictException) moves on to the next token", async () => {
    const { client, backend } = serverless();
    await backend.submit(plan(), staged);
    const other = await backend.submit(plan({ "spark.sql.session.timeZone": "Europe/Paris" }), staged);
    expect(client.tokens()).toEqual([RUN_ID, RUN_ID, `_2.${RUN_ID}`]);
    expect(other.engineId).toBe("jr-2");
  });

  test("a run id whose job runs ended nine times is a conflict that asks for a new run id", async () => {
    const { client, backend } = serverless();
    for (let i = 0; i < 9; i++) {
      await backend.submit(plan(), staged);
      client.runs[i]!.state = "FAILED";
    }
    client.calls.length = 0;
    const e = await failure(backend.submit(plan(), staged));
    expect([e.kind, e.exitCode, e.message, e.fix]).toEqual(["conflict", 11, `run id ${RUN_ID} has failed 9 times on EMR Serverless`, "use a new --run-id"]);
    expect(client.tokens()).toEqual([RUN_ID, ...[2, 3, 4, 5, 6, 7, 8, 9].map((n) => `_${n}.${RUN_ID}`)]);
  });

  test("an application still being created is an environment error, and no job run is started", async () => {
    const { client, backend } = serverless();
    client.application.state = "CREATING";
    const e = await failure(backend.submit(plan(), staged));
    expect([e.kind, e.exitCode, e.message]).toEqual(["environment", 9, "EMR Serverless application 00app is still being created: it takes job runs once it is CREATED"]);
    expect(client.tokens()).toEqual([]);
  });

  test("ConflictException for every token says so, with EMR Serverless's last words, not that the run failed nine times", async () => {
    const { client, backend } = serverless();
    client.failures.set("StartJobRunCommand", sdkError("ConflictException", 409, "Application is in a state that does not allow job runs"));
    const e = await failure(backend.submit(plan(), staged));
    expect([e.kind, e.exitCode]).toEqual(["conflict", 11]);
    expect(e.message).toBe(`EMR Serverless refused all 9 tokens of run id ${RUN_ID} (last: ConflictException: Application is in a state that does not allow job runs)`);
  });

  test("an application EMR Serverless does not know is an environment error that says to check --application-id", async () => {
    const { backend } = serverless({ applicationId: "00nope" });
    const e = await failure(backend.submit(plan(), staged));
    expect(e.kind).toBe("environment");
    expect(e.message).toBe("EMR Serverless says: Application 00nope does not exist (while looking up application 00nope)");
    expect(e.fix).toContain("--application-id");
  });

  test("a refused StartJobRun is an environment error that names the call; refused credentials are an access error (13)", async () => {
    const { client, backend } = serverless({ endpoint: "http://127.0.0.1:4566" });
    client.failures.set("StartJobRunCommand", new ValidationException({ message: "executionRoleArn is not valid", $metadata: { httpStatusCode: 400 } }));
    const e = await failure(backend.submit(plan(), staged));
    expect(e.kind).toBe("environment");
    expect(e.message).toBe("EMR Serverless refused the request while starting a job run on 00app: executionRoleArn is not valid");
    expect(client.tokens()).toEqual([RUN_ID]);
    client.failures.set("StartJobRunCommand", sdkError("AccessDeniedException", 403, "not authorized"));
    const a = await failure(backend.submit(plan(), staged));
    expect([a.kind, a.exitCode]).toEqual(["access", 13]);
    expect(a.message).toBe("EMR Serverless at http://127.0.0.1:4566 refused the credentials while starting a job run on 00app: AccessDeniedException (HTTP 403): not authorized");
  });

  test("throttling while reading the new job run is worth retrying later (12)", async () => {
    const { client, backend } = serverless();
    client.failures.set("GetJobRunCommand", sdkError("ThrottlingException", 429, "Rate exceeded"));
    const e = await failure(backend.submit(plan(), staged));
    expect([e.kind, e.exitCode]).toEqual(["unreachable", 12]);
    expect(e.message).toContain("while reading job run jr-1");
  });

  test("the backend adds no Spark settings of its own beyond the user's --conf", () => {
    expect(serverless().backend.sparkConf()).toEqual({});
    expect(serverless({ conf: { "spark.executor.memory": "4g" } }).backend.sparkConf()).toEqual({ "spark.executor.memory": "4g" });
  });
});

describe("EmrServerlessBackend status, cancel and logs", () => {
  async function submitted(options: Partial<EmrServerlessBackendOptions> = {}) {
    const fake = serverless(options);
    const submission = await fake.backend.submit(plan(), staged);
    fake.client.calls.length = 0;
    return { ...fake, submission, run: fake.client.runs[0]! };
  }

  test.each([
    ["SUBMITTED", "pending"],
    ["PENDING", "pending"],
    ["SCHEDULED", "pending"],
    ["QUEUED", "pending"],
    ["RUNNING", "running"],
    ["CANCELLING", "running"],
    ["SUCCESS", "succeeded"],
    ["CANCELLED", "cancelled"],
    ["FAILED", "failed"],
  ])("a %s job run is a %s run, asked with GetJobRun for the submission's job run", async (engineState, state) => {
    const { client, backend, run, submission } = await submitted({ logWaitMs: 0 });
    run.state = engineState;
    expect(await backend.status(submission)).toMatchObject({ state, engineState });
    expect(client.inputs("GetJobRunCommand")).toEqual([{ applicationId: "00app", jobRunId: "jr-1" }]);
  });

  test("a failed job run reports its state details, the runner's error from the driver log, and the log's tail", async () => {
    const { backend, storage, run, submission } = await submitted();
    run.state = "FAILED";
    run.stateDetails = "Job failed, please check complete logs in configured logging destination. ExitCode: 1.";
    storage.add(`${DRIVER}stdout.gz`, `Spark started\n${runnerError("no rows in transactions")}\n`);
    storage.add(`${DRIVER}stderr.gz`, "WARN NativeCodeLoader");
    expect(await backend.status(submission)).toEqual({
      state: "failed",
      engineState: "FAILED",
      reason: "Job failed, please check complete logs in configured logging destination. ExitCode: 1.",
      failure: { exitCode: 4, message: "no rows in transactions", fix: "look at the input" },
      logTail: `driver log (${DRIVER}stdout.gz, stderr.gz):\nWARN NativeCodeLoader\nSpark started\n${runnerError("no rows in transactions")}`,
    });
  });

  test("a driver log that never arrives is waited for on the clock, a minute by default, and the status says only what EMR Serverless said", async () => {
    const { backend, clock, run, submission } = await submitted();
    run.state = "FAILED";
    expect(await backend.status(submission)).toEqual({ state: "failed", engineState: "FAILED", reason: "no reason given" });
    expect(clock.elapsed).toBe(60_000);
  });

  test("cancel sends CancelJobRun for the application and the submission's job run", async () => {
    const { client, backend, run } = await submitted();
    await backend.cancel({ runId: RUN_ID, engineId: "jr-1", logLocation: DRIVER });
    expect(client.calls).toEqual([{ command: "CancelJobRunCommand", input: { applicationId: "00app", jobRunId: "jr-1" } }]);
    expect(run.state).toBe("CANCELLING");
  });

  test("cancelling a job run that does not exist is an environment error naming it", async () => {
    const { backend } = serverless();
    const e = await failure(backend.cancel({ runId: RUN_ID, engineId: "jr-404", logLocation: DRIVER }));
    expect(e.kind).toBe("environment");
    expect(e.message).toBe("EMR Serverless says: Job run jr-404 does not exist (while cancelling job run jr-404)");
  });

  test("logs are the last lines of the driver's stderr and stdout; without a log URI there are none and nothing is read", async () => {
    const { backend, storage, submission } = await submitted();
    storage.add(`${DRIVER}stderr.gz`, "err 1\nerr 2");
    storage.add(`${DRIVER}stdout.gz`, "out 1\nout 2\n");
    expect(await backend.logs(submission, 3)).toBe("err 2\nout 1\nout 2");
    const bare = await submitted({ logUri: undefined });
    const noLogs: Submission = bare.submission;
    expect(await bare.backend.logs(noLogs, 10)).toBe("");
    expect(bare.storage.reads).toEqual([]);
  });
});
