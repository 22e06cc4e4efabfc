/**
 * The shapes the interpreter works with: a state machine definition (loosely typed, as it comes
 * from JSON), the task handlers that stand in for Step Functions' service integrations, and an
 * execution's history and result (what DescribeExecution and GetExecutionHistory would tell).
 */
import type { Catcher, Retrier } from "./retry.js";

export type QueryLanguage = "JSONPath" | "JSONata";

export interface StateDefinition {
  Type: string;
  QueryLanguage?: QueryLanguage;
  Comment?: string;
  Next?: string;
  End?: boolean;
  // JSONata
  Arguments?: unknown;
  Output?: unknown;
  Assign?: Record<string, unknown>;
  // JSONPath
  InputPath?: string | null;
  OutputPath?: string | null;
  Parameters?: unknown;
  ResultSelector?: unknown;
  ResultPath?: string | null;
  Result?: unknown;
  // Task
  Resource?: string;
  TimeoutSeconds?: number | string;
  HeartbeatSeconds?: unknown;
  Retry?: Retrier[];
  Catch?: Catcher[];
  // Choice
  Choices?: Record<string, unknown>[];
  Default?: string;
  // Wait
  Seconds?: number | string;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
  // Fail
  Error?: string;
  Cause?: string;
  ErrorPath?: string;
  CausePath?: string;
}

export interface StateMachineDefinition {
  Comment?: string;
  QueryLanguage?: QueryLanguage;
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, StateDefinition>;
}

/** One request a task handler made to a service, for the history. */
export interface ServiceCall {
  operation: string;
  /** "ok", or the error's name. */
  outcome: string;
}

export interface TaskContext {
  stateName: string;
  /** Aborted when the execution ends (timed out) or the task's own TimeoutSeconds passes. */
  signal: AbortSignal;
  /** Waits this many seconds of the state machine's time (scaled by the execution's timeScale). */
  sleep(seconds: number): Promise<void>;
  /** Records a service request the task made. */
  call(call: ServiceCall): void;
}

/** A service integration: runs the Task states whose Resource it handles. */
export interface TaskHandler {
  handles(resource: string): boolean;
  /** The task's result; a failure is a StatesError (its name and cause are what Retry and Catch see). */
  run(resource: string, args: unknown, ctx: TaskContext): Promise<unknown>;
}

export interface HistoryEvent {
  id: number;
  type: string;
  timestamp: string;
  stateName?: string;
  input?: unknown;
  output?: unknown;
  resource?: string;
  parameters?: unknown;
  error?: string;
  cause?: string;
  /** The service requests of a task attempt. */
  calls?: ServiceCall[];
  /** After a failed task attempt that a retrier retries: the wait before the next, in unscaled seconds. */
  retryInSeconds?: number;
  /** A Wait state's wait, in unscaled seconds. */
  waitSeconds?: number;
  /** The variables a state assigned as it exited. */
  assigned?: Record<string, unknown>;
}

export type ExecutionStatus = "SUCCEEDED" | "FAILED" | "TIMED_OUT";

export interface ExecutionResult {
  status: ExecutionStatus;
  output?: unknown;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate: Date;
  /** The names of the states entered, in order. */
  path: string[];
  history: HistoryEvent[];
  /** The workflow variables when the execution ended. */
  variables: Record<string, unknown>;
}
