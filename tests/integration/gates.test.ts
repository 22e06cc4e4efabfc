/**
 * A quality gate that fails makes `run` exit 7, says which gate and by how much, and --json
 * still prints exactly one object. Gates evaluated in Spark (references, accepted values, drift
 * against the previous run of a series) are recomputed here from the outputs.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, cliJson, ensureGenerated, GEN, manifestOf, python, readOutput, repo, root } from "./helpers.js";

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
    expect(json.checks).toEqual([
      { name: "big_catalogue", passed: false, outcome: "error", detail: "catalogue has 410 rows, 590 fewer than the minimum 1000" },
      // every output whose table declares a key gets a uniqueness gate, evaluated in Spark
      { name: "catalogue_key_unique", passed: true, outcome: "ok", detail: "every (product_id) of catalogue is on one row" },
    ]);
    expect(r.stderr).toContain("error: 1 quality gate failed");
    expect(r.stderr).toContain("big_catalogue: catalogue has 410 rows, 590 fewer than the minimum 1000");
  });

  it("validate judges the finished run by the gates it ran with (exit 7)", () => {
    const r = cli(["validate", "it-gate"]);
    expect(r.code).toBe(7);
    expect(r.stdout).toMatch(/^big_catalogue +FAILED +catalogue has 410 rows/m);
  });
});

describe("gates evaluated in Spark, and drift against the previous run", () => {
  const BASE = { "high-value": 0.2, loyal: 0.3, potential: 0.3, churning: 0.2 };
  // 10 points of customers move from high-value to loyal
  const SHIFTED = { "high-value": 0.1, loyal: 0.4, potential: 0.3, churning: 0.2 };
  let jobsDir: string;
  let data: string;
  const make = (name: string, shares: Record<string, number>, unknown: number, seed: number) => {
    execFileSync(python(), [join(repo, "tests", "integration", "make_segments.py"), join(data, name), JSON.stringify(shares), "1000", String(unknown), String(seed)]);
    return join(data, name);
  };
  const audit = (runId: string, dir: string) =>
    cliJson<any>(["run", "segment-audit", "--jobs-dir", jobsDir, "--param", `segments=${dir}/segments`, "--param", `customers=${dir}/customers`, "--run-id", runId],
      { env: { SPARKJOBS_SERIES: "audit" } });
  const shares = (rows: Record<string, unknown>[]) => {
    const counts: Record<string, number> = {};
    for (const r of rows) counts[String(r.segment)] = (counts[String(r.segment)] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / rows.length]));
  };
  const segmentsOf = async (runId: string) => readOutput((await manifestOf(root(), runId)).outputs.customer_segments!);

  beforeAll(() => {
    data = mkdtempSync(join(tmpdir(), "sparkjobs-audit-data-"));
    jobsDir = mkdtempSync(join(tmpdir(), "sparkjobs-audit-"));
    mkdirSync(join(jobsDir, "spark-sql"));
    writeFileSync(join(jobsDir, "spark-sql", "audit.sql"), "SELECT * FROM segments_in\n");
    writeFileSync(
      join(jobsDir, "segment-audit.yaml"),
      `name: segment-audit
version: 1
description: a team's segments, checked against its customers and against the previous run
params:
  segments: { type: path }
  customers: { type: path }
inputs:
  segments_in: { uri: "{segments}", schema: customer_segments }
  customers: { uri: "{customers}", schema: customers }
stages:
  - { kind: sql, name: customer_segments, file: audit.sql }
outputs:
  customer_segments: { from: customer_segments, schema: customer_segments, files: 1 }
checks:
  - name: known_customers
    references: { output: customer_segments, columns: [customer_id], to: customers }
  - name: business_names
    accepted: { output: customer_segments, column: segment, values: [high-value, loyal, potential, churning] }
    severity: warn
  - name: shares_stable
    drift: { shares: { output: customer_segments, column: segment } }
    warn: 0.05
    error: 0.10
`,
    );
  });

  it("two runs of the same data pass; a planted 10-point shift and unknown customers fail with samples; history shows all three", async () => {
    const same = make("same", BASE, 0, 1);
    const first = audit("it-audit-1", same);
    expect(first.result.code, first.result.stderr.slice(-2000)).toBe(0);
    const firstDrift = first.json.checks.find((c: any) => c.name === "shares_stable");
    expect(firstDrift).toMatchObject({ passed: true, outcome: "ok", detail: "no previous run of series audit measured this: nothing to compare with" });

    const second = audit("it-audit-2", same);
    expect(second.result.code, second.result.stderr.slice(-2000)).toBe(0);
    expect(second.json.checks.map((c: any) => [c.name, c.outcome])).toEqual([
      ["known_customers", "ok"], ["business_names", "ok"], ["shares_stable", "ok"], ["customer_segments_key_unique", "ok"],
    ]);
    expect(second.json.checks.find((c: any) => c.name === "shares_stable").detail).toMatch(/since run it-audit-1 \(warn at 0\.05, error at 0\.1\)$/);

    const shifted = make("shifted", SHIFTED, 3, 2);
    const third = audit("it-audit-3", shifted);
    expect(third.result.code).toBe(7);
    expect(third.json.status).toBe("gate_failed");
    const byName = Object.fromEntries(third.json.checks.map((c: any) => [c.name, c]));

    // the move, recomputed from the two runs' outputs
    const before = shares(await segmentsOf("it-audit-2"));
    const after = shares(await segmentsOf("it-audit-3"));
    const moves = Object.keys({ ...before, ...after }).map((k) => Math.abs((after[k] ?? 0) - (before[k] ?? 0)));
    expect(Math.max(...moves)).toBeCloseTo(0.1, 12);
    expect(byName.shares_stable).toMatchObject({ passed: false, outcome: "error" });
    expect(byName.shares_stable.detail).toMatch(/^the share of (high-value|loyal) in customer_segments\.segment moved from (20\.0% to 10\.0% \(-10\.0|30\.0% to 40\.0% \(\+10\.0) points\)/);
    const manifest = await manifestOf(root(), "it-audit-3");
    expect(manifest.checks!.find((c) => c.name === "shares_stable")!.value).toBeCloseTo(Math.max(...moves), 12);

    // the customers missing from the customers input, counted by hand, and the sample beside the manifest
    const known = new Set((await readOutput({ uri: join(shifted, "customers"), files: [{ path: "part-0.parquet" }] })).map((r) => r.customer_id));
    const missing = (await segmentsOf("it-audit-3")).filter((r) => !known.has(r.customer_id)).map((r) => r.customer_id).sort();
    expect(missing).toHaveLength(3);
    expect(byName.known_customers).toMatchObject({ passed: false, outcome: "error", sample: join(root(), "runs", "it-audit-3", "_checks", "known_customers.json") });
    expect(byName.known_customers.detail).toBe(`3 row(s) of customer_segments refer to customer_id not in customers (customer_id); a sample is in ${byName.known_customers.sample}`);
    const sample = JSON.parse(readFileSync(byName.known_customers.sample, "utf8"));
    expect(sample.failing).toBe(3);
    expect(sample.rows.map((r: any) => r.customer_id).sort()).toEqual(missing);
    expect(third.result.stderr).toContain("error: 2 quality gates failed");
    expect(third.result.stderr).toContain(`known_customers: ${byName.known_customers.detail}`);

    const history = cli(["history", "segment-audit", "--jobs-dir", jobsDir, "--series", "audit"]);
    expect(history.code, history.stderr).toBe(0);
    const lines = history.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("segment-audit, series audit: 3 run(s), oldest first");
    expect(lines.slice(4).map((l) => l.split(/\s{2,}/)[0])).toEqual(["it-audit-1", "it-audit-2", "it-audit-3"]);
    expect(lines[6]).toMatch(/customer_segments 1000 +known_customers error, shares_stable error \(0\.1\)$/);
    expect(lines[5]).toMatch(/customer_segments 1000 +all ok$/);

    // validate judges the run by the same gates, from its manifest
    expect(cli(["validate", "it-audit-3"]).code).toBe(7);
  });
});
