/**
 * Validates a run's outputs as read back from storage: every file the manifest lists is there
 * with its size, row counts add up, column types match the table schema, and every value keeps
 * the schema's rules (nulls, ranges, allowed values, patterns). Streams page by page, reading
 * only what each column's rule needs (column-scan.ts).
 */
import type { ManifestOutput, RunManifest } from "../../../schemas/src/index.js";
import { tables, type TableName } from "../../../schemas/src/index.js";
import { tableJsonSchema } from "../../../schemas/src/export.js";
import { SparkjobsError, type Problem } from "../errors.js";
import { joinUri } from "../plan/build.js";
import type { Storage } from "../stage/storage.js";
import { scanColumnChunk } from "./column-scan.js";
import { columnRules, typeAccepted, type ColumnRule } from "./columns.js";
import { readFooter } from "./parquet.js";

export interface OutputReport {
  name: string;
  uri: string;
  rows: number;
  /** Bytes of Parquet data read to check the values (footers not counted). */
  bytesRead: number;
  /** Files missing or with another size: the run is incomplete, not merely invalid. */
  missingFiles: string[];
  problems: Problem[];
}

const MAX_PROBLEMS_PER_COLUMN = 3;

export async function validateOutput(storage: Storage, name: string, output: ManifestOutput): Promise<OutputReport> {
  const report: OutputReport = { name, uri: output.uri, rows: 0, bytesRead: 0, missingFiles: [], problems: [] };
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
    try {
      await validateFile(storage, uri, output, rules, report, counts);
    } catch (e) {
      if (e instanceof SparkjobsError) throw e;
      // A file of the right size that is not Parquet (truncated and padded, overwritten, garbled).
      report.problems.push({ file: uri, message: `is not a readable Parquet file (${(e as Error).message})` });
    }
  }
  for (const [column, n] of counts) {
    if (n > MAX_PROBLEMS_PER_COLUMN) report.problems.push({ file: output.uri, path: column, message: `${n - MAX_PROBLEMS_PER_COLUMN} more rows break this column's rules` });
  }
  if (report.rows !== output.rows && !report.problems.some((p) => p.message.startsWith("is not a readable Parquet file"))) {
    report.problems.push({ file: output.uri, message: `files hold ${report.rows} rows, the manifest says ${output.rows}` });
  }
  return report;
}

async function validateFile(storage: Storage, uri: string, output: ManifestOutput, rules: ColumnRule[], report: OutputReport, counts: Map<string, number>): Promise<void> {
  {
    const file = await storage.open(uri);
    const footer = await readFooter(file);
    const actual = new Map(footer.columns.map((c) => [c.name, c]));
    /** The columns whose values are checked: present, with an accepted type. */
    const present: ColumnRule[] = [];
    for (const rule of rules) {
      const col = actual.get(rule.name);
      if (!col) report.problems.push({ file: uri, path: rule.name, message: `column is missing (expected ${rule.sparkType})` });
      else if (!typeAccepted(rule.sparkType, col.sparkType)) report.problems.push({ file: uri, path: rule.name, message: `has type ${col.sparkType}, expected ${rule.sparkType}` });
      else present.push(rule);
    }
    for (const c of footer.columns) {
      if (!rules.some((r) => r.name === c.name) && !output.extraColumns?.some((e) => e.name === c.name)) report.problems.push({ file: uri, path: c.name, message: `column is not in the table schema ${output.table}` });
    }
    report.rows += footer.rows;
    let firstRow = 0;
    for (let g = 0; g < footer.rowGroups; g++) {
      for (const rule of present) {
        const scan = await scanColumnChunk(file, footer, g, firstRow, rule, (row, message) => {
          const n = (counts.get(rule.name) ?? 0) + 1;
          counts.set(rule.name, n);
          if (n <= MAX_PROBLEMS_PER_COLUMN) report.problems.push({ file: uri, path: rule.name, message: `row ${row}: ${message}` });
        });
        report.bytesRead += scan.bytesRead;
      }
      firstRow += Number(footer.metadata.row_groups[g]!.num_rows);
    }
  }
}

export async function validateOutputs(storage: Storage, manifest: RunManifest): Promise<OutputReport[]> {
  const reports: OutputReport[] = [];
  for (const [name, output] of Object.entries(manifest.outputs)) reports.push(await validateOutput(storage, name, output));
  return reports;
}
