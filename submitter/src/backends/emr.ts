/**
 * EMR on EC2: the run is a step on a cluster. The step is `command-runner.jar` with an argument
 * array for spark-submit in cluster deploy mode (built once as an array, never joined and split).
 *
 * AddJobFlowSteps has no idempotency token, so the step's name carries the run id and ListSteps
 * is asked first: a submit retried after a crash follows the step that is already there instead
 * of adding a second one. Step states map to RunStatus; on failure the runner's own error comes
 * from the driver's log (the first YARN container), found through the step's stderr, both under
 * the cluster's LogUri, which EMR fills a few minutes late: reading waits for them, bounded.
 */
import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  DescribeClusterCommand,
  DescribeStepCommand,
  ListClustersCommand,
  ListStepsCommand,
  RunJobFlowCommand,
  type EMRClient,
  type StepConfig,
  type StepState,
  type StepSummary,
} from "@aws-sdk/client-emr";
import type { RunPlan, TransientCluster } from "../../../schemas/src/index.js";
import { fromAwsError } from "../aws/errors.js";
import { SparkjobsError } from "../errors.js";
import { pythonEnvSubmitArgs } from "../stage/python-env.js";
import { runnerArgs, type Staged } from "../stage/stage.js";
import type { Storage } from "../stage/storage.js";
import { systemClock, type Clock } from "../wait/poll.js";
import { readLogWhenThere, s3LogUri, tail } from "./logs.js";
import { runnerFailureFrom, type Backend, type RunStatus, type Submission } from "./types.js";

/** All strings of one step together may not exceed this (EMR's limit). */
export const EMR_STEP_CHAR_LIMIT = 10_240;

export interface EmrBackendOptions {
  client: EMRClient;
  /** Reads the step and container logs under the cluster's LogUri. */
  storage: Storage;
  /** An existing cluster; or `transient` to start one for the run. */
  clusterId?: string;
  transient?: TransientCluster;
  /** Runtime role for the step (needs a security configuration that allows runtime roles). */
  executionRoleArn?: string;
  /** How long to wait for step logs to reach S3 after a failure (EMR copies them every ~5 minutes). */
  logWaitMs?: number;
  clock?: Clock;
  endpoint?: string;
  /** Extra Spark settings (--conf), merged into every plan under the job's own. */
  conf?: Record<string, string>;
  log?: (message: string) => void;
}

export function stepName(plan: RunPlan, session?: string): string {
  // A pipeline's session step is named for its session folder: a retried submit of its first run must not follow it.
  return session ? `sparkjobs session ${session.replace(/\/+$/, "").split("/").pop()}` : `sparkjobs ${plan.job.name} ${plan.runId}`;
}

/** The step: command-runner.jar running spark-submit in cluster deploy mode on YARN. */
export function emrStep(plan: RunPlan, staged: Staged): StepConfig {
  const name = stepName(plan, staged.session);
  const args = ["spark-submit", "--deploy-mode", "cluster", "--name", name.replaceAll(" ", "-")];
  for (const [k, v] of Object.entries(plan.sparkConf)) args.push("--conf", `${k}=${v}`);
  args.push(...pythonEnvSubmitArgs(staged.pythonEnv, true));
  args.push("--py-files", staged.pyFilesUri, staged.runnerUri, ...runnerArgs(staged));
  const step: StepConfig = { Name: name, ActionOnFailure: "CONTINUE", HadoopJarStep: { Jar: "command-runner.jar", Args: args } };
  const chars = [step.Name!, step.HadoopJarStep!.Jar!, ...args].reduce((n, s) => n + s.length, 0);
  if (chars > EMR_STEP_CHAR_LIMIT) {
    throw new SparkjobsError("definition", `the EMR step for run ${plan.runId} has ${chars} characters; EMR allows ${EMR_STEP_CHAR_LIMIT}`, {
      fix: "shorten the job's sparkConf values or the storage root; SQL and plans are staged, never inlined",
    });
  }
  return step;
}

const ACTIVE_STEP = new Set(["PENDING", "RUNNING", "CANCEL_PENDING"]);
const DEAD_CLUSTER = new Set(["TERMINATING", "TERMINATED", "TERMINATED_WITH_ERRORS"]);

export function runStateOfStep(state: string): RunStatus["state"] {
  switch (state) {
    case "PENDING":
      return "pending";
    case "RUNNING":
    case "CANCEL_PENDING":
      return "running";
    case "COMPLETED":
      return "succeeded";
    case "CANCELLED":
      return "cancelled";
    default: // FAILED, INTERRUPTED
      return "failed";
  }
}

export class EmrBackend implements Backend {
  readonly target = "emr";
  readonly shipsPythonEnv = true;
  private readonly clock: Clock;
  private readonly clusters = new Map<string, { clusterId: string; logUri?: string }>();

  constructor(private readonly options: EmrBackendOptions) {
    if (!options.clusterId && !options.transient) {
      throw new SparkjobsError("usage", "the emr target needs --cluster-id <j-...> or --transient-cluster <file>", {
        fix: "pass the id of a running cluster (terraform output emr_cluster_id), or a transient cluster definition",
      });
    }
    this.clock = options.clock ?? systemClock;
  }

  sparkConf(): Record<string, string> {
    // One driver attempt: a runner that failed on bad data must not be started again by YARN.
    return { "spark.yarn.maxAppAttempts": "1", ...this.options.conf };
  }

  private async send<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      const name = (e as Error).name;
      if (name === "InvalidRequestException" && /cluster/i.test((e as Error).message)) {
        throw new SparkjobsError("environment", `EMR says: ${(e as Error).message} (while ${what})`, {
          fix: "check --cluster-id and AWS_REGION: the cluster must exist in that region (aws emr list-clusters --active)",
        });
      }
      throw fromAwsError(e, "EMR", what, this.options.endpoint);
    }
  }

  private async clusterOf(plan: RunPlan, step: StepConfig): Promise<{ clusterId: string; logUri?: string }> {
    const { client } = this.options;
    let clusterId = this.options.clusterId;
    if (!clusterId) clusterId = await this.transientCluster(plan, step);
    const { Cluster } = await this.send(`describing cluster ${clusterId}`, () => client.send(new DescribeClusterCommand({ ClusterId: clusterId })));
    const state = Cluster?.Status?.State ?? "UNKNOWN";
    if (DEAD_CLUSTER.has(state) && this.options.clusterId) {
      const why = Cluster?.Status?.StateChangeReason;
      throw new SparkjobsError("environment", `EMR cluster ${clusterId} is ${state}${why?.Code ? ` (${why.Code}${why.Message ? `: ${why.Message}` : ""})` : ""}: it takes no more steps`, {
        fix: "start a cluster (infra/terraform) and pass its id with --cluster-id, or run on a transient cluster with --transient-cluster",
      });
    }
    return { clusterId, ...(Cluster?.LogUri ? { logUri: s3LogUri(Cluster.LogUri) } : {}) };
  }

  /** Finds the transient cluster of this run (a retried submit) or starts it with the step. */
  private async transientCluster(plan: RunPlan, step: StepConfig): Promise<string> {
    const spec = this.options.transient!;
    const name = `sparkjobs-${plan.runId}`;
    const { client } = this.options;
    let marker: string | undefined;
    do {
      const page = await this.send("listing clusters", () =>
        client.send(new ListClustersCommand({ ClusterStates: ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"], Marker: marker })),
      );
      const found = page.Clusters?.find((c) => c.Name === name);
      if (found?.Id) {
        this.options.log?.(`transient cluster ${found.Id} of run ${plan.runId} is already there (${found.Status?.State}); following it`);
        return found.Id;
      }
      marker = page.Marker;
    } while (marker);
    const r = await this.send("starting a transient cluster", () =>
      client.send(
        new RunJobFlowCommand({
          Name: name,
          ReleaseLabel: spec.releaseLabel,
          LogUri: spec.logUri,
          Applications: [{ Name: "Spark" }],
          ServiceRole: spec.serviceRole,
          JobFlowRole: spec.jobFlowRole,
          ...(spec.securityConfiguration ? { SecurityConfiguration: spec.securityConfiguration } : {}),
          Instances: {
            KeepJobFlowAliveWhenNoSteps: false,
            InstanceGroups: [
              { InstanceRole: "MASTER", InstanceType: spec.primaryInstanceType, InstanceCount: 1 },
              ...(spec.coreInstanceCount > 0 ? [{ InstanceRole: "CORE" as const, InstanceType: spec.coreInstanceType, InstanceCount: spec.coreInstanceCount }] : []),
            ],
            ...(spec.subnetId ? { Ec2SubnetId: spec.subnetId } : {}),
          },
          Steps: [step],
          Tags: [{ Key: "sparkjobs:run-id", Value: plan.runId }],
        }),
      ),
    );
    this.options.log?.(`started transient cluster ${r.JobFlowId} for run ${plan.runId}; it terminates when the step ends`);
    return r.JobFlowId!;
  }

  private async findStep(clusterId: string, name: string, states: Set<string>): Promise<StepSummary | undefined> {
    let marker: string | undefined;
    do {
      const page = await this.send(`listing the steps of ${clusterId}`, () =>
        this.options.client.send(new ListStepsCommand({ ClusterId: clusterId, StepStates: [...states] as StepState[], Marker: marker })),
      );
      const found = page.Steps?.find((s) => s.Name === name && states.has(s.Status?.State ?? ""));
      if (found) return found;
      marker = page.Marker;
    } while (marker);
    return undefined;
  }

  async submit(plan: RunPlan, staged: Staged): Promise<Submission> {
    const step = emrStep(plan, staged);
    const cluster = await this.clusterOf(plan, step);
    const { clusterId } = cluster;
    let stepId: string | undefined;
    const existing = await this.findStep(clusterId, step.Name!, this.options.transient ? new Set([...ACTIVE_STEP, "COMPLETED", "FAILED", "CANCELLED"]) : ACTIVE_STEP);
    if (existing?.Id) {
      stepId = existing.Id;
      this.options.log?.(`step ${stepId} of run ${plan.runId} is already on ${clusterId} (${existing.Status?.State}); following it instead of adding another`);
    } else {
      const r = await this.send(`adding a step to ${clusterId}`, () =>
        this.options.client.send(
          new AddJobFlowStepsCommand({ JobFlowId: clusterId, Steps: [step], ...(this.options.executionRoleArn ? { ExecutionRoleArn: this.options.executionRoleArn } : {}) }),
        ),
      );
      stepId = r.StepIds![0]!;
    }
    this.clusters.set(plan.runId, cluster);
    const logLocation = cluster.logUri ? `${cluster.logUri}/${clusterId}/steps/${stepId}/` : `cluster ${clusterId} has no LogUri: see the step in the EMR console`;
    return { runId: plan.runId, engineId: `${clusterId}/${stepId}`, logLocation };
  }

  private ids(submission: Submission): { clusterId: string; stepId: string } {
    const [clusterId, stepId] = submission.engineId.split("/");
    return { clusterId: clusterId!, stepId: stepId! };
  }

  async status(submission: Submission): Promise<RunStatus> {
    const { clusterId, stepId } = this.ids(submission);
    const { Step } = await this.send(`describing step ${stepId}`, () => this.options.client.send(new DescribeStepCommand({ ClusterId: clusterId, StepId: stepId })));
    const engineState = Step?.Status?.State ?? "UNKNOWN";
    const state = runStateOfStep(engineState);
    if (state !== "failed") return { state, engineState };
    const details = Step?.Status?.FailureDetails;
    const reason = [details?.Reason, details?.Message].filter(Boolean).join(": ") || Step?.Status?.StateChangeReason?.Message || "no reason given";
    const logs = await this.readLogs(submission);
    const failure = logs.driver ? runnerFailureFrom(logs.driver) : undefined;
    return {
      state,
      engineState,
      reason,
      ...(failure ? { failure } : {}),
      ...(logs.stepStderr ? { logTail: `stderr of step ${stepId} (${logs.stepStderrUri}):\n${tail(logs.stepStderr, 20)}` } : { logTail: `the step's stderr is not at ${logs.stepStderrUri} yet; EMR copies step logs every few minutes` }),
    };
  }

  /**
   * The step's stderr (spark-submit's client view) and the driver's output in the first YARN
   * container. PySpark sends the Python driver's stderr to the JVM's stdout, so the runner's error
   * line is in the container's stdout.gz; both files are read.
   */
  private async readLogs(submission: Submission): Promise<{ stepStderr?: string; stepStderrUri: string; driver?: string }> {
    const { clusterId, stepId } = this.ids(submission);
    const logUri = this.clusters.get(submission.runId)?.logUri;
    const stepStderrUri = `${logUri}/${clusterId}/steps/${stepId}/stderr.gz`;
    if (!logUri) return { stepStderrUri };
    const wait = this.options.logWaitMs ?? 5 * 60_000;
    const deadline = this.clock.now() + wait;
    const stepStderr = await readLogWhenThere(this.options.storage, stepStderrUri, this.clock, wait);
    const app = stepStderr?.match(/application_\d+_\d+/)?.[0];
    let driver: string | undefined;
    if (app) {
      // Container logs arrive through log aggregation after the application ends, often after the
      // step's own logs: the first container is waited for within the same bound.
      const containers = `${logUri}/${clusterId}/containers/${app}`;
      let first: string | undefined;
      for (;;) {
        first = (await this.options.storage.list(containers)).find((c) => /_0*1$/.test(c));
        const left = deadline - this.clock.now();
        if (first || left <= 0) break;
        await this.clock.sleep(Math.min(5000, left));
      }
      if (first) {
        const out = await readLogWhenThere(this.options.storage, `${containers}/${first}/stdout.gz`, this.clock, Math.max(0, deadline - this.clock.now()));
        const err = await readLogWhenThere(this.options.storage, `${containers}/${first}/stderr.gz`, this.clock, 0);
        driver = [err, out].filter(Boolean).join("\n") || undefined;
      }
    }
    return { stepStderrUri, ...(stepStderr ? { stepStderr } : {}), ...(driver ? { driver } : {}) };
  }

  async cancel(submission: Submission): Promise<void> {
    const { clusterId, stepId } = this.ids(submission);
    await this.send(`cancelling step ${stepId}`, () =>
      this.options.client.send(new CancelStepsCommand({ ClusterId: clusterId, StepIds: [stepId], StepCancellationOption: "SEND_INTERRUPT" })),
    );
  }

  async logs(submission: Submission, tailLines: number): Promise<string> {
    const logs = await this.readLogs(submission);
    return tail(logs.driver ?? logs.stepStderr ?? "", tailLines);
  }
}
