/**
 * The one poller: bounded, exponential backoff with jitter, logs state changes only. A timeout
 * names the last state seen and where the logs are.
 */
import { SparkjobsError } from "../errors.js";

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface PollOptions<T> {
  check: () => Promise<T>;
  done: (value: T) => boolean;
  /** A short word for the state, to log changes. */
  describe: (value: T) => string;
  onChange?: (state: string, elapsedMs: number) => void;
  timeoutMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
  /** 0..1: each delay is multiplied by a random factor in [1 - jitter, 1]. */
  jitter?: number;
  clock?: Clock;
  random?: () => number;
  /** For the timeout message. */
  what: string;
  logLocation?: string;
}

export async function poll<T>(options: PollOptions<T>): Promise<T> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const start = clock.now();
  const maxDelay = options.maxDelayMs ?? 15_000;
  let delay = Math.min(options.initialDelayMs ?? 500, maxDelay);
  const factor = options.factor ?? 1.5;
  const jitter = options.jitter ?? 0.2;
  let last: string | undefined;
  for (;;) {
    const value = await options.check();
    const state = options.describe(value);
    if (state !== last) {
      options.onChange?.(state, clock.now() - start);
      last = state;
    }
    if (options.done(value)) return value;
    const elapsed = clock.now() - start;
    if (elapsed >= options.timeoutMs) {
      throw new SparkjobsError("timeout", `${options.what} did not finish within ${Math.round(options.timeoutMs / 1000)} s; last state ${state}`, {
        fix: `raise --timeout, or look at the logs${options.logLocation ? `: ${options.logLocation}` : ""}`,
      });
    }
    const wait = Math.min(delay * (1 - jitter * random()), options.timeoutMs - elapsed);
    await clock.sleep(Math.max(0, wait));
    delay = Math.min(delay * factor, maxDelay);
  }
}
