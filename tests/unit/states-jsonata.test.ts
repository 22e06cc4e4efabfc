/**
 * The interpreter's JSONata states: variables (when an Assign is seen, and by whom), Output,
 * Choice rules with their own Assign, $states in a Catch, and expressions that give no value.
 */
import { describe, expect, test } from "vitest";
import { StatesError } from "../fakes/states/errors.js";
import { execute } from "../fakes/states/interpreter.js";
import type { StateMachineDefinition } from "../fakes/states/types.js";
import { RESOURCE, scripted } from "./states-fakes.js";

const machine = (states: StateMachineDefinition["States"], startAt = Object.keys(states)[0]!): StateMachineDefinition => ({ QueryLanguage: "JSONata", StartAt: startAt, States: states });

describe("Assign and Output", () => {
  test("an Assign sees the variables as they were when its state started, not its own; Output neither; the next state sees them all", async () => {
    const r = await execute(
      machine({
        Start: { Type: "Pass", Assign: { x: 1, y: 10 }, Next: "Both" },
        Both: {
          Type: "Pass",
          Assign: { x: "{% $x + 1 %}", y: "{% $x * 100 %}" },
          Output: { xAtEntry: "{% $x %}", yAtEntry: "{% $y %}" },
          Next: "After",
        },
        After: { Type: "Pass", Output: { x: "{% $x %}", y: "{% $y %}", previous: "{% $states.input %}" }, End: true },
      }),
      { input: {} },
    );
    expect(r.status).toBe("SUCCEEDED");
    // y = 100 (x was 1 when Both started), not 200; Both's Output saw x = 1, y = 10.
    expect(r.output).toEqual({ x: 2, y: 100, previous: { xAtEntry: 1, yAtEntry: 10 } });
    expect(r.path).toEqual(["Start", "Both", "After"]);
    expect(r.variables).toEqual({ x: 2, y: 100 });
  });

  test("a Task's Assign and Output see $states.result and $states.input; without Output the result is the output", async () => {
    const call = scripted([{ Steps: [{ Id: "s-1", Name: "a" }, { Id: "s-2", Name: "b" }] }]);
    const r = await execute(
      machine({
        List: {
          Type: "Task",
          Resource: RESOURCE,
          Arguments: { ClusterId: "{% $states.input.cluster %}", Fixed: "not {an} expression" },
          Assign: { ids: "{% $states.result.Steps.Id %}", cluster: "{% $states.input.cluster %}" },
          Output: "{% $count($states.result.Steps) %}",
          Next: "Plain",
        },
        Plain: { Type: "Task", Resource: RESOURCE, Arguments: { Ids: "{% $ids %}" }, End: true },
      }),
      { input: { cluster: "j-1" }, handlers: [call.handler] },
    );
    expect(call.calls).toEqual([{ ClusterId: "j-1", Fixed: "not {an} expression" }, { Ids: ["s-1", "s-2"] }]);
    expect(r.status).toBe("SUCCEEDED");
    expect(r.output).toEqual({ Steps: [{ Id: "s-1", Name: "a" }, { Id: "s-2", Name: "b" }] });
    expect(r.variables).toEqual({ ids: ["s-1", "s-2"], cluster: "j-1" });
    expect(r.history.filter((e) => e.type === "TaskStateExited").map((e) => e.output)).toEqual([2, { Steps: [{ Id: "s-1", Name: "a" }, { Id: "s-2", Name: "b" }] }]);
  });

  test("an expression that gives nothing fails the state with States.QueryEvaluationError naming the field", async () => {
    const r = await execute(machine({ P: { Type: "Pass", Output: { a: { b: "{% $states.input.missing %}" } }, End: true } }), { input: {} });
    expect(r.status).toBe("FAILED");
    expect(r.error).toBe("States.QueryEvaluationError");
    expect(r.cause).toBe("the JSONata expression \"$states.input.missing\" specified for the field 'Output/a/b' returned nothing (undefined)");
  });
});

describe("Choice", () => {
  const choice = machine({
    Decide: {
      Type: "Choice",
      Assign: { seen: "{% $states.input.n %}", which: "state" },
      Choices: [
        { Condition: "{% $states.input.n > 10 %}", Assign: { which: "big", half: "{% $states.input.n / 2 %}" }, Next: "Big" },
        { Condition: "{% $states.input.n > 5 %}", Next: "Medium" },
      ],
      Default: "Small",
    },
    Big: { Type: "Succeed", Output: { size: "big", which: "{% $which %}", half: "{% $half %}", seen: "{% $seen %}" } },
    Medium: { Type: "Succeed", Output: { size: "medium", which: "{% $which %}", seen: "{% $seen %}" } },
    Small: { Type: "Succeed", Output: { size: "small", which: "{% $which %}" } },
  });

  test("the first rule whose Condition is true: the state's Assign and the rule's, the rule's winning for a name both set", async () => {
    const r = await execute(choice, { input: { n: 12 } });
    expect(r.output).toEqual({ size: "big", which: "big", half: 6, seen: 12 });
    expect(r.path).toEqual(["Decide", "Big"]);
  });

  test("a rule without Assign: the state's Assign alone", async () => {
    const r = await execute(choice, { input: { n: 7 } });
    expect(r.output).toEqual({ size: "medium", which: "state", seen: 7 });
  });

  test("no rule true: Default, with the state's Assign", async () => {
    const r = await execute(choice, { input: { n: 1 } });
    expect(r.output).toEqual({ size: "small", which: "state" });
  });

  test("no rule true and no Default: States.NoChoiceMatched; a Condition that is not a boolean: States.QueryEvaluationError", async () => {
    const none = await execute(machine({ C: { Type: "Choice", Choices: [{ Condition: "{% false %}", Next: "D" }] }, D: { Type: "Succeed" } }), { input: {} });
    expect([none.status, none.error]).toEqual(["FAILED", "States.NoChoiceMatched"]);
    const notBoolean = await execute(machine({ C: { Type: "Choice", Choices: [{ Condition: "{% 'yes' %}", Next: "D" }] }, D: { Type: "Succeed" } }), { input: {} });
    expect([notBoolean.status, notBoolean.error]).toEqual(["FAILED", "States.QueryEvaluationError"]);
  });
});

describe("Catch", () => {
  test("the catcher's Assign and Output see $states.errorOutput and $states.input; the state's own Assign is not applied", async () => {
    const call = scripted([new StatesError("Emr.InvalidRequestException", "Cluster id 'j-X' is not valid.")]);
    const r = await execute(
      machine({
        Call: {
          Type: "Task",
          Resource: RESOURCE,
          Assign: { ok: true },
          Catch: [
            { ErrorEquals: ["Other.Error"], Next: "Wrong" },
            {
              ErrorEquals: ["States.ALL"],
              Assign: { lastError: "{% $states.errorOutput %}", tries: "{% $states.input.tries + 1 %}" },
              Output: { error: "{% $states.errorOutput.Error %}", input: "{% $states.input %}" },
              Next: "Handled",
            },
          ],
          End: true,
        },
        Wrong: { Type: "Fail", Error: "Wrong" },
        Handled: { Type: "Pass", Output: { in: "{% $states.input %}", lastError: "{% $lastError %}", tries: "{% $tries %}", ok: "{% $exists($ok) %}" }, End: true },
      }),
      { input: { tries: 0 }, handlers: [call.handler] },
    );
    expect(r.status).toBe("SUCCEEDED");
    expect(r.output).toEqual({
      in: { error: "Emr.InvalidRequestException", input: { tries: 0 } },
      lastError: { Error: "Emr.InvalidRequestException", Cause: "Cluster id 'j-X' is not valid." },
      tries: 1,
      ok: false,
    });
    expect(r.path).toEqual(["Call", "Handled"]);
  });

  test("a catcher without Output passes the error output {Error, Cause} on", async () => {
    const call = scripted([new StatesError("Boom", "it broke")]);
    const r = await execute(
      machine({ Call: { Type: "Task", Resource: RESOURCE, Catch: [{ ErrorEquals: ["Boom"], Next: "Done" }], End: true }, Done: { Type: "Succeed" } }),
      { input: {}, handlers: [call.handler] },
    );
    expect(r.output).toEqual({ Error: "Boom", Cause: "it broke" });
  });

  test("an uncaught error fails the execution with its name and cause; a Fail state's Error and Cause may be expressions", async () => {
    const uncaught = await execute(machine({ Call: { Type: "Task", Resource: RESOURCE, Catch: [{ ErrorEquals: ["Other"], Next: "Done" }], End: true }, Done: { Type: "Succeed" } }), {
      input: {},
      handlers: [scripted([new StatesError("Boom", "it broke")]).handler],
    });
    expect([uncaught.status, uncaught.error, uncaught.cause]).toEqual(["FAILED", "Boom", "it broke"]);
    const failed = await execute(machine({ F: { Type: "Fail", Error: "{% 'Code' & $states.input.n %}", Cause: "{% 'n was ' & $states.input.n %}" } }), { input: { n: 4 } });
    expect([failed.status, failed.error, failed.cause]).toEqual(["FAILED", "Code4", "n was 4"]);
  });
});
