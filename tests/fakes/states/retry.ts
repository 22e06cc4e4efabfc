/**
 * Retry and Catch, as the Amazon States Language defines them.
 *
 * An error name matches an ErrorEquals list when the list has it, or has States.ALL (any error but
 * States.Runtime and States.DataLimitExceeded, which end the execution whatever the state says),
 * or has States.TaskFailed (any error but States.Timeout, and again not those two).
 *
 * Retry: the first retrier whose ErrorEquals matches is used, and only it: once it has used up its
 * MaxAttempts (default 3; 0 never retries) the error goes to Catch even if a later retrier would
 * match. Each retrier counts its own attempts, from the time the state is entered: a state entered
 * again (a Catch that loops back) starts every count from zero. The n-th retry (n from 0) waits
 * IntervalSeconds (default 1) x BackoffRate^n (default 2), at most MaxDelaySeconds, and with
 * JitterStrategy FULL a uniformly random part of that.
 *
 * Catch: the first catcher whose ErrorEquals matches.
 */

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: "FULL" | "NONE";
  Comment?: string;
}

export interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
  Assign?: Record<string, unknown>;
  Output?: unknown;
  Comment?: string;
}

const UNCATCHABLE = new Set(["States.Runtime", "States.DataLimitExceeded"]);

export function errorMatches(errorEquals: readonly string[], error: string): boolean {
  if (UNCATCHABLE.has(error)) return false;
  return errorEquals.some((e) => e === error || e === "States.ALL" || (e === "States.TaskFailed" && error !== "States.Timeout"));
}

/** The attempts each retrier of one state has made since the state was entered. */
export class RetryCounts {
  private readonly counts = new Map<number, number>();

  /**
   * The wait before the next attempt, in (unscaled) seconds, or undefined when the error is not
   * to be retried: no retrier matches, or the first that matches has no attempts left.
   */
  next(retry: readonly Retrier[] | undefined, error: string, random: () => number): { retrier: number; attempt: number; seconds: number } | undefined {
    const index = (retry ?? []).findIndex((r) => errorMatches(r.ErrorEquals, error));
    if (index < 0) return undefined;
    const r = retry![index]!;
    const made = this.counts.get(index) ?? 0;
    if (made >= (r.MaxAttempts ?? 3)) return undefined;
    this.counts.set(index, made + 1);
    return { retrier: index, attempt: made + 1, seconds: retryDelaySeconds(r, made, random) };
  }
}

/** The wait before retry number `made` (0 for the first) of a retrier. */
export function retryDelaySeconds(r: Retrier, made: number, random: () => number): number {
  const backoff = (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** made;
  const capped = r.MaxDelaySeconds !== undefined ? Math.min(backoff, r.MaxDelaySeconds) : backoff;
  return r.JitterStrategy === "FULL" ? random() * capped : capped;
}

export function findCatcher(catchers: readonly Catcher[] | undefined, error: string): Catcher | undefined {
  return (catchers ?? []).find((c) => errorMatches(c.ErrorEquals, error));
}
