/**
 * The two ways a state machine stops being run normally here.
 *
 * StatesError is an error of the Amazon States Language: a name (States.TaskFailed,
 * Emr.InvalidRequestException, a Fail state's Error) and a cause, the error output {Error, Cause}
 * that Retry and Catch see. UnsupportedError is this emulation refusing a part of the language or
 * a resource it does not implement: it is never caught by a state machine, it rejects the
 * execution itself, so a test can never pass by a feature being skipped.
 */

export class StatesError extends Error {
  constructor(
    readonly error: string,
    override readonly cause: string,
  ) {
    super(`${error}: ${cause}`);
  }

  get output(): { Error: string; Cause: string } {
    return { Error: this.error, Cause: this.cause };
  }
}

export class UnsupportedError extends Error {
  override readonly name = "UnsupportedError";
}

/** Errors of the language itself (a path that is not in the input, a rule that cannot be evaluated). */
export const runtimeError = (cause: string) => new StatesError("States.Runtime", cause);

/** A JSONata expression that failed, or gave no value where one is needed. */
export const queryError = (cause: string) => new StatesError("States.QueryEvaluationError", cause);
