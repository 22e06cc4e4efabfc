/**
 * schemas/ is the single source of truth: the committed JSON Schemas must be exactly what the zod
 * schemas export today, and every committed job definition must load.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { exportSchemas } from "../../schemas/src/export.js";
import { listJobs, loadJob } from "../../submitter/src/config/job.js";

const repo = join(import.meta.dirname, "..", "..");
const jsonDir = join(repo, "schemas", "json");
const jobsDir = join(repo, "jobs");

function committedFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".json"))
    .map((e) => relative(dir, join(e.parentPath, e.name)).split("\\").join("/"))
    .sort();
}

function readCommitted(name: string): string | undefined {
  try {
    return readFileSync(join(jsonDir, name), "utf8");
  } catch {
    return undefined;
  }
}

/** Names of exported files whose committed text differs (or is missing). */
function staleFiles(exported: Record<string, string>, read: (name: string) => string | undefined): string[] {
  return Object.keys(exported)
    .sort()
    .filter((name) => read(name) !== exported[name]);
}

const FIX = "the committed schemas/json/ is stale: run `npm run build && npm run schemas:export` and commit the result";

describe("schemas/json", () => {
  const exported = exportSchemas();

  test("exports every schema the runner and the validator read", () => {
    // Not the whole list (that is the next test): the files other code opens by name.
    expect(Object.keys(exported)).toEqual(
      expect.arrayContaining([
        "run-plan.schema.json",
        "run-manifest.schema.json",
        "job-definition.schema.json",
        "mllib-config.schema.json",
        "tables/transactions.schema.json",
        "tables/customer_segments.schema.json",
      ]),
    );
  });

  test("holds exactly the exported files, no more, no fewer", () => {
    expect(committedFiles(jsonDir), FIX).toEqual(Object.keys(exported).sort());
  });

  test("every committed file equals exportSchemas() byte for byte", () => {
    const stale = staleFiles(exported, readCommitted);
    expect(stale, `${FIX}; stale files: ${stale.join(", ")}`).toEqual([]);
  });

  test("the comparison notices a one-byte difference and a missing file", () => {
    const [first, second] = Object.keys(exported).sort();
    const read = (name: string) => {
      const text = readCommitted(name);
      if (name === first) return text?.replace(/\n$/, "");
      if (name === second) return undefined;
      return text;
    };
    expect(staleFiles(exported, read)).toEqual([first, second]);
  });

  test("exported files are canonical JSON text (2-space indent, trailing newline)", () => {
    for (const [name, text] of Object.entries(exported)) {
      expect(text, name).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    }
  });

  test("table schemas carry a sparkType for every column", () => {
    for (const [name, text] of Object.entries(exported)) {
      if (!name.startsWith("tables/")) continue;
      const schema = JSON.parse(text) as { properties: Record<string, { sparkType?: string; anyOf?: { type?: string; sparkType?: string }[] }> };
      for (const [column, prop] of Object.entries(schema.properties)) {
        const nonNull = prop.anyOf ? prop.anyOf.find((p) => p.type !== "null") : prop;
        expect(nonNull?.sparkType, `${name} ${column}`).toMatch(/^(string|int|bigint|double|boolean|date|timestamp|timestamp_ntz)$/);
      }
    }
  });
});

describe("jobs/", () => {
  const jobs = listJobs(jobsDir);

  test("lists the committed job definitions", () => {
    const onDisk = readdirSync(jobsDir).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, "")).sort();
    expect(onDisk.length).toBeGreaterThan(0);
    expect(jobs).toEqual(onDisk);
  });

  test.each(jobs)("job %s loads with loadJob", (name) => {
    const job = loadJob(jobsDir, name);
    expect(job.definition.name).toBe(name);
    // Every stage got its file: SQL text for SQL stages, a parsed config for MLlib stages.
    for (const stage of job.definition.stages) {
      if (stage.kind === "sql") expect(job.sql.get(stage.name)?.text.trim().length, stage.name).toBeGreaterThan(0);
      else if (stage.kind === "ingest") expect(job.definition.params[stage.sources.param]?.type, stage.name).toBe("path");
      else expect(["kmeans", "classifier", "regressor", "score", "abtest", "uplift", "als", "allocate", "fpgrowth", "pca"], stage.name).toContain(job.mllib.get(stage.name)?.config.algorithm);
    }
  });
});
