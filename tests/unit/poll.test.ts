/**
 * The one poller, with an injected clock and random source: no real time passes.
 */
import { describe, expect, test } from "vitest";
import { formatError, SparkjobsError } from "../../submitter/src/errors.js";
import { poll, type Clock } from "../../submitter/src/wait/poll.js";

class FakeClock implements Clock {
  t = 1_000_000;
  sleeps: number[] = [];
  now() {
    return this.t;
  }
  async sleep(ms: number) {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

/** A check that returns the given states in turn, then keeps returning the last one. */
function script(states: string[]) {
  let i = 0;
  const calls: number[] = [];
  return {
    calls,
    check: async (clock: FakeClock) => {
      calls.push(clock.now());
      return states[Math.min(i++, states.length - 1)]!;
    },
  };
}

/** Park-Miller: a seeded source of randoms in [0, 1). */
function seeded(seed: number) {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return (s - 1) / 2147483646;
  };
}

describe("poll", () => {
  test("returns the first value that is done, without sleeping after it", async () => {
    const clock = new FakeClock();
    const s = script(["PENDING", "RUNNING", "SUCCESS"]);
    const value = await poll({ check: () => s.check(clock), done: (v) => v === "SUCCESS", describe: (v) => v, timeoutMs: 60_000, initialDelayMs: 100, jitter: 0, clock, what: "run r1" });
    expect(value).toBe("SUCCESS");
    expect(s.calls).toHaveLength(3);
    expect(clock.sleeps).toHaveLength(2);
  });

  test("backoff grows by the factor up to the cap (no jitter)", async () => {
    const clock = new FakeClock();
    const s = script([...Array(8).fill("RUNNING"), "SUCCESS"]);
    await poll({ check: () => s.check(clock), done: (v) => v === "SUCCESS", describe: (v) => v, timeoutMs: 3_600_000, initialDelayMs: 100, factor: 2, maxDelayMs: 1000, jitter: 0, clock, what: "run r1" });
    // 100, then x2 each time, never above 1000.
    const expected: number[] = [];
    for (let d = 100, i = 0; i < 8; i++, d = Math.min(d * 2, 1000)) expected.push(d);
    expect(expected).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
    expect(clock.sleeps).toEqual(expected);
  });

  test("defaults: 500 ms, x1.5, capped at 15 s", async () => {
    const clock = new FakeClock();
    const s = script([...Array(12).fill("RUNNING"), "SUCCESS"]);
    await poll({ check: () => s.check(clock), done: (v) => v === "SUCCESS", describe: (v) => v, timeoutMs: 3_600_000, jitter: 0, clock, what: "run r1" });
    const expected: number[] = [];
    for (let d = 500, i = 0; i < 12; i++, d = Math.min(d * 1.5, 15_000)) expected.push(d);
    expect(clock.sleeps).toEqual(expected);
    expect(Math.max(...clock.sleeps)).toBe(15_000);
  });

  test("jitter stays within [delay * (1 - jitter), delay]", async () => {
    const clock = new FakeClock();
    const s = script([...Array(40).fill("RUNNING"), "SUCCESS"]);
    const randoms: number[] = [];
    const source = seeded(7);
    const random = () => {
      const r = source();
      randoms.push(r);
      return r;
    };
    await poll({ check: () => s.check(clock), done: (v) => v === "SUCCESS", describe: (v) => v, timeoutMs: 3_600_000, initialDelayMs: 200, factor: 1.5, maxDelayMs: 5000, jitter: 0.3, clock, random, what: "run r1" });
    expect(clock.sleeps).toHaveLength(40);
    let delay = 200;
    clock.sleeps.forEach((slept, i) => {
      expect(slept, `sleep ${i}`).toBeGreaterThanOrEqual(delay * 0.7 - 1e-9);
      expect(slept, `sleep ${i}`).toBeLessThanOrEqual(delay + 1e-9);
      expect(slept, `sleep ${i}`).toBeCloseTo(delay * (1 - 0.3 * randoms[i]!), 9);
      delay = Math.min(delay * 1.5, 5000);
    });
    // The jitter is real: not every sleep equals its nominal delay.
    expect(new Set(clock.sleeps.slice(-10)).size).toBeGreaterThan(1);
  });

  test("the extremes of random: 0 sleeps the full delay, 1 sleeps delay * (1 - jitter)", async () => {
    for (const [r, expected] of [
      [0, 1000],
      [1, 750],
    ] as const) {
      const clock = new FakeClock();
      const s = script(["RUNNING", "SUCCESS"]);
      await poll({ check: () => s.check(clock), done: (v) => v === "SUCCESS", describe: (v) => v, timeoutMs: 60_000, initialDelayMs: 1000, jitter: 0.25, clock, random: () => r, what: "run r1" });
      expect(clock.sleeps).toEqual([expected]);
    }
  });

  test("reports each state change once, with the elapsed time", async () => {
    const clock = new FakeClock();
    const s = script(["SUBMITTED", "PENDING", "PENDING", "RUNNING", "RUNNING", "RUNNING", "PENDING", "SUCCESS"]);
    const changes: [string, number][] = [];
    await poll({ check: () => s.check(clock), done: (v) => v === "SUCCESS", describe: (v) => v, onChange: (state, ms) => changes.push([state, ms]), timeoutMs: 3_600_000, initialDelayMs: 100, factor: 2, maxDelayMs: 10_000, jitter: 0, clock, what: "run r1" });
    const start = s.calls[0]!;
    const at = (i: number) => s.calls[i]! - start;
    expect(changes).toEqual([
      ["SUBMITTED", at(0)],
      ["PENDING", at(1)],
      ["RUNNING", at(3)],
      ["PENDING", at(6)],
      ["SUCCESS", at(7)],
    ]);
    expect(changes.map(([, ms]) => ms)).toEqual([0, 100, 700, 6300, 12_700]);
  });

  test("a timeout throws kind timeout, naming the last state and the log location", async () => {
    const clock = new FakeClock();
    const s = script(["PENDING", "PENDING", "RUNNING"]);
    const changes: string[] = [];
    const run = poll({
      check: () => s.check(clock),
      done: (v) => v === "SUCCESS",
      describe: (v) => v,
      onChange: (state) => changes.push(state),
      timeoutMs: 10_000,
      initialDelayMs: 1000,
      factor: 2,
      maxDelayMs: 4000,
      jitter: 0,
      clock,
      what: "run demo-1",
      logLocation: "/data/root/logs/demo-1/driver.log",
    });
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SparkjobsError);
    const e = error as SparkjobsError;
    expect(e.kind).toBe("timeout");
    expect(e.exitCode).toBe(10);
    expect(e.message).toContain("last state RUNNING");
    expect(e.fix).toContain("/data/root/logs/demo-1/driver.log");
    expect(formatError(e)).toMatchInlineSnapshot(`
      "error: run demo-1 did not finish within 10 s; last state RUNNING
        fix: raise --timeout, or look at the logs: /data/root/logs/demo-1/driver.log"
    `);
    expect(changes).toEqual(["PENDING", "RUNNING"]);
    // It waits the whole timeout, and not beyond it: the last sleep is cut to the deadline.
    expect(clock.sleeps).toEqual([1000, 2000, 4000, 3000]);
    expect(clock.t - s.calls[0]!).toBe(10_000);
  });

  test("a timeout without a log location still says what to do", async () => {
    const clock = new FakeClock();
    const error = await poll({ check: async () => "QUEUED", done: () => false, describe: (v) => v, timeoutMs: 2500, initialDelayMs: 1000, jitter: 0, clock, what: "step s-1" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SparkjobsError);
    expect(formatError(error as SparkjobsError)).toMatchInlineSnapshot(`
      "error: step s-1 did not finish within 3 s; last state QUEUED
        fix: raise --timeout, or look at the logs"
    `);
  });

  test("a done value is returned even when it arrives at the deadline", async () => {
    const clock = new FakeClock();
    const s = script(["RUNNING", "RUNNING", "SUCCESS"]);
    const value = await poll({ check: () => s.check(clock), done: (v) => v === "SUCCESS", describe: (v) => v, timeoutMs: 3000, initialDelayMs: 1000, factor: 2, jitter: 0, clock, what: "run r1" });
    expect(value).toBe("SUCCESS");
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  test("an error from the check propagates, unchanged", async () => {
    const clock = new FakeClock();
    const boom = new Error("DescribeStep: throttled");
    await expect(poll({ check: async () => Promise.reject(boom), done: () => true, describe: String, timeoutMs: 1000, clock, what: "x" })).rejects.toBe(boom);
  });
});
