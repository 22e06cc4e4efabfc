/**
 * The JSONPath side of the Amazon States Language, as far as reference paths go: `$`, `$.a.b`,
 * `$['a b']`, `$.list[0]`, the context object `$$.Execution.Id`, and workflow variables `$name.a`.
 * That is what InputPath, Parameters (`"key.$": path`), ResultSelector, ResultPath, OutputPath,
 * ErrorPath/CausePath and a Choice rule's Variable take. Not implemented: wildcards, filters,
 * slices and the intrinsic functions (States.Format, ...): a path that uses one is refused
 * (UnsupportedError), never read as something else.
 */
import { runtimeError, UnsupportedError } from "./errors.js";

export type Segment = string | number;

export interface ReferencePath {
  root: { kind: "input" } | { kind: "context" } | { kind: "variable"; name: string };
  segments: Segment[];
}

/** What a path can be read against: the state's input, the context object, the workflow's variables. */
export interface PathScope {
  context: unknown;
  variables: ReadonlyMap<string, unknown>;
}

const NAME = /^[^.[\]\s'"$*?@(),:]+/;

export function parseReferencePath(path: string): ReferencePath {
  if (/^States\.[A-Za-z]+\(/.test(path)) throw new UnsupportedError(`intrinsic functions are not emulated: ${path}`);
  let rest: string;
  let root: ReferencePath["root"];
  if (path.startsWith("$$")) {
    root = { kind: "context" };
    rest = path.slice(2);
  } else if (path === "$" || path.startsWith("$.") || path.startsWith("$[")) {
    root = { kind: "input" };
    rest = path.slice(1);
  } else if (path.startsWith("$")) {
    const m = NAME.exec(path.slice(1));
    if (!m) throw runtimeError(`${JSON.stringify(path)} is not a reference path`);
    root = { kind: "variable", name: m[0] };
    rest = path.slice(1 + m[0].length);
  } else {
    throw runtimeError(`${JSON.stringify(path)} is not a reference path: it must start with $`);
  }
  const segments: Segment[] = [];
  while (rest.length) {
    if (rest.startsWith(".")) {
      const m = NAME.exec(rest.slice(1));
      if (!m) throw unsupportedOrBad(path);
      segments.push(m[0]);
      rest = rest.slice(1 + m[0].length);
      continue;
    }
    const quoted = /^\[(['"])((?:(?!\1).)*)\1\]/.exec(rest);
    if (quoted) {
      segments.push(quoted[2]!);
      rest = rest.slice(quoted[0].length);
      continue;
    }
    const index = /^\[(\d+)\]/.exec(rest);
    if (index) {
      segments.push(Number(index[1]));
      rest = rest.slice(index[0].length);
      continue;
    }
    throw unsupportedOrBad(path);
  }
  return { root, segments };
}

/** Wildcards, filters and slices are JSONPath, but not reference paths: refused loudly rather than misread. */
function unsupportedOrBad(path: string): Error {
  if (/[*?@:]|\.\./.test(path)) return new UnsupportedError(`only reference paths are emulated, not ${JSON.stringify(path)}`);
  return runtimeError(`${JSON.stringify(path)} is not a valid reference path`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function step(value: unknown, segment: Segment): { found: boolean; value?: unknown } {
  if (typeof segment === "number") {
    return Array.isArray(value) && segment < value.length ? { found: true, value: value[segment] } : { found: false };
  }
  return isObject(value) && Object.hasOwn(value, segment) ? { found: true, value: value[segment] } : { found: false };
}

/** Reads a path; `found` is false when some part of it is not there (IsPresent's question). */
export function readPath(input: unknown, path: string, scope: PathScope): { found: boolean; value?: unknown } {
  const { root, segments } = parseReferencePath(path);
  let value: unknown;
  if (root.kind === "input") value = input;
  else if (root.kind === "context") value = scope.context;
  else {
    if (!scope.variables.has(root.name)) return { found: false };
    value = scope.variables.get(root.name);
  }
  for (const s of segments) {
    const next = step(value, s);
    if (!next.found) return { found: false };
    value = next.value;
  }
  return { found: true, value };
}

/** Reads a path that must be there: one that is not fails the execution (States.Runtime), as Step Functions does. */
export function getPath(input: unknown, path: string, scope: PathScope, field: string): unknown {
  const r = readPath(input, path, scope);
  if (!r.found) throw runtimeError(`the JSONPath ${JSON.stringify(path)} specified for the field ${JSON.stringify(field)} could not be found in the input ${JSON.stringify(input)}`);
  return r.value;
}

/** InputPath and OutputPath: absent is `$`, null is an empty object. */
export function selectPath(value: unknown, path: string | null | undefined, scope: PathScope, field: string): unknown {
  if (path === undefined || path === "$") return value;
  if (path === null) return {};
  return getPath(value, path, scope, field);
}

/**
 * A payload template (Parameters, ResultSelector): every `"key.$": path` becomes `"key": value`;
 * other values are copied, nested objects and arrays walked through.
 */
export function resolvePayload(template: unknown, input: unknown, scope: PathScope, field: string): unknown {
  if (Array.isArray(template)) return template.map((t, i) => resolvePayload(t, input, scope, `${field}[${i}]`));
  if (!isObject(template)) return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith(".$")) {
      if (typeof value !== "string") throw runtimeError(`the field ${field}.${key} must be a path string`);
      out[key.slice(0, -2)] = getPath(input, value, scope, `${field}.${key}`);
    } else {
      out[key] = resolvePayload(value, input, scope, `${field}.${key}`);
    }
  }
  return out;
}

/**
 * ResultPath: where the result goes in the state's raw input. Absent or `$`: the result replaces
 * the input; null: the result is dropped and the input passes through; `$.a.b`: the input with
 * `a.b` set (objects made on the way), a copy, the input itself untouched.
 */
export function applyResultPath(rawInput: unknown, resultPath: string | null | undefined, result: unknown): unknown {
  if (resultPath === undefined || resultPath === "$") return result;
  if (resultPath === null) return rawInput;
  const { root, segments } = parseReferencePath(resultPath);
  if (root.kind !== "input") throw runtimeError(`ResultPath ${JSON.stringify(resultPath)} must start with $.`);
  if (segments.length === 0) return result;
  if (!isObject(rawInput)) throw runtimeError(`ResultPath ${JSON.stringify(resultPath)} cannot be applied: the state's input is not an object`);
  const copy = structuredClone(rawInput);
  let at: Record<string, unknown> = copy;
  segments.forEach((s, i) => {
    if (typeof s === "number") throw new UnsupportedError(`array indexes in ResultPath are not emulated: ${resultPath}`);
    if (i === segments.length - 1) {
      at[s] = result;
      return;
    }
    if (at[s] === undefined) at[s] = {};
    const next = at[s];
    if (!isObject(next)) throw runtimeError(`ResultPath ${JSON.stringify(resultPath)} cannot be applied: ${s} is not an object`);
    at = next;
  });
  return copy;
}
