/**
 * A local stand-in for the AWS Step Functions control plane: it runs one execution of a state
 * machine definition (Amazon States Language) to its end, in this process, and answers what
 * DescribeExecution and GetExecutionHistory would (status, output or error and cause, the states
 * entered, the events). Task states call the services through injected handlers (tasks-emr.ts,
 * tasks-emr-serverless.ts), which use the real AWS SDK clients against whatever endpoint they were
 * built with.
 *
 * Emulated: Pass, Task, Choice, Wait, Succeed and Fail states; QueryLanguage JSONata (Arguments,
 * Output, Assign, Condition, `{% %}` in any field; jsonata-eval.ts) and JSONPath (InputPath,
 * Parameters, ResultSelector, ResultPath, OutputPath, Result, Choice rules, ErrorPath/CausePath;
 * jsonpath.ts, choice-rules.ts), per machine and per state; workflow variables (Assign); Retry and
 * Catch (retry.ts); a Task's TimeoutSeconds and the machine's TimeoutSeconds (States.Timeout, the
 * execution TIMED_OUT).
 *
 * Not emulated, refused before the execution starts (UnsupportedError): Map and Parallel states, a
 * Task whose Resource no handler takes, activities, callbacks (.waitForTaskToken), HeartbeatSeconds,
 * Assign in JSONPath states, intrinsic functions. Not emulated at all: Express workflows, redrive,
 * StopExecution, payload size limits, history event ids as AWS numbers them (a Wait of 0 s, an
 * execution's 25,000-event limit: a bound on state transitions stands in for it).
 *
 * Time: every Wait state and every retry interval lasts its seconds x `timeScale` (default 1), so
 * a test runs a machine that waits minutes in seconds; the history keeps the unscaled seconds. The
 * machine's TimeoutSeconds and a Task's are real seconds, never scaled: they bound real work.
 *
 * Variables: a state's Assign and Output are evaluated with the variables as they were when the
 * state was entered (no expression of a state sees that state's own assignments); the assignments
 * are made as the state exits. A Choice state applies its own Assign and the matched rule's (the
 * rule's wins for a name both assign). In a Catch, only the catcher's Assign is applied, and it and
 * the catcher's Output see $states.errorOutput.
 */
import { randomUUID } from "node:crypto";
import { evaluateRule } from "./choice-rules.js";
import { queryError, runtimeError, StatesError, UnsupportedError } from "./errors.js";
import { evaluateExpression, evaluateTemplate, isExpression, type JsonataScope, type StatesBinding } from "./jsonata-eval.js";
import { applyResultPath, getPath, resolvePayload, selectPath, type PathScope } from "./jsonpath.js";
import { findCatcher, RetryCounts } from "./retry.js";
import type { ExecutionResult, HistoryEvent, QueryLanguage, ServiceCall, StateDefinition, StateMachineDefinition, TaskHandler } from "./types.js";

export interface ExecutionOptions {
  input: unknown;
  /** The execution's name (default: a UUID). */
  name?: string;
  /** The state machine's name, for the context object (default "state-machine"). */
  stateMachineName?: string;
  handlers?: TaskHandler[];
  /** Multiplies every Wait and retry interval (default 1). */
  timeScale?: number;
  /** At most this many states are entered; one more fails the execution (default 10,000). */
  maxTransitions?: number;
  /** Random numbers in [0, 1) for JitterStrategy FULL (default Math.random). */
  random?: () => number;
}

const SUPPORTED = new Set(["Pass", "Task", "Choice", "Wait", "Succeed", "Fail"]);
const JSONPATH_ONLY: (keyof StateDefinition)[] = ["InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Result", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath"];
const JSONATA_ONLY: (keyof StateDefinition)[] = ["Arguments", "Output"];
const ACCOUNT = "123456789012";
const REGION = "us-east-1";

/** Why the execution stopped before a state ended: the machine's TimeoutSeconds passed. */
class ExecutionTimedOut extends Error {}

/** What one state did: where to go next (none: the execution ends), with what output and new variables. */
interface StateOutcome {
  output: unknown;
  next?: string;
  assigned?: Record<string, unknown>;
}

/**
 * Checks a definition before anything runs: every state of a kind this emulation implements, every
 * transition to a state that exists, every Task's Resource taken by a handler, each state's fields
 * those of its query language.
 */
export function checkDefinition(definition: StateMachineDefinition, handlers: readonly TaskHandler[]): void {
  const names = new Set(Object.keys(definition.States ?? {}));
  if (!names.has(definition.StartAt)) throw new UnsupportedError(`StartAt ${definition.StartAt} is not a state`);
  const target = (from: string, to: string | undefined, field: string) => {
    if (to !== undefined && !names.has(to)) throw new UnsupportedError(`state ${from}: ${field} ${to} is not a state`);
  };
  for (const [name, state] of Object.entries(definition.States)) {
    if (!SUPPORTED.has(state.Type)) throw new UnsupportedError(`state ${name}: ${state.Type} states are not emulated (only ${[...SUPPORTED].join(", ")})`);
    const language = state.QueryLanguage ?? definition.QueryLanguage ?? "JSONPath";
    const wrong = (language === "JSONata" ? JSONPATH_ONLY : JSONATA_ONLY).filter((f) => state[f] !== undefined);
    if (wrong.length) throw new UnsupportedError(`state ${name}: ${wrong.join(", ")} cannot be used in a ${language} state`);
    if (language === "JSONPath" && state.Assign !== undefined) throw new UnsupportedError(`state ${name}: Assign in a JSONPath state is not emulated`);
    if (["Pass", "Task", "Wait"].includes(state.Type) && (state.Next === undefined) === (state.End !== true)) throw new UnsupportedError(`state ${name}: a ${state.Type} state needs either Next or End: true`);
    target(name, state.Next, "Next");
    target(name, state.Default, "Default");
    for (const rule of state.Choices ?? []) target(name, rule.Next as string, "Choices[].Next");
    for (const c of state.Catch ?? []) {
      target(name, c.Next, "Catch[].Next");
      if (language === "JSONPath" && c.Assign !== undefined) throw new UnsupportedError(`state ${name}: Assign in a JSONPath catcher is not emulated`);
    }
    if (state.Type === "Task") {
      const resource = state.Resource ?? "";
      if (/\.waitForTaskToken$/.test(resource)) throw new UnsupportedError(`state ${name}: callbacks (.waitForTaskToken) are not emulated`);
      if (!handlers.some((h) => h.handles(resource))) throw new UnsupportedError(`state ${name}: unsupported resource ${resource}: no task handler takes it`);
      if (state.HeartbeatSeconds !== undefined) throw new UnsupportedError(`state ${name}: HeartbeatSeconds is not emulated`);
    }
  }
}

export function parseDefinition(definition: string | StateMachineDefinition): StateMachineDefinition {
  return typeof definition === "string" ? (JSON.parse(definition) as StateMachineDefinition) : definition;
}

/** Runs one execution to its end. Rejects only for what this emulation does not implement. */
export async function execute(source: string | StateMachineDefinition, options: ExecutionOptions): Promise<ExecutionResult> {
  const definition = parseDefinition(source);
  const handlers = options.handlers ?? [];
  checkDefinition(definition, handlers);
  return new Execution(definition, options, handlers).run();
}

class Execution {
  private readonly history: HistoryEvent[] = [];
  private readonly path: string[] = [];
  private readonly variables = new Map<string, unknown>();
  private readonly controller = new AbortController();
  private readonly timeScale: number;
  private readonly random: () => number;
  private readonly name: string;
  private readonly startDate = new Date();
  private readonly context: { Execution: Record<string, unknown>; StateMachine: Record<string, unknown>; State?: Record<string, unknown> };

  constructor(
    private readonly definition: StateMachineDefinition,
    private readonly options: ExecutionOptions,
    private readonly handlers: readonly TaskHandler[],
  ) {
    this.timeScale = options.timeScale ?? 1;
    this.random = options.random ?? Math.random;
    this.name = options.name ?? randomUUID();
    const machine = options.stateMachineName ?? "state-machine";
    this.context = {
      Execution: {
        Id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:${this.name}`,
        Input: structuredClone(options.input),
        Name: this.name,
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/${machine}`,
        StartTime: this.startDate.toISOString(),
        RedriveCount: 0,
      },
      StateMachine: { Id: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${machine}`, Name: machine },
    };
  }

  private event(type: string, fields: Omit<HistoryEvent, "id" | "type" | "timestamp"> = {}): HistoryEvent {
    const e: HistoryEvent = { id: this.history.length + 1, type, timestamp: new Date().toISOString(), ...fields };
    this.history.push(e);
    return e;
  }

  private alive(): void {
    if (this.controller.signal.aborted) throw new ExecutionTimedOut();
  }

  /** Waits seconds x timeScale; ends at once when the execution does. */
  private sleep(seconds: number, signal: AbortSignal = this.controller.signal): Promise<void> {
    const ms = Math.max(0, seconds * this.timeScale * 1000);
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new ExecutionTimedOut());
      const done = () => {
        signal.removeEventListener("abort", stop);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const stop = () => {
        clearTimeout(timer);
        reject(new ExecutionTimedOut());
      };
      signal.addEventListener("abort", stop, { once: true });
    });
  }

  async run(): Promise<ExecutionResult> {
    this.event("ExecutionStarted", { input: this.options.input });
    const timeoutSeconds = this.definition.TimeoutSeconds;
    const timer = timeoutSeconds !== undefined ? setTimeout(() => this.controller.abort(), timeoutSeconds * 1000) : undefined;
    try {
      const output = await this.loop();
      this.event("ExecutionSucceeded", { output });
      return this.result({ status: "SUCCEEDED", output });
    } catch (e) {
      if (e instanceof ExecutionTimedOut || this.controller.signal.aborted) {
        const cause = `the execution ran longer than its TimeoutSeconds (${timeoutSeconds} s)`;
        this.event("ExecutionTimedOut", { error: "States.Timeout", cause });
        return this.result({ status: "TIMED_OUT", error: "States.Timeout", cause });
      }
      if (e instanceof StatesError) {
        this.event("ExecutionFailed", { error: e.error, cause: e.cause });
        return this.result({ status: "FAILED", error: e.error, cause: e.cause });
      }
      throw e;
    } finally {
      clearTimeout(timer);
      this.controller.abort();
    }
  }

  private result(r: Pick<ExecutionResult, "status" | "output" | "error" | "cause">): ExecutionResult {
    return { ...r, startDate: this.startDate, stopDate: new Date(), path: [...this.path], history: this.history, variables: Object.fromEntries(this.variables) };
  }

  private async loop(): Promise<unknown> {
    const max = this.options.maxTransitions ?? 10_000;
    let name = this.definition.StartAt;
    let input: unknown = structuredClone(this.options.input);
    for (;;) {
      if (this.path.length >= max) throw runtimeError(`more than ${max} states entered: the execution was stopped (maxTransitions)`);
      const state = this.definition.States[name]!;
      this.path.push(name);
      const entered = new Date().toISOString();
      this.context.State = { EnteredTime: entered, Name: name, RetryCount: 0 };
      this.event(`${state.Type}StateEntered`, { stateName: name, input });
      const outcome = await this.runState(name, state, input);
      this.alive();
      for (const [k, v] of Object.entries(outcome.assigned ?? {})) this.variables.set(k, v);
      this.event(`${state.Type}StateExited`, { stateName: name, output: outcome.output, ...(outcome.assigned ? { assigned: outcome.assigned } : {}) });
      if (outcome.next === undefined) return outcome.output;
      name = outcome.next;
      input = outcome.output;
    }
  }

  private language(state: StateDefinition): QueryLanguage {
    return state.QueryLanguage ?? this.definition.QueryLanguage ?? "JSONPath";
  }

  /** The scope of a JSONata expression: $states, and the variables as they are now (before this state's assignments). */
  private jsonata(states: Omit<StatesBinding, "context">): JsonataScope {
    return { states: { ...states, context: this.context }, variables: new Map(this.variables) };
  }

  private get pathScope(): PathScope {
    return { context: this.context, variables: this.variables };
  }

  private following(state: StateDefinition): string | undefined {
    return state.End ? undefined : state.Next;
  }

  /** The evaluated Assign of a JSONata state (or catcher), if it has one. */
  private async assign(assign: Record<string, unknown> | undefined, scope: JsonataScope, field: string): Promise<Record<string, unknown> | undefined> {
    if (assign === undefined) return undefined;
    const values = (await evaluateTemplate(assign, scope, field)) as Record<string, unknown>;
    return values;
  }

  private async runState(name: string, state: StateDefinition, input: unknown): Promise<StateOutcome> {
    switch (state.Type) {
      case "Pass":
        return this.pass(state, input);
      case "Task":
        return this.task(name, state, input);
      case "Choice":
        return this.choice(name, state, input);
      case "Wait":
        return this.wait(name, state, input);
      case "Succeed":
        return this.language(state) === "JSONata"
          ? { output: state.Output === undefined ? input : await evaluateTemplate(state.Output, this.jsonata({ input }), "Output") }
          : { output: selectPath(selectPath(input, state.InputPath, this.pathScope, "InputPath"), state.OutputPath, this.pathScope, "OutputPath") };
      case "Fail":
        throw await this.fail(state, input);
      default:
        throw new UnsupportedError(`${state.Type} states are not emulated`);
    }
  }

  private async pass(state: StateDefinition, input: unknown): Promise<StateOutcome> {
    if (this.language(state) === "JSONata") {
      const scope = this.jsonata({ input });
      const assigned = await this.assign(state.Assign, scope, "Assign");
      const output = state.Output === undefined ? input : await evaluateTemplate(state.Output, scope, "Output");
      return { output, next: this.following(state), assigned };
    }
    const effective = selectPath(input, state.InputPath, this.pathScope, "InputPath");
    const result = state.Parameters !== undefined ? resolvePayload(state.Parameters, effective, this.pathScope, "Parameters") : state.Result !== undefined ? state.Result : effective;
    const output = selectPath(applyResultPath(input, state.ResultPath, result), state.OutputPath, this.pathScope, "OutputPath");
    return { output, next: this.following(state) };
  }

  private async choice(name: string, state: StateDefinition, input: unknown): Promise<StateOutcome> {
    const rules = state.Choices ?? [];
    if (this.language(state) === "JSONata") {
      const scope = this.jsonata({ input });
      let matched: Record<string, unknown> | undefined;
      for (const [i, rule] of rules.entries()) {
        const value = isExpression(rule.Condition) ? await evaluateExpression(rule.Condition, scope, `Choices[${i}]/Condition`) : rule.Condition;
        if (typeof value !== "boolean") throw queryError(`the Condition of Choices[${i}] of state ${name} gave ${JSON.stringify(value)}, not a boolean`);
        if (value) {
          matched = rule;
          break;
        }
      }
      const next = matched ? (matched.Next as string) : state.Default;
      if (next === undefined) throw new StatesError("States.NoChoiceMatched", `no Choice rule of state ${name} matched and it has no Default`);
      const own = await this.assign(state.Assign, scope, "Assign");
      const rule = await this.assign(matched?.Assign as Record<string, unknown> | undefined, scope, "Choices/Assign");
      const assigned = own || rule ? { ...own, ...rule } : undefined;
      const output = state.Output === undefined ? input : await evaluateTemplate(state.Output, scope, "Output");
      return { output, next, assigned };
    }
    const effective = selectPath(input, state.InputPath, this.pathScope, "InputPath");
    const matched = rules.find((r) => evaluateRule(r, effective, this.pathScope));
    const next = matched ? (matched.Next as string) : state.Default;
    if (next === undefined) throw new StatesError("States.NoChoiceMatched", `no Choice rule of state ${name} matched and it has no Default`);
    return { output: selectPath(effective, state.OutputPath, this.pathScope, "OutputPath"), next };
  }

  private async wait(name: string, state: StateDefinition, input: unknown): Promise<StateOutcome> {
    let seconds: number;
    let outcome: StateOutcome;
    if (this.language(state) === "JSONata") {
      const scope = this.jsonata({ input });
      if (state.Seconds !== undefined) {
        const value = isExpression(state.Seconds) ? await evaluateExpression(state.Seconds, scope, "Seconds") : state.Seconds;
        seconds = waitSeconds(value, name);
      } else {
        const value = isExpression(state.Timestamp) ? await evaluateExpression(state.Timestamp, scope, "Timestamp") : state.Timestamp;
        seconds = untilTimestamp(value, name);
      }
      const assigned = await this.assign(state.Assign, scope, "Assign");
      outcome = { output: state.Output === undefined ? input : await evaluateTemplate(state.Output, scope, "Output"), next: this.following(state), assigned };
    } else {
      const effective = selectPath(input, state.InputPath, this.pathScope, "InputPath");
      if (state.Seconds !== undefined) seconds = waitSeconds(state.Seconds, name);
      else if (state.SecondsPath !== undefined) seconds = waitSeconds(getPath(effective, state.SecondsPath, this.pathScope, "SecondsPath"), name);
      else if (state.Timestamp !== undefined) seconds = untilTimestamp(state.Timestamp, name);
      else seconds = untilTimestamp(getPath(effective, state.TimestampPath ?? "", this.pathScope, "TimestampPath"), name);
      outcome = { output: selectPath(effective, state.OutputPath, this.pathScope, "OutputPath"), next: this.following(state) };
    }
    this.event("WaitScheduled", { stateName: name, waitSeconds: seconds });
    await this.sleep(seconds);
    return outcome;
  }

  private async fail(state: StateDefinition, input: unknown): Promise<StatesError> {
    if (this.language(state) === "JSONata") {
      const scope = this.jsonata({ input });
      const error = isExpression(state.Error) ? await evaluateExpression(state.Error, scope, "Error") : state.Error;
      const cause = isExpression(state.Cause) ? await evaluateExpression(state.Cause, scope, "Cause") : state.Cause;
      return new StatesError(String(error ?? ""), String(cause ?? ""));
    }
    const error = state.ErrorPath !== undefined ? getPath(input, state.ErrorPath, this.pathScope, "ErrorPath") : state.Error;
    const cause = state.CausePath !== undefined ? getPath(input, state.CausePath, this.pathScope, "CausePath") : state.Cause;
    return new StatesError(String(error ?? ""), String(cause ?? ""));
  }

  /** A Task: its attempts under Retry, then Catch; what it outputs and assigns, or the error that ends the execution. */
  private async task(name: string, state: StateDefinition, input: unknown): Promise<StateOutcome> {
    const counts = new RetryCounts();
    for (let retries = 0; ; retries++) {
      this.context.State = { ...this.context.State, RetryCount: retries };
      const calls: ServiceCall[] = [];
      try {
        const outcome = await this.attempt(name, state, input, calls);
        return outcome;
      } catch (e) {
        if (e instanceof ExecutionTimedOut || !(e instanceof StatesError)) throw e;
        const retry = counts.next(state.Retry, e.error, this.random);
        this.event("TaskFailed", { stateName: name, error: e.error, cause: e.cause, calls, ...(retry ? { retryInSeconds: retry.seconds } : {}) });
        if (retry) {
          await this.sleep(retry.seconds);
          continue;
        }
        return this.caught(name, state, input, e);
      }
    }
  }

  private async attempt(name: string, state: StateDefinition, input: unknown, calls: ServiceCall[]): Promise<StateOutcome> {
    const resource = state.Resource!;
    const jsonata = this.language(state) === "JSONata";
    let args: unknown;
    let effective: unknown;
    if (jsonata) {
      args = state.Arguments === undefined ? input : await evaluateTemplate(state.Arguments, this.jsonata({ input }), "Arguments");
    } else {
      effective = selectPath(input, state.InputPath, this.pathScope, "InputPath");
      args = state.Parameters !== undefined ? resolvePayload(state.Parameters, effective, this.pathScope, "Parameters") : effective;
    }
    const timeoutValue = isExpression(state.TimeoutSeconds) ? await evaluateExpression(state.TimeoutSeconds, this.jsonata({ input }), "TimeoutSeconds") : state.TimeoutSeconds;
    const handler = this.handlers.find((h) => h.handles(resource))!;
    this.event("TaskScheduled", { stateName: name, resource, parameters: args });
    const result = await this.callHandler(handler, resource, args, name, calls, timeoutValue);
    if (jsonata) {
      const scope = this.jsonata({ input, result });
      const assigned = await this.assign(state.Assign, scope, "Assign");
      const output = state.Output === undefined ? result : await evaluateTemplate(state.Output, scope, "Output");
      this.event("TaskSucceeded", { stateName: name, resource, output: result, calls });
      return { output, next: this.following(state), assigned };
    }
    const selected = state.ResultSelector !== undefined ? resolvePayload(state.ResultSelector, result, this.pathScope, "ResultSelector") : result;
    const output = selectPath(applyResultPath(input, state.ResultPath, selected), state.OutputPath, this.pathScope, "OutputPath");
    this.event("TaskSucceeded", { stateName: name, resource, output: result, calls });
    return { output, next: this.following(state) };
  }

  /** Runs the handler; a Task's own TimeoutSeconds ends it with States.Timeout, the execution's timeout with ExecutionTimedOut. */
  private async callHandler(handler: TaskHandler, resource: string, args: unknown, name: string, calls: ServiceCall[], timeoutSeconds: unknown): Promise<unknown> {
    const task = new AbortController();
    const stop = () => task.abort();
    this.controller.signal.addEventListener("abort", stop, { once: true });
    let timer: NodeJS.Timeout | undefined;
    let endExecution = () => {};
    const limits: Promise<never>[] = [
      new Promise((_, reject) => {
        endExecution = () => reject(new ExecutionTimedOut());
        if (this.controller.signal.aborted) endExecution();
        this.controller.signal.addEventListener("abort", endExecution, { once: true });
      }),
    ];
    if (timeoutSeconds !== undefined) {
      if (typeof timeoutSeconds !== "number" || !Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) throw runtimeError(`TimeoutSeconds of state ${name} must be a positive integer, not ${JSON.stringify(timeoutSeconds)}`);
      limits.push(
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            task.abort();
            reject(new StatesError("States.Timeout", `the task ran longer than its TimeoutSeconds (${timeoutSeconds} s)`));
          }, timeoutSeconds * 1000);
        }),
      );
    }
    const ctx = { stateName: name, signal: task.signal, sleep: (s: number) => this.sleep(s, task.signal), call: (c: ServiceCall) => calls.push(c) };
    try {
      const result = await Promise.race([handler.run(resource, structuredClone(args), ctx), ...limits]);
      return result === undefined ? {} : result;
    } finally {
      clearTimeout(timer);
      this.controller.signal.removeEventListener("abort", stop);
      this.controller.signal.removeEventListener("abort", endExecution);
      for (const l of limits) l.catch(() => {});
    }
  }

  /** The first catcher that matches, or the error again: it ends the execution. */
  private async caught(name: string, state: StateDefinition, input: unknown, error: StatesError): Promise<StateOutcome> {
    const catcher = findCatcher(state.Catch, error.error);
    if (!catcher) throw error;
    this.event("TaskCaught", { stateName: name, error: error.error, cause: error.cause });
    if (this.language(state) === "JSONata") {
      const scope = this.jsonata({ input, errorOutput: error.output });
      const assigned = await this.assign(catcher.Assign, scope, "Catch/Assign");
      const output = catcher.Output === undefined ? error.output : await evaluateTemplate(catcher.Output, scope, "Catch/Output");
      return { output, next: catcher.Next, assigned };
    }
    return { output: applyResultPath(input, catcher.ResultPath, error.output), next: catcher.Next };
  }
}

function waitSeconds(value: unknown, state: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw runtimeError(`the Wait of state ${state} must be a whole number of seconds (0 or more), not ${JSON.stringify(value)}`);
  return value;
}

function untilTimestamp(value: unknown, state: string): number {
  const at = typeof value === "string" ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) throw runtimeError(`the Timestamp of state ${state} is not an ISO-8601 time: ${JSON.stringify(value)}`);
  return Math.max(0, (at - Date.now()) / 1000);
}
