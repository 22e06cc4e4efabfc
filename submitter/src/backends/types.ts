/**
 * The one Backend interface. Each backend maps its engine's states into RunStatus; shared code
 * never branches on a backend's name.
 */
import type { RunPlan } from "../../../schemas/src/index.js";
import type { Staged } from "../stage/stage.js";

export type RunState = "pending" | "running" | "succeeded" | "failed" | "cancelled";
export const TERMINAL_STATES: ReadonlySet<RunState> = new Set(["succeeded", "failed", "cancelled"]);

/** What the runner reported when it failed (its SPARKJOBS_ERROR line), if it got that far. */
export interface RunnerFailure {
  exitCode: number;
  message: string;
  where?: string | null;
  fix?: string | null;
  /** Every problem, when the runner found several (a source definition checked on a sample). */
  problems?: { file?: string | null; path?: string | null; message: string }[] | null;
}

export interface RunStatus {
  state: RunState;
  /** The engine's own word for the state, for messages (e.g. EMR's PENDING, a process exit code). */
  engineState: string;
  failure?: RunnerFailure;
  /** Free-text reason from the engine when there is no runner failure. */
  reason?: string;
  /** Log lines worth showing with a failure (e.g. the tail of an EMR step's stderr), with where they come from. */
  logTail?: string;
}

export interface Submission {
  runId: string;
  /** The engine's id of the submitted work (process id, step id, job run id). */
  engineId: string;
  /** Where the logs are, for messages. */
  logLocation: string;
}

export interface Backend {
  /** Shown in output (run --json "target"). */
  readonly target: string;
  /** Spark settings this engine needs, merged into the plan under the job's own. */
  sparkConf(): Record<string, string>;
  submit(plan: RunPlan, staged: Staged): Promise<Submission>;
  status(submission: Submission): Promise<RunStatus>;
  cancel(submission: Submission): Promise<void>;
  /**
   * True when the driver and executors run in containers of their own (YARN, EMR, EMR Serverless):
   * a run's Python environment reaches them as a staged archive. Otherwise they run on this
   * machine and use the built environment in place.
   */
  readonly shipsPythonEnv?: boolean;
  /** The last lines of the driver's log. */
  logs(submission: Submission, tailLines: number): Promise<string>;
  /**
   * The longest wait between two status checks. A remote service is asked less and less often (up to
   * 15 s apart); a child process here costs nothing to ask, so its end is seen at once.
   */
  readonly maxPollDelayMs?: number;
}

const ERROR_PREFIX = "SPARKJOBS_ERROR ";

/** Finds the runner's structured error line in a driver log. */
export function runnerFailureFrom(log: string): RunnerFailure | undefined {
  const lines = log.split("\n").filter((l) => l.startsWith(ERROR_PREFIX));
  const last = lines[lines.length - 1];
  if (!last) return undefined;
  try {
    return JSON.parse(last.slice(ERROR_PREFIX.length)) as RunnerFailure;
  } catch {
    return undefined;
  }
}
