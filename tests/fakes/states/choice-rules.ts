/**
 * A JSONPath Choice rule: Variable with one comparison (String*, Numeric*, Boolean*, Timestamp*,
 * with or without the Path form), the type tests (IsPresent, IsNull, IsString, IsNumeric,
 * IsBoolean, IsTimestamp), and And, Or, Not. As in Step Functions, a Variable that is not in the
 * input fails the execution (States.Runtime) unless the rule is IsPresent; a comparison of the
 * wrong type is simply false.
 */
import { runtimeError, UnsupportedError } from "./errors.js";
import { getPath, readPath, type PathScope } from "./jsonpath.js";

type Rule = Record<string, unknown>;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** StringMatches: `*` is any run of characters, `\*` a literal star, `\\` a backslash. */
function wildcard(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\" && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    else if (c === "*") re += ".*";
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}

type Compare = (a: unknown, b: unknown) => boolean;
const str = (f: (a: string, b: string) => boolean): Compare => (a, b) => typeof a === "string" && typeof b === "string" && f(a, b);
const num = (f: (a: number, b: number) => boolean): Compare => (a, b) => typeof a === "number" && typeof b === "number" && f(a, b);
const time = (f: (a: number, b: number) => boolean): Compare => (a, b) =>
  typeof a === "string" && typeof b === "string" && TIMESTAMP.test(a) && TIMESTAMP.test(b) && f(Date.parse(a), Date.parse(b));

const COMPARISONS: Record<string, Compare> = {
  StringEquals: str((a, b) => a === b),
  StringLessThan: str((a, b) => a < b),
  StringGreaterThan: str((a, b) => a > b),
  StringLessThanEquals: str((a, b) => a <= b),
  StringGreaterThanEquals: str((a, b) => a >= b),
  StringMatches: str((a, b) => wildcard(b).test(a)),
  NumericEquals: num((a, b) => a === b),
  NumericLessThan: num((a, b) => a < b),
  NumericGreaterThan: num((a, b) => a > b),
  NumericLessThanEquals: num((a, b) => a <= b),
  NumericGreaterThanEquals: num((a, b) => a >= b),
  BooleanEquals: (a, b) => typeof a === "boolean" && a === b,
  TimestampEquals: time((a, b) => a === b),
  TimestampLessThan: time((a, b) => a < b),
  TimestampGreaterThan: time((a, b) => a > b),
  TimestampLessThanEquals: time((a, b) => a <= b),
  TimestampGreaterThanEquals: time((a, b) => a >= b),
};

const TYPE_TESTS: Record<string, (v: unknown) => boolean> = {
  IsNull: (v) => v === null,
  IsString: (v) => typeof v === "string",
  IsNumeric: (v) => typeof v === "number",
  IsBoolean: (v) => typeof v === "boolean",
  IsTimestamp: (v) => typeof v === "string" && TIMESTAMP.test(v),
};

const NOT_OPERATORS = new Set(["Variable", "Next", "Comment", "Assign", "Output"]);

export function evaluateRule(rule: Rule, input: unknown, scope: PathScope): boolean {
  if (Array.isArray(rule.And)) return (rule.And as Rule[]).every((r) => evaluateRule(r, input, scope));
  if (Array.isArray(rule.Or)) return (rule.Or as Rule[]).some((r) => evaluateRule(r, input, scope));
  if (rule.Not !== undefined) return !evaluateRule(rule.Not as Rule, input, scope);
  const variable = rule.Variable;
  if (typeof variable !== "string") throw runtimeError(`a Choice rule without Variable, And, Or or Not: ${JSON.stringify(rule)}`);
  const operators = Object.keys(rule).filter((k) => !NOT_OPERATORS.has(k));
  if (operators.length !== 1) throw runtimeError(`a Choice rule must have exactly one comparison: ${JSON.stringify(rule)}`);
  const operator = operators[0]!;
  const expected = rule[operator];
  if (operator === "IsPresent") return readPath(input, variable, scope).found === expected;
  const value = getPath(input, variable, scope, "Variable");
  const typeTest = TYPE_TESTS[operator];
  if (typeTest) return typeTest(value) === expected;
  const byPath = operator.endsWith("Path");
  const compare = COMPARISONS[byPath ? operator.slice(0, -4) : operator];
  if (!compare) throw new UnsupportedError(`the Choice operator ${operator} is not emulated`);
  const other = byPath ? getPath(input, String(expected), scope, operator) : expected;
  return compare(value, other);
}
