/**
 * Quality gates from the job definition, evaluated against the manifest. Pure.
 */
import type { CheckSpec, RunManifest } from "../../../schemas/src/index.js";

export interface CheckResult {
  name: string;
  passed: boolean;
  detail: string;
}

export function metricAt(metrics: Record<string, unknown>, path: string): unknown {
  let value: unknown = metrics;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export function evaluateChecks(checks: CheckSpec[], manifest: RunManifest): CheckResult[] {
  return checks.map((check) => {
    if ("metric" in check) {
      const value = metricAt(manifest.metrics, check.metric);
      if (typeof value !== "number" || Number.isNaN(value)) {
        return { name: check.name, passed: false, detail: `metric ${check.metric} is ${value === undefined ? "missing" : JSON.stringify(value)}, not a number` };
      }
      if (check.min !== undefined && value < check.min) {
        return { name: check.name, passed: false, detail: `${check.metric} = ${value} is ${(check.min - value).toPrecision(3)} below the minimum ${check.min}` };
      }
      if (check.max !== undefined && value > check.max) {
        return { name: check.name, passed: false, detail: `${check.metric} = ${value} is ${(value - check.max).toPrecision(3)} above the maximum ${check.max}` };
      }
      const bounds = [check.min !== undefined ? `>= ${check.min}` : "", check.max !== undefined ? `<= ${check.max}` : ""].filter(Boolean).join(" and ");
      return { name: check.name, passed: true, detail: `${check.metric} = ${value}${bounds ? ` (${bounds})` : ""}` };
    }
    const rows = manifest.outputs[check.output]?.rows;
    if (rows === undefined) return { name: check.name, passed: false, detail: `output ${check.output} is not in the manifest` };
    if (check.minRows !== undefined && rows < check.minRows) return { name: check.name, passed: false, detail: `${check.output} has ${rows} rows, ${check.minRows - rows} fewer than the minimum ${check.minRows}` };
    if (check.maxRows !== undefined && rows > check.maxRows) return { name: check.name, passed: false, detail: `${check.output} has ${rows} rows, ${rows - check.maxRows} more than the maximum ${check.maxRows}` };
    return { name: check.name, passed: true, detail: `${check.output} has ${rows} rows` };
  });
}
