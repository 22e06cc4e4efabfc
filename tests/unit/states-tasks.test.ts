/**
 * The EMR and EMR Serverless task handlers with clients that answer from a script: the requests
 * they send, when they look again, what they return, and the error names Retry and Catch see.
 * (Against the loopback servers, through the real wire protocols: tests/integration/step-functions.test.ts.)
 */
import { AddJobFlowStepsCommand, DescribeStepCommand, InternalServerError, InvalidRequestException, ListStepsCommand, type EMRClient } from "@aws-sdk/client-emr";
import { EMRServerlessServiceException, GetJobRunCommand, StartJobRunCommand, type EMRServerlessClient } from "@aws-sdk/client-emr-serverless";
import { describe, expect, test } from "vitest";
import { awsError } from "../fakes/states/aws-errors.js";
import { StatesError, UnsupportedError } from "../fakes/states/errors.js";
import { emrServerlessStartJobRunSync, startJobRunRequest } from "../fakes/states/tasks-emr-serverless.js";
import { emrAddStepSync, emrSdkTasks } from "../fakes/states/tasks-emr.js";
import type { ServiceCall, TaskContext } from "../fakes/states/types.js";

/** A client whose send answers each command from `answer`, recording the commands. */
function client<T>(answer: (command: { constructor: { name: string }; input: any }, n: number) => unknown) {
  const sent: { command: string; input: unknown }[] = [];
  const c = {
    send: async (command: { constructor: { name: string }; input: any }) => {
      sent.push({ command: command.constructor.name, input: command.input });
      const a = answer(command, sent.length);
      if (a instanceof Error) throw a;
      return a;
    },
  };
  return { sent, client: c as unknown as T };
}

function context(): TaskContext & { calls: ServiceCall[]; slept: number[] } {
  const calls: ServiceCall[] = [];
  const slept: number[] = [];
  return { stateName: "S", signal: new AbortController().signal, sleep: async (s) => void slept.push(s), call: (c) => calls.push(c), calls, slept };
}

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
/** EMR Serverless's throttling is not in its SDK's model: the client raises its service exception under the answer's error type. */
const throttling = () => new EMRServerlessServiceException({ name: "ThrottlingException", $fault: "client", message: "Rate exceeded", ...meta(429) });

describe("error names", () => {
  test("a service's answer: <prefix>.<Name>, with the Exception suffix added when the name has none; no answer: SdkClientException", () => {
    expect(awsError("Emr", new InvalidRequestException({ message: "Cluster id 'j-X' is not valid.", ...meta(400) })).output).toEqual({ Error: "Emr.InvalidRequestException", Cause: "Cluster id 'j-X' is not valid." });
    expect(awsError("EMR", new InternalServerError({ message: "An internal error occurred.", ...meta(500) })).error).toBe("EMR.InternalServerErrorException");
    expect(awsError("EMRServerless", throttling()).error).toBe("EMRServerless.ThrottlingException");
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    expect(awsError("EMR", reset).output).toEqual({ Error: "EMR.SdkClientException", Cause: "Error: socket hang up" });
  });
});

describe("aws-sdk:emr", () => {
  test("the action's command with the Arguments as its request; the response without $metadata, dates as ISO strings", async () => {
    const { sent, client: emr } = client<EMRClient>(() => ({ $metadata: { httpStatusCode: 200 }, Steps: [{ Id: "s-1", Status: { Timeline: { CreationDateTime: new Date(Date.UTC(2026, 0, 1)) } } }] }));
    const handler = emrSdkTasks(emr);
    expect(handler.handles("arn:aws:states:::aws-sdk:emr:listSteps")).toBe(true);
    expect(handler.handles("arn:aws:states:::aws-sdk:emr:noSuchAction")).toBe(false);
    expect(handler.handles("arn:aws:states:::aws-sdk:s3:listObjectsV2")).toBe(false);
    const ctx = context();
    const out = await handler.run("arn:aws:states:::aws-sdk:emr:listSteps", { ClusterId: "j-1", Marker: "50" }, ctx);
    expect(sent).toEqual([{ command: ListStepsCommand.name, input: { ClusterId: "j-1", Marker: "50" } }]);
    expect(out).toEqual({ Steps: [{ Id: "s-1", Status: { Timeline: { CreationDateTime: "2026-01-01T00:00:00.000Z" } } }] });
    expect(ctx.calls).toEqual([{ operation: "ListSteps", outcome: "ok" }]);
  });

  test("a refused request: Emr.<Name>Exception, the service's message as the cause", async () => {
    const { client: emr } = client<EMRClient>(() => new InvalidRequestException({ message: "Step id 's-X' is not valid.", ...meta(400) }));
    const ctx = context();
    const e = await emrSdkTasks(emr).run("arn:aws:states:::aws-sdk:emr:describeStep", { ClusterId: "j-1", StepId: "s-X" }, ctx).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StatesError);
    expect((e as StatesError).output).toEqual({ Error: "Emr.InvalidRequestException", Cause: "Step id 's-X' is not valid." });
    expect(ctx.calls).toEqual([{ operation: "DescribeStep", outcome: "Emr.InvalidRequestException" }]);
  });
});

describe("elasticmapreduce:addStep.sync", () => {
  const args = { ClusterId: "j-1", ExecutionRoleArn: "arn:aws:iam::123456789012:role/r", Step: { Name: "sparkjobs x r1", HadoopJarStep: { Jar: "command-runner.jar", Args: ["spark-submit", "a.py"] } } };
  const steps = (states: string[]) =>
    client<EMRClient>((command, n) =>
      command.constructor.name === AddJobFlowStepsCommand.name
        ? { StepIds: ["s-1"] }
        : { Step: { Id: "s-1", Name: "sparkjobs x r1", Status: { State: states[Math.min(n - 2, states.length - 1)], ...(states[n - 2] === "FAILED" ? { FailureDetails: { Reason: "Unknown Error.", Message: "boom" } } : {}) } } },
    );

  test("AddJobFlowSteps once (JobFlowId and a list of one step), then DescribeStep 60 s apart until COMPLETED: DescribeStep's output", async () => {
    const { sent, client: emr } = steps(["PENDING", "RUNNING", "COMPLETED"]);
    const ctx = context();
    const out = await emrAddStepSync(emr).run("arn:aws:states:::elasticmapreduce:addStep.sync", args, ctx);
    expect(sent.map((s) => s.command)).toEqual([AddJobFlowStepsCommand.name, DescribeStepCommand.name, DescribeStepCommand.name, DescribeStepCommand.name]);
    expect(sent[0]!.input).toEqual({ JobFlowId: "j-1", Steps: [args.Step], ExecutionRoleArn: args.ExecutionRoleArn });
    expect(sent[1]!.input).toEqual({ ClusterId: "j-1", StepId: "s-1" });
    expect(ctx.slept).toEqual([60, 60, 60]);
    expect(out).toEqual({ Step: { Id: "s-1", Name: "sparkjobs x r1", Status: { State: "COMPLETED" } } });
  });

  test("every 300 s after the first 10 minutes", async () => {
    const { client: emr } = steps([...Array(12).fill("RUNNING"), "COMPLETED"]);
    const ctx = context();
    await emrAddStepSync(emr).run("arn:aws:states:::elasticmapreduce:addStep.sync", args, ctx);
    expect(ctx.slept).toEqual([...Array(10).fill(60), 300, 300, 300]);
  });

  test("a step that ends FAILED: States.TaskFailed, the cause DescribeStep's output with the FailureDetails", async () => {
    const { client: emr } = steps(["RUNNING", "FAILED"]);
    const e = (await emrAddStepSync(emr).run("arn:aws:states:::elasticmapreduce:addStep.sync", args, context()).catch((x: unknown) => x)) as StatesError;
    expect(e.error).toBe("States.TaskFailed");
    expect(JSON.parse(e.cause)).toEqual({ Step: { Id: "s-1", Name: "sparkjobs x r1", Status: { State: "FAILED", FailureDetails: { Reason: "Unknown Error.", Message: "boom" } } } });
  });

  test("EMR's own field names are not Step Functions': JobFlowId is refused (States.Runtime), and nothing is sent", async () => {
    const { sent, client: emr } = steps(["COMPLETED"]);
    const e = (await emrAddStepSync(emr).run("arn:aws:states:::elasticmapreduce:addStep.sync", { JobFlowId: "j-1", Steps: [] }, context()).catch((x: unknown) => x)) as StatesError;
    expect([e.error, e.cause]).toEqual(["States.Runtime", "addStep takes ClusterId, Step and ExecutionRoleArn, not JobFlowId, Steps"]);
    expect(sent).toEqual([]);
  });
});

describe("emr-serverless:startJobRun.sync", () => {
  const args = {
    ApplicationId: "00fabc",
    ClientToken: "r1",
    ExecutionRoleArn: "arn:aws:iam::123456789012:role/r",
    Name: "r1",
    JobDriver: { SparkSubmit: { EntryPoint: "s3://b/runner.py", EntryPointArguments: ["--plan", "s3://b/p.json"], SparkSubmitParameters: "--conf a=b" } },
    ConfigurationOverrides: { MonitoringConfiguration: { S3MonitoringConfiguration: { LogUri: "s3://b/logs/" } } },
  };

  test("PascalCase fields mapped to the API's camelCase; a field this emulation does not map is refused, not dropped", () => {
    expect(startJobRunRequest(args)).toEqual({
      applicationId: "00fabc",
      clientToken: "r1",
      executionRoleArn: "arn:aws:iam::123456789012:role/r",
      name: "r1",
      jobDriver: { sparkSubmit: { entryPoint: "s3://b/runner.py", entryPointArguments: ["--plan", "s3://b/p.json"], sparkSubmitParameters: "--conf a=b" } },
      configurationOverrides: { monitoringConfiguration: { s3MonitoringConfiguration: { logUri: "s3://b/logs/" } } },
    });
    expect(() => startJobRunRequest({ ...args, ConfigurationOverrides: { ApplicationConfiguration: [] } })).toThrow(UnsupportedError);
    expect(() => startJobRunRequest({ ...args, ConfigurationOverrides: { ApplicationConfiguration: [] } })).toThrow("startJobRun: ConfigurationOverrides.ApplicationConfiguration is not mapped");
  });

  const runs = (states: string[]) =>
    client<EMRServerlessClient>((command, n) =>
      command.constructor.name === StartJobRunCommand.name
        ? { applicationId: "00fabc", jobRunId: "jr1", arn: "arn:jr1" }
        : { jobRun: { applicationId: "00fabc", jobRunId: "jr1", name: "r1", state: states[Math.min(n - 2, states.length - 1)], stateDetails: states[n - 2] === "FAILED" ? "Job failed, ExitCode: 1." : "" } },
    );

  test("StartJobRun, then GetJobRun until SUCCESS: StartJobRun's response in PascalCase", async () => {
    const { sent, client: sls } = runs(["PENDING", "RUNNING", "SUCCESS"]);
    const ctx = context();
    const out = await emrServerlessStartJobRunSync(sls, { pollSeconds: 30 }).run("arn:aws:states:::emr-serverless:startJobRun.sync", args, ctx);
    expect(sent.map((s) => s.command)).toEqual([StartJobRunCommand.name, GetJobRunCommand.name, GetJobRunCommand.name, GetJobRunCommand.name]);
    expect(sent[1]!.input).toEqual({ applicationId: "00fabc", jobRunId: "jr1" });
    expect(ctx.slept).toEqual([30, 30, 30]);
    expect(out).toEqual({ ApplicationId: "00fabc", JobRunId: "jr1", Arn: "arn:jr1" });
  });

  test("a FAILED job run: States.TaskFailed with its state details; a throttled StartJobRun: EMRServerless.ThrottlingException", async () => {
    const { client: failing } = runs(["RUNNING", "FAILED"]);
    const e = (await emrServerlessStartJobRunSync(failing).run("arn:aws:states:::emr-serverless:startJobRun.sync", args, context()).catch((x: unknown) => x)) as StatesError;
    expect(e.error).toBe("States.TaskFailed");
    expect(JSON.parse(e.cause)).toEqual({ ApplicationId: "00fabc", JobRunId: "jr1", Arn: "arn:jr1", Name: "r1", State: "FAILED", StateDetails: "Job failed, ExitCode: 1." });
    const { client: throttled } = client<EMRServerlessClient>(() => throttling());
    const t = (await emrServerlessStartJobRunSync(throttled).run("arn:aws:states:::emr-serverless:startJobRun.sync", args, context()).catch((x: unknown) => x)) as StatesError;
    expect(t.output).toEqual({ Error: "EMRServerless.ThrottlingException", Cause: "Rate exceeded" });
  });
});
