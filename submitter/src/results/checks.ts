/**
 * Quality gates from the job definition, evaluated against the manifest. Pure.
 *
 * metric and rows gates are judged here from the manifest's numbers; the gates the runner
 * evaluates in Spark (unique, references, accepted, reconcile, drift) are read from the
 * manifest's checks. A gate of severity warn never fails the run; it is reported as a warning.
 */
import type { CheckSpec, ManifestCheck, RunManifest } from "../../../schemas/src/index.js";

export interface CheckResult {
  name: string;
  /** False only for an error: a gate that fails the run. */
  passed: boolean;
  /** ok, warn (reported, the run stands) or error (the run fails its gates). */
  outcome: "ok" | "warn" | "error";
  detail: string;
  /** A sample of the failing rows, beside the manifest. */
  sample?: string;
}

export function metricAt(metrics: Record<string, unknown>, path: string): unknown {
  let value: unknown = metrics;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** passed / WARNING / FAILED, as the tables print it. */
export function outcomeLabel(result: CheckResult): string {
  return result.outcome === "ok" ? "passed" : result.outcome === "warn" ? "WARNING" : "FAILED";
}

function result(name: string, ok: boolean, severity: "warn" | "error", detail: string): CheckResult {
  const outcome = ok ? "ok" : severity;
  return { name, passed: outcome !== "error", outcome, detail };
}

function fromManifest(check: CheckSpec, found: ManifestCheck | undefined): CheckResult {
  const severity = check.severity ?? "error";
  if (!found) return result(check.name, false, severity, "the run did not evaluate this gate (its manifest has no result for it)");
  return { name: check.name, passed: found.outcome !== "error", outcome: found.outcome, detail: found.detail, ...(found.sample ? { sample: found.sample } : {}) };
}

export function evaluateChecks(checks: CheckSpec[], manifest: RunManifest): CheckResult[] {
  const evaluated = new Map((manifest.checks ?? []).map((c) => [c.name, c]));
  return checks.map((check) => {
    const severity = check.severity ?? "error";
    if ("metric" in check) {
      const value = metricAt(manifest.metrics, check.metric);
      if (typeof value !== "number" || Number.isNaN(value)) {
        return result(check.name, false, severity, `metric ${check.metric} is ${value === undefined ? "missing" : JSON.stringify(value)}, not a number`);
      }
      if (check.min !== undefined && value < check.min) {
        return result(check.name, false, severity, `${check.metric} = ${value} is ${(check.min - value).toPrecision(3)} below the minimum ${check.min}`);
      }
      if (check.max !== undefined && value > check.max) {
        return result(check.name, false, severity, `${check.metric} = ${value} is ${(value - check.max).toPrecision(3)} above the maximum ${check.max}`);
      }
      const bounds = [check.min !== undefined ? `>= ${check.min}` : "", check.max !== undefined ? `<= ${check.max}` : ""].filter(Boolean).join(" and ");
      return result(check.name, true, severity, `${check.metric} = ${value}${bounds ? ` (${bounds})` : ""}`);
    }
    if ("output" in check) {
      const rows = manifest.outputs[check.output]?.rows;
      if (rows === undefined) return result(check.name, false, severity, `output ${check.output} is not in the manifest`);
      if (check.minRows !== undefined && rows < check.minRows) return result(check.name, false, severity, `${check.output} has ${rows} rows, ${check.minRows - rows} fewer than the minimum ${check.minRows}`);
      if (check.maxRows !== undefined && rows > check.maxRows) return result(check.name, false, severity, `${check.output} has ${rows} rows, ${rows - check.maxRows} more than the maximum ${check.maxRows}`);
      return result(check.name, true, severity, `${check.output} has ${rows} rows`);
    }
    return fromManifest(check, evaluated.get(check.name));
  });
}
