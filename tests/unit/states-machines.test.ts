/**
 * The project's two state machines, rendered by Terraform from infra/terraform/state-machines/ and
 * run by the interpreter against an EMR and an EMR Serverless that live in this test (task
 * handlers over a list of steps and a script of answers): every way through the emr-step machine's
 * Decide, and the emr-serverless machine's Retry and Catch. The same machines against the loopback
 * servers and real Spark: tests/integration/step-functions.test.ts.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { StatesError } from "../fakes/states/errors.js";
import { execute } from "../fakes/states/interpreter.js";
import { renderStateMachines, type RenderedMachines } from "../fakes/states/render.js";
import type { TaskHandler } from "../fakes/states/types.js";

const ROLE = "arn:aws:iam::123456789012:role/sparkjobs-emr-runtime";
let machines: RenderedMachines;

beforeAll(async () => {
  machines = await renderStateMachines(
    { execution_role_arn: ROLE, timeout_seconds: 900, max_add_attempts: 4, step_poll_seconds: 2 },
    { execution_role_arn: "arn:aws:iam::123456789012:role/sparkjobs-serverless-job", default_log_uri: "s3://sparkjobs-logs/serverless/", timeout_seconds: 900 },
  );
}, 120_000);

const RUN = "cat-2026-01-01";
const PLAN = `s3://sparkjobs-it/runs/stage/plans/${RUN}.json`;
const NAME = `sparkjobs catalogue ${RUN}`;
const input = (over: Record<string, unknown> = {}) => ({
  clusterId: "j-ABC123",
  runId: RUN,
  planUri: PLAN,
  emrStep: { Name: NAME, ActionOnFailure: "CONTINUE", HadoopJarStep: { Jar: "command-runner.jar", Args: ["spark-submit", "--deploy-mode", "cluster", "s3://b/runner.py", "--plan", PLAN] } },
  ...over,
});

interface Step {
  Id: string;
  Name: string;
  /** The states DescribeStep answers in turn (the last one again after that). */
  states: string[];
  described: number;
}

/**
 * An EMR cluster for the machine: its steps, and what each AddJobFlowSteps does: whether the step
 * is added (accept), and what the task then reports: success, an error (after the step was added,
 * or instead of adding it), or the step's failure while .sync waited.
 */
class Cluster {
  steps: Step[] = [];
  calls: string[] = [];
  added: { args: unknown }[] = [];
  constructor(private readonly onAdd: (n: number) => { accept: boolean; answer: "ok" | "error" | "step-failed"; states?: string[] }) {}

  add(name: string, states: string[]): Step {
    const step = { Id: `s-${this.steps.length + 1}`, Name: name, states, described: 0 };
    this.steps.push(step);
    return step;
  }

  private status(step: Step) {
    const State = step.states[Math.min(step.described, step.states.length - 1)]!;
    return { State, ...(State === "FAILED" ? { FailureDetails: { Reason: "Unknown Error.", Message: "Exception in thread main: planted", LogFile: `s3://logs/j-ABC123/steps/${step.Id}/stderr.gz` } } : {}) };
  }

  get handlers(): TaskHandler[] {
    return [
      {
        handles: (r) => r === "arn:aws:states:::aws-sdk:emr:listSteps",
        run: async (_r, args) => {
          this.calls.push("ListSteps");
          const { Marker } = args as { Marker?: string };
          const start = Marker ? Number(Marker) : 0;
          const newest = [...this.steps].reverse();
          const page = newest.slice(start, start + 50).map((s) => ({ Id: s.Id, Name: s.Name, Status: { State: this.status(s).State } }));
          return { Steps: page, ...(start + 50 < newest.length ? { Marker: String(start + 50) } : {}) };
        },
      },
      {
        handles: (r) => r === "arn:aws:states:::aws-sdk:emr:describeStep",
        run: async (_r, args) => {
          this.calls.push("DescribeStep");
          const step = this.steps.find((s) => s.Id === (args as { StepId: string }).StepId);
          if (!step) throw new StatesError("Emr.InvalidRequestException", "Step id is not valid.");
          const out = { Step: { Id: step.Id, Name: step.Name, Status: this.status(step) } };
          step.described++;
          return out;
        },
      },
      {
        handles: (r) => r === "arn:aws:states:::elasticmapreduce:addStep.sync",
        run: async (_r, args) => {
          this.calls.push("AddJobFlowSteps");
          this.added.push({ args });
          const what = this.onAdd(this.added.length);
          const step = what.accept ? this.add((args as { Step: { Name: string } }).Step.Name, what.states ?? ["RUNNING", "COMPLETED"]) : undefined;
          if (what.answer === "error") throw new StatesError("EMR.InternalServerErrorException", "An internal error occurred.");
          if (what.answer === "step-failed") throw new StatesError("States.TaskFailed", JSON.stringify({ Step: { Id: step!.Id, Status: { State: "FAILED" } } }));
          return { Step: { Id: step!.Id, Status: { State: "COMPLETED" } } };
        },
      },
    ];
  }
}

const runEmrStep = (cluster: Cluster, machineInput: unknown = input()) => execute(machines.emrStep, { input: machineInput, handlers: cluster.handlers, timeScale: 0.001 });

describe("emr-step", () => {
  test("nothing of the run on the cluster: the step is added once, with the runtime role, and the execution succeeds", async () => {
    const cluster = new Cluster(() => ({ accept: true, answer: "ok" }));
    const r = await runEmrStep(cluster);
    expect(r.path).toEqual(["CheckInput", "InputValid", "ListSteps", "MoreSteps", "Decide", "AddStep", "RunSucceeded"]);
    expect([r.status, r.output]).toEqual(["SUCCEEDED", { runId: RUN, clusterId: "j-ABC123", stepName: NAME }]);
    expect(cluster.added.map((a) => a.args)).toEqual([{ ClusterId: "j-ABC123", ExecutionRoleArn: ROLE, Step: { ...input().emrStep } }]);
  });

  test("a run staged in a history series (args ending --plan <planUri> --series <name>) is taken, and its step added as given", async () => {
    const cluster = new Cluster(() => ({ accept: true, answer: "ok" }));
    const step = { ...input().emrStep, HadoopJarStep: { Jar: "command-runner.jar", Args: [...input().emrStep.HadoopJarStep.Args, "--series", "brand-a"] } };
    const r = await runEmrStep(cluster, input({ emrStep: step }));
    expect([r.status, r.path.at(-1)]).toEqual(["SUCCEEDED", "RunSucceeded"]);
    expect(cluster.added.map((a) => a.args)).toEqual([{ ClusterId: "j-ABC123", ExecutionRoleArn: ROLE, Step: step }]);
  });

  test("an add whose answer was lost after EMR took it: back off, list again, follow that step; one step, not two", async () => {
    const cluster = new Cluster(() => ({ accept: true, answer: "error", states: ["PENDING", "RUNNING", "COMPLETED"] }));
    const r = await runEmrStep(cluster);
    expect(r.status).toBe("SUCCEEDED");
    expect(r.path).toEqual([
      "CheckInput", "InputValid", "ListSteps", "MoreSteps", "Decide", "AddStep", "BackOff", "ListSteps", "MoreSteps", "Decide",
      "DescribeStep", "StepEnded", "WaitForStep", "DescribeStep", "StepEnded", "WaitForStep", "DescribeStep", "StepEnded", "RunSucceeded",
    ]);
    expect(cluster.steps.map((s) => s.Name)).toEqual([NAME]);
    expect(cluster.calls.filter((c) => c === "AddJobFlowSteps")).toHaveLength(1);
    expect(r.history.find((e) => e.type === "WaitScheduled" && e.stateName === "BackOff")!.waitSeconds).toBe(15);
  });

  test("the step failed while .sync waited: it is found FAILED after the add and followed, never added again: SparkjobsEmrStepFailed with its FailureDetails", async () => {
    const cluster = new Cluster(() => ({ accept: true, answer: "step-failed", states: ["FAILED"] }));
    const r = await runEmrStep(cluster);
    expect(r.path).toEqual(["CheckInput", "InputValid", "ListSteps", "MoreSteps", "Decide", "AddStep", "BackOff", "ListSteps", "MoreSteps", "Decide", "DescribeStep", "StepEnded", "RunFailed"]);
    expect([r.status, r.error]).toEqual(["FAILED", "SparkjobsEmrStepFailed"]);
    expect(r.cause).toBe(`step s-1 (${NAME}) on j-ABC123 ended FAILED: Unknown Error.: Exception in thread main: planted (log: s3://logs/j-ABC123/steps/s-1/stderr.gz)`);
    expect(cluster.added).toHaveLength(1);
  });

  test("adds refused every time and no step shows up: four adds, 15, 30, 60 and 120 s apart, then SparkjobsEmrStepNotAdded with the last error", async () => {
    const cluster = new Cluster(() => ({ accept: false, answer: "error" }));
    const r = await runEmrStep(cluster);
    expect(cluster.added).toHaveLength(4);
    expect(r.history.filter((e) => e.type === "WaitScheduled").map((e) => e.waitSeconds)).toEqual([15, 30, 60, 120]);
    expect([r.status, r.error]).toEqual(["FAILED", "SparkjobsEmrStepNotAdded"]);
    expect(r.cause).toBe(`the step of run ${RUN} could not be added to j-ABC123 in 4 attempts, and ListSteps shows none: EMR.InternalServerErrorException: An internal error occurred.`);
  });

  test("a step of the run already RUNNING (an earlier execution's) is followed, not added again", async () => {
    const cluster = new Cluster(() => ({ accept: true, answer: "ok" }));
    cluster.add("sparkjobs other other-run", ["COMPLETED"]);
    cluster.add(NAME, ["RUNNING", "COMPLETED"]);
    const r = await runEmrStep(cluster);
    expect(r.path).toEqual(["CheckInput", "InputValid", "ListSteps", "MoreSteps", "Decide", "DescribeStep", "StepEnded", "WaitForStep", "DescribeStep", "StepEnded", "RunSucceeded"]);
    expect(cluster.added).toHaveLength(0);
    expect(r.variables.stepId).toBe("s-2");
  });

  test("a COMPLETED step of an earlier execution does not stop a new add (the runner itself skips a complete run)", async () => {
    const cluster = new Cluster(() => ({ accept: true, answer: "ok" }));
    cluster.add(NAME, ["COMPLETED"]);
    const r = await runEmrStep(cluster);
    expect(r.path).toEqual(["CheckInput", "InputValid", "ListSteps", "MoreSteps", "Decide", "AddStep", "RunSucceeded"]);
    expect(cluster.added).toHaveLength(1);
  });

  test("more than one page of steps: ListSteps is called again with the Marker, and the run's step on the second page is found", async () => {
    const cluster = new Cluster(() => ({ accept: true, answer: "ok" }));
    cluster.add(NAME, ["RUNNING", "COMPLETED"]);
    for (let i = 0; i < 60; i++) cluster.add(`sparkjobs other r${i}`, ["COMPLETED"]);
    const r = await runEmrStep(cluster);
    expect(r.path.slice(0, 7)).toEqual(["CheckInput", "InputValid", "ListSteps", "MoreSteps", "ListSteps", "MoreSteps", "Decide"]);
    expect(r.variables.stepId).toBe("s-1");
    expect(cluster.added).toHaveLength(0);
    expect(r.status).toBe("SUCCEEDED");
  });

  test("invalid input: SparkjobsInvalidInput naming every problem, before any EMR call", async () => {
    const cluster = new Cluster(() => ({ accept: true, answer: "ok" }));
    const bad = input({
      clusterId: "cluster-1",
      emrStep: { Name: NAME, ActionOnFailure: "TERMINATE_CLUSTER", HadoopJarStep: { Jar: "command-runner.jar", Args: ["spark-submit", "s3://b/runner.py", "--plan", PLAN, "--series", "not a series"] } },
    });
    const r = await runEmrStep(cluster, bad);
    expect(r.path).toEqual(["CheckInput", "InputValid", "InvalidInput"]);
    expect([r.status, r.error]).toEqual(["FAILED", "SparkjobsInvalidInput"]);
    expect(r.cause).toBe(
      "the input is not what `sparkjobs stage <job> --target emr` prints plus clusterId: clusterId: the id of an EMR cluster (j-...); emrStep.ActionOnFailure: CONTINUE or absent; emrStep.HadoopJarStep.Args: strings, spark-submit ... --plan <planUri> [--series <name>]",
    );
    expect(cluster.calls).toEqual([]);
  });
});

describe("emr-serverless", () => {
  const serverlessInput = {
    applicationId: "00fabc",
    runId: RUN,
    jobDriver: { sparkSubmit: { entryPoint: "s3://b/runner.py", entryPointArguments: ["--plan", PLAN], sparkSubmitParameters: "--conf spark.executor.instances=1" } },
    configurationOverrides: {},
  };
  const startJobRun = (answers: (StatesError | object)[]) => {
    const calls: unknown[] = [];
    const handler: TaskHandler = {
      handles: (r) => r === "arn:aws:states:::emr-serverless:startJobRun.sync",
      run: async (_r, args) => {
        calls.push(args);
        const a = answers[Math.min(calls.length - 1, answers.length - 1)]!;
        if (a instanceof StatesError) throw a;
        return a;
      },
    };
    return { calls, handler };
  };

  test("no logUri in the input: the default one; throttled and failed answers retried with the same request (same ClientToken)", async () => {
    const job = startJobRun([
      new StatesError("EMRServerless.ThrottlingException", "Rate exceeded"),
      new StatesError("EMRServerless.InternalServerException", "internal"),
      { ApplicationId: "00fabc", JobRunId: "jr1", Arn: "arn:jr1" },
    ]);
    const r = await execute(machines.emrServerless, { input: serverlessInput, handlers: [job.handler], timeScale: 0.001, random: () => 1 });
    expect(r.path).toEqual(["HasLogUri", "DefaultLogUri", "RunJob", "RunSucceeded"]);
    expect(job.calls).toHaveLength(3);
    expect(job.calls[2]).toEqual(job.calls[0]);
    expect(job.calls[0]).toEqual({
      ApplicationId: "00fabc",
      ClientToken: RUN,
      ExecutionRoleArn: "arn:aws:iam::123456789012:role/sparkjobs-serverless-job",
      JobDriver: { SparkSubmit: { EntryPoint: "s3://b/runner.py", EntryPointArguments: ["--plan", PLAN], SparkSubmitParameters: "--conf spark.executor.instances=1" } },
      ConfigurationOverrides: { MonitoringConfiguration: { S3MonitoringConfiguration: { LogUri: "s3://sparkjobs-logs/serverless/" } } },
      Name: RUN,
    });
    expect(r.history.filter((e) => e.type === "TaskFailed").map((e) => e.retryInSeconds)).toEqual([15, 30]);
    expect([r.status, r.output]).toEqual(["SUCCEEDED", { ...serverlessInput, monitoring: { logUri: "s3://sparkjobs-logs/serverless/" }, jobRun: { ApplicationId: "00fabc", JobRunId: "jr1", Arn: "arn:jr1" } }]);
  });

  test("a failed job run is not retried: RunFailed with the task's cause; a logUri in the input is used", async () => {
    const job = startJobRun([new StatesError("States.TaskFailed", '{"State":"FAILED","StateDetails":"planted"}')]);
    const withLogs = { ...serverlessInput, configurationOverrides: { monitoringConfiguration: { s3MonitoringConfiguration: { logUri: "s3://mine/logs/" } } } };
    const r = await execute(machines.emrServerless, { input: withLogs, handlers: [job.handler], timeScale: 0.001 });
    expect(r.path).toEqual(["HasLogUri", "LogUriFromInput", "RunJob", "RunFailed"]);
    expect(job.calls).toHaveLength(1);
    expect((job.calls[0] as { ConfigurationOverrides: unknown }).ConfigurationOverrides).toEqual({ MonitoringConfiguration: { S3MonitoringConfiguration: { LogUri: "s3://mine/logs/" } } });
    expect([r.status, r.error, r.cause]).toEqual(["FAILED", "SparkjobsEmrServerlessJobFailed", '{"State":"FAILED","StateDetails":"planted"}']);
  });
});
