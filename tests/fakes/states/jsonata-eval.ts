/**
 * JSONata in a state, as Step Functions evaluates it: a string that is exactly `{% expr %}`,
 * anywhere in a field's JSON (Arguments, Output, Assign, Condition, Seconds, Error, Cause,
 * TimeoutSeconds), is replaced by the value of `expr`, evaluated by the jsonata package at the
 * version Step Functions implements (2.0.6). The expression sees `$states` ({input, result,
 * errorOutput, context}, whichever the field may use) and every workflow variable as `$name`.
 *
 * A value must be JSON: an expression that gives nothing (undefined) or a function fails the state
 * with States.QueryEvaluationError naming the field, as does an expression that does not parse or
 * throws. Step Functions' own added functions ($partition, $range, $hash, $random, $uuid, $parse)
 * are not emulated; the state machines here use none (calling one fails loudly, as an unknown
 * function).
 */
import jsonata from "jsonata";
import { queryError } from "./errors.js";

/** What `$states` holds for one evaluation. */
export interface StatesBinding {
  input: unknown;
  context: unknown;
  result?: unknown;
  errorOutput?: unknown;
}

export interface JsonataScope {
  states: StatesBinding;
  /** The workflow's variables as they were when the state started (a state never sees its own assignments). */
  variables: ReadonlyMap<string, unknown>;
}

const EXPRESSION = /^\{%([\s\S]*)%\}$/;
const compiled = new Map<string, jsonata.Expression>();

export function isExpression(value: unknown): value is string {
  return typeof value === "string" && EXPRESSION.test(value);
}

function compile(text: string, field: string): jsonata.Expression {
  let expression = compiled.get(text);
  if (!expression) {
    try {
      expression = jsonata(text);
    } catch (e) {
      throw queryError(`the JSONata expression ${JSON.stringify(text.trim())} specified for the field '${field}' is not valid: ${(e as Error).message}`);
    }
    compiled.set(text, expression);
  }
  return expression;
}

/** jsonata's results carry marks (sequence, keepSingleton) and may hold functions: only JSON goes on. */
function asJson(value: unknown, text: string, field: string): unknown {
  if (value === undefined) throw queryError(`the JSONata expression ${JSON.stringify(text.trim())} specified for the field '${field}' returned nothing (undefined)`);
  if (typeof value === "function") throw queryError(`the JSONata expression ${JSON.stringify(text.trim())} specified for the field '${field}' returned a function, not JSON`);
  if (typeof value === "number" && !Number.isFinite(value)) throw queryError(`the JSONata expression ${JSON.stringify(text.trim())} specified for the field '${field}' returned ${value}`);
  return JSON.parse(JSON.stringify(value));
}

/** The value of one `{% expr %}` string. */
export async function evaluateExpression(source: string, scope: JsonataScope, field: string): Promise<unknown> {
  const text = EXPRESSION.exec(source)![1]!;
  const expression = compile(text, field);
  const bindings: Record<string, unknown> = Object.fromEntries(scope.variables);
  bindings.states = JSON.parse(JSON.stringify(scope.states));
  let value: unknown;
  try {
    value = await expression.evaluate(undefined, bindings);
  } catch (e) {
    throw queryError(`the JSONata expression ${JSON.stringify(text.trim())} specified for the field '${field}' failed: ${(e as Error).message}`);
  }
  return asJson(value, text, field);
}

/** A field's JSON with every `{% expr %}` string replaced by its value; other values as they are. */
export async function evaluateTemplate(template: unknown, scope: JsonataScope, field: string): Promise<unknown> {
  if (isExpression(template)) return evaluateExpression(template, scope, field);
  if (Array.isArray(template)) {
    const out: unknown[] = [];
    for (const [i, t] of template.entries()) out.push(await evaluateTemplate(t, scope, `${field}[${i}]`));
    return out;
  }
  if (typeof template === "object" && template !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(template)) out[key] = await evaluateTemplate(value, scope, `${field}/${key}`);
    return out;
  }
  return template;
}
