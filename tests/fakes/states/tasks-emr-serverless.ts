/**
 * `arn:aws:states:::emr-serverless:startJobRun.sync`, the optimized EMR Serverless integration of
 * Step Functions, over a real @aws-sdk/client-emr-serverless client (built by the caller with its
 * endpoint and credentials, and maxAttempts 1: a retry is the state machine's own).
 *
 * The Arguments (or JSONPath Parameters) are StartJobRun's request in PascalCase, mapped field by
 * field to the API's camelCase: ApplicationId, ClientToken, ExecutionRoleArn, Name,
 * ExecutionTimeoutMinutes, Tags, JobDriver.SparkSubmit.{EntryPoint, EntryPointArguments,
 * SparkSubmitParameters}, ConfigurationOverrides.MonitoringConfiguration.S3MonitoringConfiguration
 * .LogUri. Any other field is refused (UnsupportedError) rather than dropped.
 *
 * The documentation says the requests and responses are those of the EMR Serverless API and that
 * startJobRun.sync waits for the job run to succeed: StartJobRun once per attempt, then GetJobRun
 * every `pollSeconds` (60 by default, times timeScale; the documentation gives no figure for EMR
 * Serverless) until a final state. SUCCESS: the result is StartJobRun's response in PascalCase,
 * {ApplicationId, JobRunId, Arn}. FAILED or CANCELLED: States.TaskFailed, the cause the job run as
 * JSON (its State and StateDetails among it).
 *
 * A failed request is `EMRServerless.<Name>Exception` (EMRServerless.ThrottlingException,
 * EMRServerless.InternalServerException, EMRServerless.ValidationException, ...). The Step
 * Functions documentation lists error names for AWS SDK integrations only (ServiceName.ErrorName,
 * aws-errors.ts); for this optimized integration it names none, so the prefix here is the one
 * infra/terraform/state-machines/emr-serverless.json.tftpl retries on, not a documented one: an
 * execution on AWS that shows another should change it here and in the machine.
 */
import { GetJobRunCommand, StartJobRunCommand, type EMRServerlessClient, type StartJobRunCommandInput } from "@aws-sdk/client-emr-serverless";
import { awsError } from "./aws-errors.js";
import { runtimeError, StatesError, UnsupportedError } from "./errors.js";
import type { TaskContext, TaskHandler } from "./types.js";

const START_JOB_RUN_SYNC = /^arn:aws[a-z-]*:states:::emr-serverless:startJobRun\.sync$/;
const FINAL_FAILURE = new Set(["FAILED", "CANCELLED"]);
export const EMR_SERVERLESS_ERROR_PREFIX = "EMRServerless";

type Json = Record<string, unknown>;

function object(value: unknown, field: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw runtimeError(`startJobRun: ${field} must be an object`);
  return value as Json;
}

/** Copies the fields of `from` named in `fields` (PascalCase -> camelCase); any other field is refused. */
function mapped(from: Json, fields: Record<string, (v: unknown) => [string, unknown]>, where: string): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(from)) {
    const map = fields[key];
    if (!map) throw new UnsupportedError(`startJobRun: ${where}${key} is not mapped by this emulation (mapped: ${Object.keys(fields).join(", ")})`);
    const [name, v] = map(value);
    out[name] = v;
  }
  return out;
}

const as = (name: string) => (v: unknown): [string, unknown] => [name, v];

export function startJobRunRequest(args: unknown): StartJobRunCommandInput {
  const request = mapped(object(args, "Arguments"), {
    ApplicationId: as("applicationId"),
    ClientToken: as("clientToken"),
    ExecutionRoleArn: as("executionRoleArn"),
    Name: as("name"),
    ExecutionTimeoutMinutes: as("executionTimeoutMinutes"),
    Tags: as("tags"),
    JobDriver: (v) => [
      "jobDriver",
      mapped(object(v, "JobDriver"), {
        SparkSubmit: (s) => [
          "sparkSubmit",
          mapped(object(s, "JobDriver.SparkSubmit"), { EntryPoint: as("entryPoint"), EntryPointArguments: as("entryPointArguments"), SparkSubmitParameters: as("sparkSubmitParameters") }, "JobDriver.SparkSubmit."),
        ],
      }, "JobDriver."),
    ],
    ConfigurationOverrides: (v) => [
      "configurationOverrides",
      mapped(object(v, "ConfigurationOverrides"), {
        MonitoringConfiguration: (m) => [
          "monitoringConfiguration",
          mapped(object(m, "MonitoringConfiguration"), {
            S3MonitoringConfiguration: (s3) => ["s3MonitoringConfiguration", mapped(object(s3, "S3MonitoringConfiguration"), { LogUri: as("logUri") }, "...S3MonitoringConfiguration.")],
          }, "ConfigurationOverrides.MonitoringConfiguration."),
        ],
      }, "ConfigurationOverrides."),
    ],
  }, "");
  if (typeof request.applicationId !== "string") throw runtimeError("startJobRun needs ApplicationId, a string");
  return request as unknown as StartJobRunCommandInput;
}

async function send<T>(ctx: TaskContext, operation: string, request: () => Promise<T>): Promise<T> {
  try {
    const response = await request();
    ctx.call({ operation, outcome: "ok" });
    return response;
  } catch (e) {
    const error = awsError(EMR_SERVERLESS_ERROR_PREFIX, e);
    ctx.call({ operation, outcome: error.error });
    throw error;
  }
}

export interface StartJobRunSyncOptions {
  /** Seconds between GetJobRuns (default 60). */
  pollSeconds?: number;
}

export function emrServerlessStartJobRunSync(client: EMRServerlessClient, options: StartJobRunSyncOptions = {}): TaskHandler {
  const pollSeconds = options.pollSeconds ?? 60;
  return {
    handles: (resource) => START_JOB_RUN_SYNC.test(resource),
    async run(_resource, args, ctx) {
      const request = startJobRunRequest(args);
      const started = await send(ctx, "StartJobRun", () => client.send(new StartJobRunCommand(request), { abortSignal: ctx.signal }));
      const { applicationId, jobRunId, arn } = started;
      for (;;) {
        await ctx.sleep(pollSeconds);
        const { jobRun } = await send(ctx, "GetJobRun", () => client.send(new GetJobRunCommand({ applicationId, jobRunId }), { abortSignal: ctx.signal }));
        const state = jobRun?.state ?? "";
        if (state === "SUCCESS") return { ApplicationId: applicationId, JobRunId: jobRunId, Arn: arn };
        if (FINAL_FAILURE.has(state)) {
          const cause = { ApplicationId: applicationId, JobRunId: jobRunId, Arn: arn, Name: jobRun?.name, State: state, StateDetails: jobRun?.stateDetails };
          throw new StatesError("States.TaskFailed", JSON.stringify(cause));
        }
      }
    },
  };
}
