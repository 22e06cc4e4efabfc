/**
 * Validates a run's outputs as read back from storage: every file the manifest lists is there
 * with its size, row counts add up, column types match the table schema, and every value keeps
 * the schema's rules (nulls, ranges, allowed values, patterns). Streams row group by row group.
 */
import type { ManifestOutput, RunManifest } from "../../../schemas/src/index.js";
import { tables, type TableName } from "../../../schemas/src/index.js";
import { tableJsonSchema } from "../../../schemas/src/export.js";
import type { Problem } from "../errors.js";
import { joinUri } from "../plan/build.js";
import type { Storage } from "../stage/storage.js";
import { columnRules, typeAccepted, type ColumnRule } from "./columns.js";
import { forEachRowGroup, readFooter } from "./parquet.js";

export interface OutputReport {
  name: string;
  uri: string;
  rows: number;
  /** Files missing or with another size: the run is incomplete, not merely invalid. */
  missingFiles: string[];
  problems: Problem[];
}

const MAX_PROBLEMS_PER_COLUMN = 3;

function checkValues(rule: ColumnRule, values: ArrayLike<unknown>, rows: number, file: string, offset: number, problems: Problem[], counts: Map<string, number>) {
  let reported = counts.get(rule.name) ?? 0;
  const report = (row: number, message: string) => {
    reported++;
    if (reported <= MAX_PROBLEMS_PER_COLUMN) problems.push({ file, path: rule.name, message: `row ${offset + row}: ${message}` });
  };
  const numeric = rule.minimum !== undefined || rule.maximum !== undefined;
  for (let r = 0; r < rows; r++) {
    const v = values[r];
    if (v === null || v === undefined) {
      if (!rule.nullable) report(r, "is null, but the column is not nullable");
      continue;
    }
    if (numeric) {
      const n = typeof v === "bigint" ? Number(v) : (v as number);
      if (Number.isNaN(n)) report(r, "is NaN");
      else if (rule.minimum !== undefined && n < rule.minimum) report(r, `${n} is below the minimum ${rule.minimum}`);
      else if (rule.maximum !== undefined && n > rule.maximum) report(r, `${n} is above the maximum ${rule.maximum}`);
    } else if (typeof v === "number" && Number.isNaN(v)) {
      report(r, "is NaN");
    }
    if (rule.enum && !rule.enum.includes(v as string)) report(r, `${JSON.stringify(v)} is not one of ${rule.enum.join(", ")}`);
    if (rule.pattern && !rule.pattern.test(v as string)) report(r, `${JSON.stringify(v)} does not match ${rule.pattern.source}`);
  }
  counts.set(rule.name, reported);
}

export async function validateOutput(storage: Storage, name: string, output: ManifestOutput): Promise<OutputReport> {
  const report: OutputReport = { name, uri: output.uri, rows: 0, missingFiles: [], problems: [] };
  if (!Object.hasOwn(tables, output.table)) {
    report.problems.push({ path: output.table, message: `unknown table schema ${output.table}` });
    return report;
  }
  const rules = columnRules(tableJsonSchema(tables[output.table as TableName]));
  const counts = new Map<string, number>();
  for (const f of output.files) {
    const uri = joinUri(output.uri, f.path);
    const size = await storage.size(uri);
    if (size !== f.bytes) report.missingFiles.push(size === undefined ? `${uri} is missing` : `${uri} has ${size} bytes, the manifest says ${f.bytes}`);
  }
  if (report.missingFiles.length) return report;
  for (const f of output.files) {
    const uri = joinUri(output.uri, f.path);
    const file = await storage.open(uri);
    const footer = await readFooter(file);
    const actual = new Map(footer.columns.map((c) => [c.name, c]));
    for (const rule of rules) {
      const col = actual.get(rule.name);
      if (!col) report.problems.push({ file: uri, path: rule.name, message: `column is missing (expected ${rule.sparkType})` });
      else if (!typeAccepted(rule.sparkType, col.sparkType)) report.problems.push({ file: uri, path: rule.name, message: `has type ${col.sparkType}, expected ${rule.sparkType}` });
    }
    for (const c of footer.columns) {
      if (!rules.some((r) => r.name === c.name)) report.problems.push({ file: uri, path: c.name, message: `column is not in the table schema ${output.table}` });
    }
    report.rows += footer.rows;
    const present = rules.filter((r) => actual.has(r.name));
    await forEachRowGroup(file, footer, present.map((r) => r.name), (chunk, rows) => {
      for (const rule of present) checkValues(rule, chunk.get(rule.name) ?? [], rows, uri, 0, report.problems, counts);
    });
  }
  for (const [column, n] of counts) {
    if (n > MAX_PROBLEMS_PER_COLUMN) report.problems.push({ file: output.uri, path: column, message: `${n - MAX_PROBLEMS_PER_COLUMN} more rows break this column's rules` });
  }
  if (report.rows !== output.rows) report.problems.push({ file: output.uri, message: `files hold ${report.rows} rows, the manifest says ${output.rows}` });
  return report;
}

export async function validateOutputs(storage: Storage, manifest: RunManifest): Promise<OutputReport[]> {
  const reports: OutputReport[] = [];
  for (const [name, output] of Object.entries(manifest.outputs)) reports.push(await validateOutput(storage, name, output));
  return reports;
}
