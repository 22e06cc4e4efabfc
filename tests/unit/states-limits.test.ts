/**
 * What bounds an execution (the machine's TimeoutSeconds, a Task's, the bound on transitions) and
 * what the interpreter refuses to run rather than run wrongly.
 */
import { describe, expect, test } from "vitest";
import { execute } from "../fakes/states/interpreter.js";
import type { StateMachineDefinition, TaskHandler } from "../fakes/states/types.js";
import { RESOURCE, scripted } from "./states-fakes.js";

describe("time", () => {
  test("the machine's TimeoutSeconds: TIMED_OUT with States.Timeout, in real seconds (timeScale does not shorten it); the Wait in progress is cut short", async () => {
    const definition: StateMachineDefinition = {
      QueryLanguage: "JSONata",
      TimeoutSeconds: 1,
      StartAt: "First",
      States: { First: { Type: "Pass", Next: "Long" }, Long: { Type: "Wait", Seconds: 600, Next: "Never" }, Never: { Type: "Succeed" } },
    };
    const started = Date.now();
    const r = await execute(definition, { input: {}, timeScale: 0.01 });
    const elapsed = Date.now() - started;
    expect([r.status, r.error]).toEqual(["TIMED_OUT", "States.Timeout"]);
    expect(r.cause).toBe("the execution ran longer than its TimeoutSeconds (1 s)");
    expect(r.path).toEqual(["First", "Long"]);
    expect(r.history.at(-1)!.type).toBe("ExecutionTimedOut");
    // 600 s x 0.01 = 6 s of Wait; the timeout ended it after 1 s.
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3_000);
  });

  test("a Task's TimeoutSeconds: States.Timeout, which its Catch may take", async () => {
    const slow: TaskHandler = { handles: (r) => r === RESOURCE, run: (_r, _a, ctx) => ctx.sleep(60).then(() => ({ late: true })) };
    const definition: StateMachineDefinition = {
      QueryLanguage: "JSONata",
      StartAt: "Slow",
      States: {
        Slow: { Type: "Task", Resource: RESOURCE, TimeoutSeconds: 1, Catch: [{ ErrorEquals: ["States.Timeout"], Next: "TooSlow" }], End: true },
        TooSlow: { Type: "Pass", End: true },
      },
    };
    const r = await execute(definition, { input: {}, handlers: [slow] });
    expect(r.path).toEqual(["Slow", "TooSlow"]);
    expect(r.output).toEqual({ Error: "States.Timeout", Cause: "the task ran longer than its TimeoutSeconds (1 s)" });
  });

  test("a Wait's seconds from a JSONata expression, shortened by timeScale and recorded unscaled", async () => {
    const definition: StateMachineDefinition = {
      QueryLanguage: "JSONata",
      StartAt: "Back",
      States: { Back: { Type: "Wait", Seconds: "{% 15 * $power(2, $states.input.adds - 1) %}", End: true } },
    };
    const started = Date.now();
    const r = await execute(definition, { input: { adds: 3 }, timeScale: 0.01 });
    expect(r.history.find((e) => e.type === "WaitScheduled")!.waitSeconds).toBe(60);
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
  });

  test("maxTransitions ends a machine that loops for ever", async () => {
    const definition: StateMachineDefinition = { QueryLanguage: "JSONata", StartAt: "A", States: { A: { Type: "Pass", Next: "B" }, B: { Type: "Pass", Next: "A" } } };
    const r = await execute(definition, { input: {}, maxTransitions: 50 });
    expect([r.status, r.error]).toEqual(["FAILED", "States.Runtime"]);
    expect(r.cause).toBe("more than 50 states entered: the execution was stopped (maxTransitions)");
    expect(r.path).toHaveLength(50);
  });
});

describe("refused before anything runs", () => {
  test("a Task whose Resource no handler takes: unsupported resource, and no handler was called", async () => {
    const call = scripted([{}]);
    const definition: StateMachineDefinition = {
      QueryLanguage: "JSONata",
      StartAt: "Known",
      States: { Known: { Type: "Task", Resource: RESOURCE, Next: "Lambda" }, Lambda: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", End: true } },
    };
    await expect(execute(definition, { input: {}, handlers: [call.handler] })).rejects.toThrow("state Lambda: unsupported resource arn:aws:states:::lambda:invoke: no task handler takes it");
    expect(call.calls).toHaveLength(0);
  });

  test("Map and Parallel states, and JSONPath fields in a JSONata state", async () => {
    await expect(execute({ StartAt: "M", States: { M: { Type: "Map", End: true } } }, { input: [] })).rejects.toThrow("state M: Map states are not emulated");
    await expect(execute({ StartAt: "P", States: { P: { Type: "Parallel", End: true } } }, { input: {} })).rejects.toThrow("state P: Parallel states are not emulated");
    await expect(execute({ QueryLanguage: "JSONata", StartAt: "P", States: { P: { Type: "Pass", ResultPath: "$.x", End: true } } }, { input: {} })).rejects.toThrow(
      "state P: ResultPath cannot be used in a JSONata state",
    );
  });
});
