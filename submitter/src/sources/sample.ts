/**
 * `sources check`: the ingest job on the first rows of each table, on a local Spark, in a
 * throwaway root. Every problem with the definition (a missing column, an expression that does not
 * compile, a cast that fails for every sampled row) stops it with exit 4 and the whole list; rows
 * that break a rule are counted and shown, first of each rule.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { backendFor } from "../backends/targets.js";
import { SparkjobsError } from "../errors.js";
import { executeRun } from "../run.js";
import { readSmallTable } from "../results/parquet.js";
import type { Storage } from "../stage/storage.js";
import type { JobsDirs } from "../config/job.js";

export interface TableCounts {
  read: number;
  filtered: number;
  accepted: number;
  rejected: number;
  rules: { rule: string; column: string | null; rows: number }[];
}

export interface SourcesReport {
  status: "ok";
  file: string;
  source: string;
  sample: number;
  tables: Record<string, TableCounts>;
  absent: string[];
  /** The first rejected row of each rule and column. */
  examples: { table: string; rule: string; column: string | null; value: string | null; line: string | null; source_row: string }[];
}

export async function checkSourcesOnSample(o: { file: string; sample: number; jobsDir: JobsDirs; storage: Storage; conf?: Record<string, string>; log: (m: string) => void }): Promise<SourcesReport> {
  const root = mkdtempSync(join(tmpdir(), "sparkjobs-sources-check-"));
  try {
    const backend = await backendFor({ target: "local", root, conf: o.conf ?? {}, log: o.log }, o.storage);
    const result = await executeRun({
      jobsDir: o.jobsDir,
      job: "ingest",
      params: { sources: resolve(o.file), sample: String(o.sample), max_rejected_share: "1" },
      runId: "sources-check",
      root,
      storage: o.storage,
      backend,
      timeoutMs: 600_000,
      log: o.log,
    });
    const metrics = result.metrics.ingest as { source: string; file: string; absent: string[]; tables: Record<string, TableCounts> };
    const quarantine = result.manifest.outputs.quarantine!;
    const seen = new Set<string>();
    const examples: SourcesReport["examples"] = [];
    for (const f of quarantine.files) {
      for (const row of (await readSmallTable(o.storage, `${quarantine.uri}/${f.path}`)) as unknown as SourcesReport["examples"]) {
        const key = `${row.table}\u0000${row.rule}\u0000${row.column}`;
        if (seen.has(key)) continue;
        seen.add(key);
        examples.push({ table: row.table, rule: row.rule, column: row.column, value: row.value, line: row.line, source_row: row.source_row });
      }
    }
    return { status: "ok", file: o.file, source: metrics.source, sample: o.sample, tables: metrics.tables, absent: metrics.absent, examples };
  } catch (e) {
    // The run is a means here: its failure is the definition's, said without the run.
    if (e instanceof SparkjobsError && e.message.startsWith("run sources-check failed: ")) {
      throw new SparkjobsError(e.kind, e.message.slice("run sources-check failed: ".length), { problems: e.problems, ...(e.fix ? { fix: e.fix } : {}) });
    }
    throw e;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
