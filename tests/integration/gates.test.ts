/**
 * A quality gate that fails makes `run` exit 7, says which gate and by how much, and --json
 * still prints exactly one object.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, ensureGenerated, GEN } from "./helpers.js";

describe("quality gates", () => {
  let jobsDir: string;

  beforeAll(() => {
    ensureGenerated();
    jobsDir = mkdtempSync(join(tmpdir(), "sparkjobs-gates-"));
    mkdirSync(join(jobsDir, "spark-sql"));
    writeFileSync(join(jobsDir, "spark-sql", "catalogue.sql"), "SELECT product_id, category, name, list_price FROM products WHERE list_price >= :min_price\n");
    writeFileSync(
      join(jobsDir, "catalogue.yaml"),
      `name: catalogue
version: 1
description: products from a generate run, with a gate that asks for more than there are
params:
  source: { type: runId }
  min_price: { type: double, default: 0 }
inputs:
  products: { fromRun: { param: source, job: generate, output: products }, schema: products }
stages:
  - { kind: sql, name: catalogue, file: catalogue.sql }
outputs:
  catalogue: { from: catalogue, schema: products, files: 1 }
checks:
  - { name: big_catalogue, output: catalogue, minRows: 1000 }
`,
    );
  });

  it("a failing gate exits 7 naming the gate and the shortfall; --json prints one object", () => {
    const r = cli(["run", "catalogue", "--jobs-dir", jobsDir, "--param", `source=${GEN.runId}`, "--run-id", "it-gate", "--json"]);
    expect(r.code).toBe(7);
    const json = JSON.parse(r.stdout); // throws if there is more than one object
    expect(json.status).toBe("gate_failed");
    expect(json.outputs.catalogue.rows).toBe(410);
    expect(json.checks).toEqual([{ name: "big_catalogue", passed: false, detail: "catalogue has 410 rows, 590 fewer than the minimum 1000" }]);
    expect(r.stderr).toContain("error: 1 quality gate failed");
    expect(r.stderr).toContain("big_catalogue: catalogue has 410 rows, 590 fewer than the minimum 1000");
  });

  it("validate judges the finished run by the gates it ran with (exit 7)", () => {
    const r = cli(["validate", "it-gate"]);
    expect(r.code).toBe(7);
    expect(r.stdout).toContain("big_catalogue  FAILED");
  });
});
