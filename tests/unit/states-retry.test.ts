/**
 * Retry as the interpreter applies it: which retrier, how many attempts, how long between them
 * (and that timeScale shortens the waits, not their recorded length), counts per state entry.
 */
import { describe, expect, test } from "vitest";
import { StatesError } from "../fakes/states/errors.js";
import { execute } from "../fakes/states/interpreter.js";
import { errorMatches, retryDelaySeconds } from "../fakes/states/retry.js";
import type { StateMachineDefinition, StateDefinition } from "../fakes/states/types.js";
import { randoms, RESOURCE, scripted } from "./states-fakes.js";

const throttled = () => new StatesError("Svc.ThrottlingException", "Rate exceeded");
const task = (fields: Partial<StateDefinition>): StateMachineDefinition => ({
  QueryLanguage: "JSONata",
  StartAt: "Call",
  States: { Call: { Type: "Task", Resource: RESOURCE, End: true, ...fields } },
});
const waits = (r: { history: { type: string; retryInSeconds?: number }[] }) => r.history.filter((e) => e.type === "TaskFailed").map((e) => e.retryInSeconds);

describe("Retry", () => {
  test("IntervalSeconds x BackoffRate^n between attempts, MaxAttempts retries, then the error; the waits are shortened by timeScale", async () => {
    const call = scripted([throttled()]);
    const started = Date.now();
    const r = await execute(task({ Retry: [{ ErrorEquals: ["Svc.ThrottlingException"], IntervalSeconds: 3, BackoffRate: 2, MaxAttempts: 3 }] }), {
      input: {},
      handlers: [call.handler],
      timeScale: 0.01,
    });
    const elapsed = Date.now() - started;
    expect(call.calls).toHaveLength(4);
    expect(waits(r)).toEqual([3, 6, 12, undefined]);
    expect([r.status, r.error, r.cause]).toEqual(["FAILED", "Svc.ThrottlingException", "Rate exceeded"]);
    // 21 s of waits at timeScale 0.01: 210 ms, not 21 s.
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(5_000);
  });

  test("the defaults: IntervalSeconds 1, BackoffRate 2, MaxAttempts 3; a success ends the retries", async () => {
    const call = scripted([throttled(), throttled(), { ok: 1 }]);
    const r = await execute(task({ Retry: [{ ErrorEquals: ["States.ALL"] }] }), { input: {}, handlers: [call.handler], timeScale: 0.001 });
    expect(call.calls).toHaveLength(3);
    expect(waits(r)).toEqual([1, 2]);
    expect([r.status, r.output]).toEqual(["SUCCEEDED", { ok: 1 }]);
  });

  test("MaxDelaySeconds caps the wait; JitterStrategy FULL waits a random part of it", async () => {
    const capped = await execute(task({ Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 5, BackoffRate: 3, MaxAttempts: 4, MaxDelaySeconds: 30 }] }), {
      input: {},
      handlers: [scripted([throttled()]).handler],
      timeScale: 0.001,
    });
    expect(waits(capped)).toEqual([5, 15, 30, 30, undefined]);
    const jittered = await execute(task({ Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 10, BackoffRate: 2, MaxAttempts: 3, JitterStrategy: "FULL" }] }), {
      input: {},
      handlers: [scripted([throttled()]).handler],
      timeScale: 0.001,
      random: randoms([0.5, 0.25, 0.1]),
    });
    expect(waits(jittered)).toEqual([5, 5, 4, undefined]);
  });

  test("only the first retrier that matches is used: once it has no attempts left the error is caught, though a later retrier matches too", async () => {
    const call = scripted([throttled()]);
    const definition = task({
      Retry: [
        { ErrorEquals: ["Svc.ThrottlingException"], MaxAttempts: 1, IntervalSeconds: 1 },
        { ErrorEquals: ["States.ALL"], MaxAttempts: 5, IntervalSeconds: 1 },
      ],
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }],
    });
    definition.States.Caught = { Type: "Succeed" };
    const caught = await execute(definition, { input: {}, handlers: [call.handler], timeScale: 0.001 });
    expect(call.calls).toHaveLength(2);
    expect(waits(caught)).toEqual([1, undefined]);
    expect(caught.path).toEqual(["Call", "Caught"]);
  });

  test("MaxAttempts 0 never retries; each retrier counts its own attempts", async () => {
    const never = scripted([new StatesError("Emr.InvalidRequestException", "bad")]);
    const r = await execute(task({ Retry: [{ ErrorEquals: ["Emr.InvalidRequestException"], MaxAttempts: 0 }, { ErrorEquals: ["States.ALL"] }] }), { input: {}, handlers: [never.handler], timeScale: 0.001 });
    expect(never.calls).toHaveLength(1);
    expect(r.error).toBe("Emr.InvalidRequestException");

    // The Amazon States Language specification's example: ErrorA, ErrorB, ErrorC, ErrorB.
    const e = (name: string) => new StatesError(name, name);
    const mixed = scripted([e("ErrorA"), e("ErrorB"), e("ErrorC"), e("ErrorB"), { never: "reached" }]);
    const m = await execute(
      task({ Retry: [{ ErrorEquals: ["ErrorA", "ErrorB"], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 2 }, { ErrorEquals: ["ErrorC"], IntervalSeconds: 5 }] }),
      { input: {}, handlers: [mixed.handler], timeScale: 0.001 },
    );
    // 1 and 2 s (the first retrier), 5 s (the second), then the first has made its two retries.
    expect(waits(m)).toEqual([1, 2, 5, undefined]);
    expect(mixed.calls).toHaveLength(4);
    expect([m.status, m.error]).toEqual(["FAILED", "ErrorB"]);
  });

  test("the counts start again each time the state is entered", async () => {
    const call = scripted([throttled(), throttled(), throttled(), throttled(), { done: true }]);
    const definition: StateMachineDefinition = {
      QueryLanguage: "JSONata",
      StartAt: "Call",
      States: {
        Call: { Type: "Task", Resource: RESOURCE, Retry: [{ ErrorEquals: ["States.ALL"], MaxAttempts: 1, IntervalSeconds: 1 }], Catch: [{ ErrorEquals: ["States.ALL"], Next: "Again" }], End: true },
        Again: { Type: "Pass", Next: "Call" },
      },
    };
    const r = await execute(definition, { input: {}, handlers: [call.handler], timeScale: 0.001 });
    expect(r.path).toEqual(["Call", "Again", "Call", "Again", "Call"]);
    expect(waits(r)).toEqual([1, undefined, 1, undefined]);
    expect(r.output).toEqual({ done: true });
  });
});

describe("error names", () => {
  test("States.ALL matches any error but States.Runtime; States.TaskFailed any but States.Timeout", () => {
    expect(errorMatches(["States.ALL"], "Emr.InvalidRequestException")).toBe(true);
    expect(errorMatches(["States.ALL"], "States.Timeout")).toBe(true);
    expect(errorMatches(["States.ALL"], "States.Runtime")).toBe(false);
    expect(errorMatches(["States.TaskFailed"], "EMRServerless.ThrottlingException")).toBe(true);
    expect(errorMatches(["States.TaskFailed"], "States.Timeout")).toBe(false);
    expect(errorMatches(["EMRServerless.ThrottlingException", "EMRServerless.InternalServerException"], "EMRServerless.ValidationException")).toBe(false);
  });

  test("a States.Runtime error is neither retried nor caught", async () => {
    const definition: StateMachineDefinition = {
      StartAt: "Call",
      States: {
        Call: { Type: "Task", Resource: RESOURCE, InputPath: "$.absent", Retry: [{ ErrorEquals: ["States.ALL"] }], Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }], End: true },
        Caught: { Type: "Succeed" },
      },
    };
    const call = scripted([{}]);
    const r = await execute(definition, { input: { present: 1 }, handlers: [call.handler], timeScale: 0.001 });
    expect(call.calls).toHaveLength(0);
    expect([r.status, r.error]).toEqual(["FAILED", "States.Runtime"]);
    expect(r.cause).toContain('the JSONPath "$.absent" specified for the field "InputPath" could not be found');
  });

  test("retryDelaySeconds: the n-th wait of a retrier", () => {
    expect([0, 1, 2, 3].map((n) => retryDelaySeconds({ ErrorEquals: ["States.ALL"], IntervalSeconds: 15, BackoffRate: 2 }, n, () => 0.5))).toEqual([15, 30, 60, 120]);
    expect(retryDelaySeconds({ ErrorEquals: ["States.ALL"], IntervalSeconds: 15, BackoffRate: 2, JitterStrategy: "FULL" }, 2, () => 0.5)).toBe(30);
  });
});
