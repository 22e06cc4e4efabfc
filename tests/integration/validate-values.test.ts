/**
 * The validator reads back Spark-written Parquet page by page and names every row that breaks a
 * column's rule, whatever layout Spark chose: dictionary pages (v1), no dictionary (PLAIN), and data
 * page v2 (RLE_DICTIONARY, DELTA_BYTE_ARRAY). Files come from a real Spark with rule-breaking
 * values planted at known rows, over several row groups and many pages each.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tableJsonSchema } from "../../schemas/src/export.js";
import { tables } from "../../schemas/src/index.js";
import { scanColumnChunk } from "../../submitter/src/results/column-scan.js";
import { columnRules } from "../../submitter/src/results/columns.js";
import { readFooter } from "../../submitter/src/results/parquet.js";
import { validateOutput } from "../../submitter/src/results/validate.js";
import { LocalStorage } from "../../submitter/src/stage/storage.js";
import { python, repo } from "./helpers.js";

const ROWS = 200_000;
interface Layout {
  dir: string;
  rows: number;
  files: { path: string; bytes: number }[];
}
let made: { planted: Record<string, number[]>; layouts: Record<string, Layout> };
const storage = new LocalStorage();
const rules = columnRules(tableJsonSchema(tables.customer_segments));

beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), "sparkjobs-invalid-"));
  const stdout = execFileSync(python(), [join(repo, "tests", "integration", "make_invalid_outputs.py"), out, String(ROWS)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  made = JSON.parse(stdout.trim().split("\n").at(-1)!);
}, 180_000);

describe.each(["dictionary_v1", "plain_v1", "v2"])("validate on Spark output written as %s", (name) => {
  it("the file has the intended layout: one file, several row groups", async () => {
    const layout = made.layouts[name]!;
    expect(layout.files).toHaveLength(1);
    const footer = await readFooter(await storage.open(join(layout.dir, layout.files[0]!.path)));
    expect(footer.rows).toBe(ROWS);
    expect(footer.rowGroups).toBeGreaterThan(3);
    const encodings = new Set(footer.metadata.row_groups.flatMap((g) => g.columns.flatMap((c) => c.meta_data!.encodings)));
    if (name === "dictionary_v1") expect(encodings).toContain("PLAIN_DICTIONARY");
    if (name === "plain_v1") expect([...encodings].filter((e) => e.endsWith("DICTIONARY"))).toEqual([]);
    if (name === "v2") expect(encodings).toContain("RLE_DICTIONARY");
  });

  it("every planted row is found, and no other", async () => {
    const layout = made.layouts[name]!;
    const file = await storage.open(join(layout.dir, layout.files[0]!.path));
    const footer = await readFooter(file);
    const found: Record<string, number[]> = {};
    let first = 0;
    for (let g = 0; g < footer.rowGroups; g++) {
      for (const rule of rules) await scanColumnChunk(file, footer, g, first, rule, (row) => (found[rule.name] ??= []).push(row));
      first += Number(footer.metadata.row_groups[g]!.num_rows);
    }
    expect(found).toEqual(made.planted);
  });

  it("validateOutput names the file, the column, the row and the rule", async () => {
    const layout = made.layouts[name]!;
    const report = await validateOutput(storage, "customer_segments", { uri: layout.dir, table: "customer_segments", rows: ROWS, files: layout.files } as never);
    const file = join(layout.dir, layout.files[0]!.path);
    const byColumn = (col: string) => report.problems.filter((p) => p.path === col && p.file === file).map((p) => p.message);
    expect(byColumn("customer_id")).toEqual(made.planted.customer_id!.slice(0, 3).map((r) => `row ${r}: is null, but the column is not nullable`));
    expect(byColumn("cluster")).toEqual(made.planted.cluster!.map((r) => `row ${r}: -1 is below the minimum 0`));
    expect(byColumn("segment")[0]).toBe(`row ${made.planted.segment![0]}: "vip" does not match ^((high-value|loyal|potential|churning)(-[0-9]+)?|segment-[0-9]+|unsegmented)$`);
    expect(byColumn("distance")).toEqual(made.planted.distance!.map((r) => `row ${r}: -0.5 is below the minimum 0`));
    expect(byColumn("monetary")).toEqual(made.planted.monetary!.map((r) => `row ${r}: is NaN`));
    expect(report.problems.filter((p) => p.file === layout.dir).map((p) => `${p.path}: ${p.message}`).sort()).toEqual([
      "customer_id: 1 more rows break this column's rules",
      "segment: 1 more rows break this column's rules",
    ]);
  });
});
