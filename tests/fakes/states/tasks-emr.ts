/**
 * The Amazon EMR integrations of Step Functions, over a real @aws-sdk/client-emr client (built by
 * the caller with its endpoint and credentials, and with maxAttempts 1: every retry a test sees is
 * the state machine's own, never the SDK's, and AddJobFlowSteps, which has no idempotency token, is
 * sent exactly as often as the machine sends it).
 *
 * `arn:aws:states:::aws-sdk:emr:<action>`: the AWS SDK integration. The Arguments are the action's
 * request as the EMR API spells it; the result is the API's response (no $metadata, timestamps as
 * ISO-8601 strings); a failure is Emr.<Name>Exception with the service's message as its cause
 * (aws-errors.ts).
 *
 * `arn:aws:states:::elasticmapreduce:addStep.sync`: the optimized integration. Step Functions takes
 * ClusterId, one Step and an optional ExecutionRoleArn where EMR takes JobFlowId and a list of
 * Steps; it sends AddJobFlowSteps once, then looks at the step with DescribeStep every 60 seconds
 * for the first 10 minutes and every 300 after (the polling the documentation states; times
 * timeScale here) until it ends. COMPLETED: the result is DescribeStep's output, {"Step": {...}}.
 * FAILED, CANCELLED or INTERRUPTED: the task fails with States.TaskFailed, its cause that same
 * output as JSON, the step's Status.FailureDetails in it. (The documentation says only that the
 * integration "waits for the step to complete"; the result and the cause are what executions
 * show.) A failed request is `EMR.<Name>Exception`: the documentation lists no error names for
 * this integration, and nothing here depends on the prefix (the machines catch States.ALL there).
 */
import * as emr from "@aws-sdk/client-emr";
import { AddJobFlowStepsCommand, DescribeStepCommand, type EMRClient } from "@aws-sdk/client-emr";
import { awsError, responseJson } from "./aws-errors.js";
import { runtimeError, StatesError } from "./errors.js";
import type { TaskContext, TaskHandler } from "./types.js";

const SDK = /^arn:aws[a-z-]*:states:::aws-sdk:emr:([a-z][A-Za-z0-9]*)$/;
const ADD_STEP_SYNC = /^arn:aws[a-z-]*:states:::elasticmapreduce:addStep\.sync$/;
const STEP_FAILED = new Set(["FAILED", "CANCELLED", "INTERRUPTED"]);

type CommandClass = new (input: unknown) => Parameters<EMRClient["send"]>[0];

function commandOf(resource: string): { operation: string; Command: CommandClass } | undefined {
  const action = SDK.exec(resource)?.[1];
  if (!action) return undefined;
  const operation = action[0]!.toUpperCase() + action.slice(1);
  const Command = (emr as Record<string, unknown>)[`${operation}Command`];
  return typeof Command === "function" ? { operation, Command: Command as CommandClass } : undefined;
}

/** Sends one request, recording it in the task's calls; a failure becomes `<prefix>.<Name>Exception`. */
async function send<T>(ctx: TaskContext, operation: string, prefix: string, request: () => Promise<T>): Promise<T> {
  try {
    const response = await request();
    ctx.call({ operation, outcome: "ok" });
    return response;
  } catch (e) {
    const error = awsError(prefix, e);
    ctx.call({ operation, outcome: error.error });
    throw error;
  }
}

/** `arn:aws:states:::aws-sdk:emr:<action>`, for every action the EMR client has. */
export function emrSdkTasks(client: EMRClient): TaskHandler {
  return {
    handles: (resource) => commandOf(resource) !== undefined,
    async run(resource, args, ctx) {
      const { operation, Command } = commandOf(resource)!;
      const response = await send(ctx, operation, "Emr", () => client.send(new Command(args), { abortSignal: ctx.signal }));
      return responseJson(response);
    },
  };
}

export interface AddStepSyncOptions {
  /** Seconds between DescribeSteps, given the seconds waited so far (default: 60 for 10 minutes, then 300). */
  pollSeconds?: (waited: number) => number;
}

const documentedPolling = (waited: number) => (waited < 600 ? 60 : 300);

function addStepRequest(args: unknown): { ClusterId: string; Step: Record<string, unknown>; ExecutionRoleArn?: string } {
  const a = (typeof args === "object" && args !== null && !Array.isArray(args) ? args : {}) as Record<string, unknown>;
  const extra = Object.keys(a).filter((k) => !["ClusterId", "Step", "ExecutionRoleArn"].includes(k));
  if (extra.length) throw runtimeError(`addStep takes ClusterId, Step and ExecutionRoleArn, not ${extra.join(", ")}`);
  if (typeof a.ClusterId !== "string") throw runtimeError("addStep needs ClusterId, a string");
  if (typeof a.Step !== "object" || a.Step === null || Array.isArray(a.Step)) throw runtimeError("addStep needs Step, one step configuration");
  if (a.ExecutionRoleArn !== undefined && typeof a.ExecutionRoleArn !== "string") throw runtimeError("addStep's ExecutionRoleArn must be a string");
  return a as ReturnType<typeof addStepRequest>;
}

/** `arn:aws:states:::elasticmapreduce:addStep.sync`. */
export function emrAddStepSync(client: EMRClient, options: AddStepSyncOptions = {}): TaskHandler {
  const pollSeconds = options.pollSeconds ?? documentedPolling;
  return {
    handles: (resource) => ADD_STEP_SYNC.test(resource),
    async run(_resource, args, ctx) {
      const { ClusterId, Step, ExecutionRoleArn } = addStepRequest(args);
      const added = await send(ctx, "AddJobFlowSteps", "EMR", () =>
        client.send(new AddJobFlowStepsCommand({ JobFlowId: ClusterId, Steps: [Step as never], ...(ExecutionRoleArn !== undefined ? { ExecutionRoleArn } : {}) }), { abortSignal: ctx.signal }),
      );
      const StepId = added.StepIds?.[0];
      if (!StepId) throw new StatesError("States.TaskFailed", `AddJobFlowSteps on ${ClusterId} answered no step id`);
      for (let waited = 0; ; ) {
        const seconds = pollSeconds(waited);
        await ctx.sleep(seconds);
        waited += seconds;
        const described = responseJson(await send(ctx, "DescribeStep", "EMR", () => client.send(new DescribeStepCommand({ ClusterId, StepId }), { abortSignal: ctx.signal }))) as {
          Step?: { Status?: { State?: string } };
        };
        const state = described.Step?.Status?.State ?? "";
        if (state === "COMPLETED") return described;
        if (STEP_FAILED.has(state)) throw new StatesError("States.TaskFailed", JSON.stringify(described));
      }
    },
  };
}
