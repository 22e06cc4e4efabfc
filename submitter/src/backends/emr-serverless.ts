/**
 * EMR Serverless: the run is a job run on an application. StartJobRun is idempotent by its
 * clientToken, which is the run id, so a submit retried after a crash gets the job run that is
 * already there. A run id whose earlier job run failed or was cancelled, or took the token with
 * another plan, is started again under the next token (_2.<run id>, _3.<run id>, ...), which a retry
 * finds the same way.
 * The driver's log is read from the monitoring logUri: {logUri}/applications/{app}/jobs/{run}/SPARK_DRIVER/.
 */
import { createHash } from "node:crypto";
import {
  CancelJobRunCommand,
  GetApplicationCommand,
  GetJobRunCommand,
  StartJobRunCommand,
  type EMRServerlessClient,
  type StartJobRunRequest,
} from "@aws-sdk/client-emr-serverless";
import type { RunPlan } from "../../../schemas/src/index.js";
import { fromAwsError } from "../aws/errors.js";
import { SparkjobsError } from "../errors.js";
import { serverlessPythonEnvConf } from "../stage/python-env.js";
import { runnerArgs, type Staged } from "../stage/stage.js";
import type { Storage } from "../stage/storage.js";
import { systemClock, type Clock } from "../wait/poll.js";
import { readLogWhenThere, s3LogUri, tail } from "./logs.js";
import { runnerFailureFrom, type Backend, type RunStatus, type Submission } from "./types.js";

export interface EmrServerlessBackendOptions {
  client: EMRServerlessClient;
  storage: Storage;
  applicationId: string;
  executionRoleArn: string;
  /** Monitoring log URI; without it there are no driver logs to show on failure. */
  logUri?: string;
  logWaitMs?: number;
  clock?: Clock;
  endpoint?: string;
  /** Extra Spark settings (--conf), merged into every plan under the job's own. */
  conf?: Record<string, string>;
  log?: (message: string) => void;
}

const MAX_ATTEMPTS_PER_RUN_ID = 9;

/**
 * The clientToken of the n-th job run of a run id (1-64 of [A-Za-z0-9._-]): the run id itself,
 * then _2.<run id>, _3.<run id>, ... A run id starts with a letter or digit, so no run id is
 * another's later token; a run id too long for the prefix keeps its first 52 characters and a hash
 * of the whole.
 */
export function clientToken(runId: string, attempt: number): string {
  if (attempt === 1) return runId;
  const prefix = `_${attempt}.`;
  const room = 64 - prefix.length;
  const id = runId.length <= room ? runId : `${runId.slice(0, room - 9)}.${createHash("sha256").update(runId).digest("hex").slice(0, 8)}`;
  return `${prefix}${id}`;
}

/** spark-submit parameters as the one string EMR Serverless takes: no value may hold whitespace. */
export function sparkSubmitParameters(plan: RunPlan, staged: Staged): string {
  const parts = ["--py-files", staged.pyFilesUri];
  for (const [k, v] of Object.entries({ ...plan.sparkConf, ...serverlessPythonEnvConf(staged.pythonEnv) })) {
    if (/\s/.test(k) || /\s/.test(v) || v === "") {
      throw new SparkjobsError("definition", `sparkConf ${k}=${JSON.stringify(v)} cannot be passed to EMR Serverless`, {
        fix: "EMR Serverless takes spark-submit parameters as one space-separated string: use values without spaces",
      });
    }
    parts.push("--conf", `${k}=${v}`);
  }
  return parts.join(" ");
}

export function jobRunRequest(plan: RunPlan, staged: Staged, options: { applicationId: string; executionRoleArn: string; logUri?: string }, attempt = 1): StartJobRunRequest {
  return {
    applicationId: options.applicationId,
    clientToken: clientToken(plan.runId, attempt),
    executionRoleArn: options.executionRoleArn,
    name: `sparkjobs ${plan.job.name} ${plan.runId}`,
    jobDriver: {
      sparkSubmit: { entryPoint: staged.runnerUri, entryPointArguments: runnerArgs(staged), sparkSubmitParameters: sparkSubmitParameters(plan, staged) },
    },
    ...(options.logUri ? { configurationOverrides: { monitoringConfiguration: { s3MonitoringConfiguration: { logUri: options.logUri } } } } : {}),
    tags: { "sparkjobs:run-id": plan.runId, "sparkjobs:job": plan.job.name },
  };
}

export function runStateOfJobRun(state: string): RunStatus["state"] {
  switch (state) {
    case "SUBMITTED":
    case "PENDING":
    case "SCHEDULED":
    case "QUEUED":
      return "pending";
    case "RUNNING":
    case "CANCELLING":
      return "running";
    case "SUCCESS":
      return "succeeded";
    case "CANCELLED":
      return "cancelled";
    default: // FAILED
      return "failed";
  }
}

export class EmrServerlessBackend implements Backend {
  readonly target = "emr-serverless";
  readonly shipsPythonEnv = true;
  private readonly clock: Clock;

  constructor(private readonly options: EmrServerlessBackendOptions) {
    this.clock = options.clock ?? systemClock;
  }

  sparkConf(): Record<string, string> {
    return { ...this.options.conf };
  }

  private async send<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw this.error(e, what);
    }
  }

  private error(e: unknown, what: string): SparkjobsError {
    if ((e as Error).name === "ResourceNotFoundException") {
      return new SparkjobsError("environment", `EMR Serverless says: ${(e as Error).message} (while ${what})`, {
        fix: "check --application-id and AWS_REGION (aws emr-serverless list-applications)",
      });
    }
    if ((e as Error).name === "ValidationException") {
      return new SparkjobsError("environment", `EMR Serverless refused the request while ${what}: ${(e as Error).message}`, {
        fix: "check the application's state, --execution-role-arn and --log-uri",
      });
    }
    return fromAwsError(e, "EMR_SERVERLESS", what, this.options.endpoint);
  }

  async submit(plan: RunPlan, staged: Staged): Promise<Submission> {
    const { client, applicationId } = this.options;
    const { application } = await this.send(`looking up application ${applicationId}`, () => client.send(new GetApplicationCommand({ applicationId })));
    const appState = application?.state ?? "UNKNOWN";
    if (appState === "TERMINATED" || appState === "STOPPING") {
      throw new SparkjobsError("environment", `EMR Serverless application ${applicationId} is ${appState}${application?.stateDetails ? ` (${application.stateDetails})` : ""}: it takes no job runs`, {
        fix: "create an application (infra/terraform) and pass its id with --application-id",
      });
    }
    if (appState === "CREATING") {
      // StartJobRun would answer ConflictException, which must not be read as a token taken by another plan.
      throw new SparkjobsError("environment", `EMR Serverless application ${applicationId} is still being created: it takes job runs once it is CREATED`, {
        fix: `retry when \`aws emr-serverless get-application --application-id ${applicationId}\` says CREATED`,
      });
    }
    let conflicts = 0;
    let lastConflict = "";
    for (let attempt = 1; attempt <= MAX_ATTEMPTS_PER_RUN_ID; attempt++) {
      const request = jobRunRequest(plan, staged, this.options, attempt);
      let jobRunId: string | undefined;
      try {
        ({ jobRunId } = await client.send(new StartJobRunCommand(request)));
      } catch (e) {
        // The token was taken by an earlier job run of this run id with another plan: try the next one.
        if ((e as Error).name === "ConflictException" || (e as Error).name === "IdempotentParameterMismatchException") {
          conflicts++;
          lastConflict = `${(e as Error).name}: ${(e as Error).message}`;
          continue;
        }
        throw this.error(e, `starting a job run on ${applicationId}`);
      }
      const { jobRun } = await this.send(`reading job run ${jobRunId}`, () => client.send(new GetJobRunCommand({ applicationId, jobRunId: jobRunId! })));
      const state = runStateOfJobRun(jobRun?.state ?? "");
      if (state === "failed" || state === "cancelled") continue; // an earlier attempt of this run id: start the next one
      if (attempt > 1 || jobRun?.state !== "SUBMITTED") this.options.log?.(`job run ${jobRunId} (token ${request.clientToken}) is ${jobRun?.state}; following it`);
      const logLocation = this.options.logUri ? `${s3LogUri(this.options.logUri)}/applications/${applicationId}/jobs/${jobRunId}/SPARK_DRIVER/` : "no --log-uri: the driver log is only in EMR Studio";
      return { runId: plan.runId, engineId: jobRunId!, logLocation };
    }
    if (conflicts === MAX_ATTEMPTS_PER_RUN_ID) {
      throw new SparkjobsError("conflict", `EMR Serverless refused all ${MAX_ATTEMPTS_PER_RUN_ID} tokens of run id ${plan.runId} (last: ${lastConflict})`, {
        fix: "each token is held by a job run of another plan, or the application is in a state that takes no job runs: check it, or use a new --run-id",
      });
    }
    throw new SparkjobsError("conflict", `run id ${plan.runId} has failed ${MAX_ATTEMPTS_PER_RUN_ID} times on EMR Serverless`, { fix: "use a new --run-id" });
  }

  async status(submission: Submission): Promise<RunStatus> {
    const { client, applicationId } = this.options;
    const { jobRun } = await this.send(`reading job run ${submission.engineId}`, () => client.send(new GetJobRunCommand({ applicationId, jobRunId: submission.engineId })));
    const engineState = jobRun?.state ?? "UNKNOWN";
    const state = runStateOfJobRun(engineState);
    if (state !== "failed") return { state, engineState };
    const driver = await this.driverLog(submission);
    const failure = driver ? runnerFailureFrom(driver) : undefined;
    return {
      state,
      engineState,
      reason: jobRun?.stateDetails || "no reason given",
      ...(failure ? { failure } : {}),
      ...(driver ? { logTail: `driver log (${submission.logLocation}stdout.gz, stderr.gz):\n${tail(driver, 20)}` } : {}),
    };
  }

  /** The driver's stderr and stdout; PySpark sends the Python driver's stderr (the runner's error line) to stdout. */
  private async driverLog(submission: Submission): Promise<string | undefined> {
    if (!this.options.logUri) return undefined;
    const wait = this.options.logWaitMs ?? 60_000;
    const out = await readLogWhenThere(this.options.storage, `${submission.logLocation}stdout.gz`, this.clock, wait);
    const err = await readLogWhenThere(this.options.storage, `${submission.logLocation}stderr.gz`, this.clock, 0);
    return [err, out].filter(Boolean).join("\n") || undefined;
  }

  async cancel(submission: Submission): Promise<void> {
    await this.send(`cancelling job run ${submission.engineId}`, () =>
      this.options.client.send(new CancelJobRunCommand({ applicationId: this.options.applicationId, jobRunId: submission.engineId })),
    );
  }

  async logs(submission: Submission, tailLines: number): Promise<string> {
    return tail((await this.driverLog(submission)) ?? "", tailLines);
  }
}
