/**
 * Command-line parameters (--param name=value) checked against the job's declared params. Pure.
 * Values are typed here and bound by Spark later; they are never put into SQL text.
 */
import { RUN_ID_PATTERN, type JobDefinition, type ParamSpec, type ParamValue } from "../../../schemas/src/index.js";
import { SparkjobsError, type Problem } from "../errors.js";

export interface ResolvedParams {
  /** Values bound into SQL (every declared param, path and runId ones as strings). */
  values: Record<string, ParamValue>;
}

/** Splits "name=value" pairs; the value may itself contain "=". */
function parsePairs(pairs: string[], flag: string, noun: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new SparkjobsError("usage", `${flag} ${JSON.stringify(pair)} is not name=value`, { fix: `write it as ${flag} name=value` });
    }
    const name = pair.slice(0, eq);
    if (Object.hasOwn(out, name)) throw new SparkjobsError("usage", `${flag} ${name} is given twice`, { fix: `give each ${noun} once` });
    out[name] = pair.slice(eq + 1);
  }
  return out;
}

export function parseParamArgs(pairs: string[]): Record<string, string> {
  return parsePairs(pairs, "--param", "parameter");
}

/** Setting names that hold a credential: their values would be staged in the plan, printed by `plan` and sent in EMR step arguments. */
const SECRET_KEY = /(secret|password|passwd|token|credential)|(^|\.)access\.?key$/i;
/** A URL with a user and password in it (jdbc:mysql://user:pw@host, http://key:secret@minio). */
export const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/@\s:]+:[^/@\s]+@/i;

export const CREDENTIALS_FIX =
  "give credentials outside the plan: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment, " +
  "an instance profile or EMR runtime role, or a Hadoop credential provider (spark.hadoop.hadoop.security.credential.provider.path)";

/** --conf key=value pairs: Spark settings, which all start with "spark.", and never a credential. */
export function parseConfArgs(pairs: string[]): Record<string, string> {
  const conf = parsePairs(pairs, "--conf", "setting");
  for (const [key, value] of Object.entries(conf)) {
    if (!key.startsWith("spark.")) throw new SparkjobsError("usage", `--conf ${key} is not a Spark setting`, { fix: "Spark settings start with spark. (e.g. --conf spark.executor.memory=4g)" });
    if (SECRET_KEY.test(key) && !/provider|\.path$|\.class$|\.type$|\.enabled$/i.test(key)) {
      throw new SparkjobsError("usage", `--conf ${key}=... holds a credential: settings go into the run's plan, which is staged under the root, printed by plan and passed to EMR`, { fix: CREDENTIALS_FIX });
    }
    if (URL_WITH_PASSWORD.test(value)) {
      throw new SparkjobsError("usage", `--conf ${key} has a user and password in its URL: settings go into the run's plan, which is staged under the root, printed by plan and passed to EMR`, { fix: CREDENTIALS_FIX });
    }
  }
  return conf;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function checkOne(name: string, spec: ParamSpec, raw: string): ParamValue | string {
  const shown = JSON.stringify(raw);
  switch (spec.type) {
    case "int": {
      if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) return `expected a whole number, got ${shown}`;
      const v = Number(raw);
      if (spec.min !== undefined && v < spec.min) return `must be at least ${spec.min}, got ${v}`;
      if (spec.max !== undefined && v > spec.max) return `must be at most ${spec.max}, got ${v}`;
      return { type: "int", value: v };
    }
    case "double": {
      const v = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(v)) return `expected a number, got ${shown}`;
      if (spec.min !== undefined && v < spec.min) return `must be at least ${spec.min}, got ${v}`;
      if (spec.max !== undefined && v > spec.max) return `must be at most ${spec.max}, got ${v}`;
      return { type: "double", value: v };
    }
    case "boolean":
      if (raw !== "true" && raw !== "false") return `expected true or false, got ${shown}`;
      return { type: "boolean", value: raw === "true" };
    case "date": {
      const d = new Date(`${raw}T00:00:00Z`);
      if (!DATE.test(raw) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== raw) return `expected a date as YYYY-MM-DD, got ${shown}`;
      return { type: "date", value: raw };
    }
    case "enum":
      if (!spec.values.includes(raw)) return `expected one of ${spec.values.join(", ")}, got ${shown}`;
      return { type: "string", value: raw };
    case "list": {
      const items = raw.split(",").map((v) => v.trim());
      if (items.some((v) => v === "")) return `expected one or more of ${spec.values.join(", ")} separated by commas, got ${shown}`;
      const unknown = items.filter((v) => !spec.values.includes(v));
      if (unknown.length) return `${unknown.map((v) => JSON.stringify(v)).join(", ")} ${unknown.length === 1 ? "is not one" : "are not"} of ${spec.values.join(", ")}`;
      const twice = items.filter((v, i) => items.indexOf(v) !== i);
      if (twice.length) return `${JSON.stringify(twice[0])} is given twice`;
      return { type: "string", value: items.join(",") };
    }
    case "runId":
      if (!RUN_ID_PATTERN.test(raw)) return `expected a run id (1-64 of A-Z a-z 0-9 . _ -), got ${shown}`;
      return { type: "string", value: raw };
    case "path":
      if (raw.trim() === "" || /[\0\n\r]/.test(raw)) return `expected a file path or URI, got ${shown}`;
      return { type: "string", value: raw };
    case "string":
      if (raw.length > spec.maxLength) return `longer than ${spec.maxLength} characters`;
      if (/[\0-\x08\x0b\x0c\x0e-\x1f]/.test(raw)) return `contains control characters`;
      if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(raw)) return `must match ${spec.pattern}, got ${shown}`;
      return { type: "string", value: raw };
  }
}

function defaultOf(spec: ParamSpec): string | undefined {
  return spec.default === undefined ? undefined : String(spec.default);
}

export function resolveParams(job: Pick<JobDefinition, "name" | "params">, file: string, given: Record<string, string>, what = "job"): ResolvedParams {
  const problems: Problem[] = [];
  const values: Record<string, ParamValue> = {};
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(job.params, name)) {
      const known = Object.keys(job.params);
      problems.push({ path: name, message: `${what} ${job.name} has no parameter "${name}"${known.length ? ` (it has: ${known.join(", ")})` : ""}` });
    }
  }
  for (const [name, spec] of Object.entries(job.params)) {
    const raw = Object.hasOwn(given, name) ? given[name] : defaultOf(spec);
    if (raw === undefined) {
      if (spec.type === "date" && spec.fromRun) continue; // taken from the source run (plan/inputs.ts)
      if (spec.type === "runId" && spec.optional) continue; // its inputs are read as absent
      problems.push({ path: name, message: `is required${spec.description ? ` (${spec.description})` : ""}: pass --param ${name}=...` });
      continue;
    }
    const checked = checkOne(name, spec, raw);
    if (typeof checked === "string") problems.push({ path: name, message: checked });
    else values[name] = checked;
  }
  if (problems.length) {
    throw new SparkjobsError("usage", `parameters of ${what} ${job.name} are not valid`, {
      problems: problems.map((p) => ({ ...p, path: `--param ${p.path}` })),
      fix: `see the params of ${file}; values are bound by Spark as typed literals, never pasted into SQL`,
    });
  }
  return { values };
}
