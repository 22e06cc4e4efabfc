/**
 * The interpreter's JSONPath states: Parameters with `key.$`, InputPath, ResultSelector,
 * ResultPath, OutputPath, Choice rules on Variable, a catcher's ResultPath and a Fail state's
 * ErrorPath/CausePath.
 */
import { describe, expect, test } from "vitest";
import { evaluateRule } from "../fakes/states/choice-rules.js";
import { StatesError } from "../fakes/states/errors.js";
import { execute } from "../fakes/states/interpreter.js";
import { applyResultPath, readPath } from "../fakes/states/jsonpath.js";
import type { StateMachineDefinition } from "../fakes/states/types.js";
import { RESOURCE, scripted } from "./states-fakes.js";

const scope = { context: { Execution: { Id: "arn:exec" } }, variables: new Map<string, unknown>([["limit", { n: 3 }]]) };

describe("paths", () => {
  test("reference paths read the input, the context object ($$) and variables ($name); absent is not found", () => {
    const input = { a: { "b c": [10, { d: true }] } };
    expect(readPath(input, "$.a['b c'][1].d", scope)).toEqual({ found: true, value: true });
    expect(readPath(input, "$", scope)).toEqual({ found: true, value: input });
    expect(readPath(input, "$$.Execution.Id", scope)).toEqual({ found: true, value: "arn:exec" });
    expect(readPath(input, "$limit.n", scope)).toEqual({ found: true, value: 3 });
    expect(readPath(input, "$.a.x", scope)).toEqual({ found: false });
    expect(readPath(input, "$.a['b c'][2]", scope)).toEqual({ found: false });
    expect(() => readPath(input, "$.a[*]", scope)).toThrow("only reference paths are emulated");
  });

  test("ResultPath: $ replaces, null keeps the input, a path sets (making objects on the way) without touching the input", () => {
    const input = { x: 1, m: { keep: true } };
    expect(applyResultPath(input, "$", { r: 1 })).toEqual({ r: 1 });
    expect(applyResultPath(input, null, { r: 1 })).toBe(input);
    expect(applyResultPath(input, "$.m.result", { r: 1 })).toEqual({ x: 1, m: { keep: true, result: { r: 1 } } });
    expect(applyResultPath(input, "$.new.deep", 5)).toEqual({ x: 1, m: { keep: true }, new: { deep: 5 } });
    expect(input).toEqual({ x: 1, m: { keep: true } });
    expect(() => applyResultPath({ x: 1 }, "$.x.y", 5)).toThrow("x is not an object");
  });
});

describe("Choice rules", () => {
  const input = { s: "RUNNING", n: 7, b: false, nested: { logUri: "s3://b/l/" }, nil: null };
  const rule = (r: Record<string, unknown>) => evaluateRule(r, input, scope);

  test("comparisons, IsPresent and the Boolean operators", () => {
    expect(rule({ Variable: "$.nested.logUri", IsPresent: true })).toBe(true);
    expect(rule({ Variable: "$.nested.other", IsPresent: true })).toBe(false);
    expect(rule({ Variable: "$.nested.other", IsPresent: false })).toBe(true);
    expect(rule({ Variable: "$.s", StringEquals: "RUNNING" })).toBe(true);
    expect(rule({ Variable: "$.s", StringMatches: "RUN*" })).toBe(true);
    expect(rule({ Variable: "$.n", NumericEquals: 7 })).toBe(true);
    expect(rule({ Variable: "$.n", NumericGreaterThanPath: "$limit.n" })).toBe(true);
    expect(rule({ Variable: "$.n", StringEquals: "7" })).toBe(false);
    expect(rule({ Variable: "$.b", BooleanEquals: false })).toBe(true);
    expect(rule({ Variable: "$.nil", IsNull: true })).toBe(true);
    expect(rule({ And: [{ Variable: "$.n", NumericLessThan: 10 }, { Not: { Variable: "$.b", BooleanEquals: true } }] })).toBe(true);
    expect(rule({ Or: [{ Variable: "$.n", NumericLessThan: 5 }, { Variable: "$.s", StringEquals: "DONE" }] })).toBe(false);
  });

  test("a Variable that is not there fails the execution (States.Runtime) unless the rule is IsPresent", () => {
    expect(() => rule({ Variable: "$.missing", StringEquals: "x" })).toThrow(StatesError);
    expect(() => rule({ Variable: "$.missing", StringEquals: "x" })).toThrow('"$.missing"');
  });
});

/** The shape of the EMR Serverless machine: Choice on IsPresent, Pass with Parameters and ResultPath, a Task, Catch to a Fail with CausePath. */
const serverlessLike = (): StateMachineDefinition => ({
  StartAt: "HasLogUri",
  States: {
    HasLogUri: { Type: "Choice", Choices: [{ Variable: "$.overrides.logUri", IsPresent: true, Next: "FromInput" }], Default: "DefaultLogUri" },
    FromInput: { Type: "Pass", Parameters: { "logUri.$": "$.overrides.logUri" }, ResultPath: "$.monitoring", Next: "Run" },
    DefaultLogUri: { Type: "Pass", Parameters: { logUri: "s3://default/" }, ResultPath: "$.monitoring", Next: "Run" },
    Run: {
      Type: "Task",
      Resource: RESOURCE,
      Parameters: { "ApplicationId.$": "$.applicationId", "Name.$": "$$.Execution.Name", Fixed: "x", Monitoring: { "LogUri.$": "$.monitoring.logUri" } },
      ResultSelector: { "JobRunId.$": "$.JobRunId" },
      ResultPath: "$.jobRun",
      OutputPath: "$.jobRun",
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }],
      Next: "Done",
    },
    Failed: { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
    Done: { Type: "Succeed" },
  },
});

describe("JSONPath states", () => {
  test("Parameters with key.$ from the input and the context object; ResultSelector, ResultPath, OutputPath", async () => {
    const call = scripted([{ JobRunId: "jr-1", Arn: "arn:jr-1" }]);
    const r = await execute(serverlessLike(), { input: { applicationId: "app-1", overrides: { logUri: "s3://mine/" } }, handlers: [call.handler], name: "exec-1" });
    expect(r.path).toEqual(["HasLogUri", "FromInput", "Run", "Done"]);
    expect(call.calls).toEqual([{ ApplicationId: "app-1", Name: "exec-1", Fixed: "x", Monitoring: { LogUri: "s3://mine/" } }]);
    expect([r.status, r.output]).toEqual(["SUCCEEDED", { JobRunId: "jr-1" }]);
  });

  test("the Default branch; a caught error goes to $.error beside the input and the Fail state reads its Error and Cause from there", async () => {
    const call = scripted([new StatesError("States.TaskFailed", '{"State":"FAILED"}')]);
    const r = await execute(serverlessLike(), { input: { applicationId: "app-1" }, handlers: [call.handler] });
    expect(r.path).toEqual(["HasLogUri", "DefaultLogUri", "Run", "Failed"]);
    expect(call.calls).toEqual([{ ApplicationId: "app-1", Name: expect.any(String), Fixed: "x", Monitoring: { LogUri: "s3://default/" } }]);
    expect([r.status, r.error, r.cause]).toEqual(["FAILED", "States.TaskFailed", '{"State":"FAILED"}']);
    const failedInput = r.history.find((e) => e.type === "FailStateEntered")!.input;
    expect(failedInput).toEqual({ applicationId: "app-1", monitoring: { logUri: "s3://default/" }, error: { Error: "States.TaskFailed", Cause: '{"State":"FAILED"}' } });
  });

  test("a Parameters path that is not in the input: States.Runtime, not caught", async () => {
    const call = scripted([{}]);
    const r = await execute(serverlessLike(), { input: { overrides: { logUri: "s3://mine/" } }, handlers: [call.handler] });
    expect(call.calls).toHaveLength(0);
    expect([r.status, r.error]).toEqual(["FAILED", "States.Runtime"]);
    expect(r.cause).toContain('the JSONPath "$.applicationId" specified for the field "Parameters.ApplicationId.$" could not be found');
  });
});
