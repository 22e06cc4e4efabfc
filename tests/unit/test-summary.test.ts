// scripts/test-summary.cjs ends `npm test`: it counts every tier from its report, and in CI a
// skipped test fails the run. It runs only after the whole suite, so it is checked here, on
// reports written by hand.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const script = path.resolve(__dirname, "../../scripts/test-summary.cjs");

function reports(opts: { unitSkipped?: number; runnerFailures?: number; airflow?: { tests: number; failures: number } }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "summary-"));
  const vitestReport = (passed: number, failed: number, pending: number, files: [string, number][]) => ({
    numPassedTests: passed,
    numFailedTests: failed,
    numPendingTests: pending,
    numTodoTests: 0,
    startTime: 1_000_000,
    testResults: files.map(([name, end]) => ({ name: `/repo/tests/integration/${name}`, startTime: 1_090_000, endTime: end })),
  });
  fs.writeFileSync(path.join(dir, "unit.json"), JSON.stringify(vitestReport(10, 0, opts.unitSkipped ?? 0, [])));
  fs.writeFileSync(
    path.join(dir, "integration.json"),
    JSON.stringify(vitestReport(5, 1, 0, [["a.test.ts", 1_030_000], ["yarn.test.ts", 1_090_000], ["b.test.ts", 1_130_000]])),
  );
  fs.writeFileSync(
    path.join(dir, "runner.xml"),
    `<?xml version="1.0"?><testsuites><testsuite name="pytest" errors="0" failures="${opts.runnerFailures ?? 0}" skipped="1" tests="7" time="3.0"></testsuite></testsuites>`,
  );
  if (opts.airflow) {
    fs.writeFileSync(
      path.join(dir, "airflow.xml"),
      `<?xml version="1.0"?><testsuites><testsuite name="pytest" errors="0" failures="${opts.airflow.failures}" skipped="0" tests="${opts.airflow.tests}" time="1.0"></testsuite></testsuites>`,
    );
  }
  return dir;
}

function summary(dir: string, ci: boolean) {
  const env = { ...process.env, CI: ci ? "true" : "" };
  return spawnSync(process.execPath, [script, dir], { encoding: "utf8", env });
}

describe("the test summary", () => {
  it("counts every tier and lists the integration files by wall time from their recorded start, slowest first", () => {
    const dir = reports({ runnerFailures: 2 });
    // a started with the run; yarn 20 s in (its start recorded before its hooks); b has no record: its own startTime.
    fs.mkdirSync(path.join(dir, "starts"));
    fs.writeFileSync(path.join(dir, "starts", "a.test.ts.json"), JSON.stringify({ file: "/repo/tests/integration/a.test.ts", startTime: 1_000_000 }));
    fs.writeFileSync(path.join(dir, "starts", "yarn.test.ts.json"), JSON.stringify({ file: "/repo/tests/integration/yarn.test.ts", startTime: 1_020_000 }));
    const r = summary(dir, false);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    // unit 10 + integration 5 + runner 7 - 2 failed - 1 skipped = 19 passed; 1 + 2 failed; 1 skipped
    expect(r.stdout).toContain("tests: 19 passed, 3 failed, 1 skipped");
    expect(r.stdout).toContain("integration: 3 files in 130 s, two at a time");
    const lines = r.stdout.split("\n");
    const a = lines.findIndex((l) => /^\s+30\s+tests\/integration\/a\.test\.ts$/.test(l));
    const yarn = lines.findIndex((l) => /^\s+70\s+tests\/integration\/yarn\.test\.ts$/.test(l));
    const b = lines.findIndex((l) => /^\s+40\s+tests\/integration\/b\.test\.ts$/.test(l));
    expect(yarn).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(yarn);
    expect(a).toBeGreaterThan(b);
  });

  it("counts the Airflow operators' tier when its report is there", () => {
    const r = summary(reports({ airflow: { tests: 31, failures: 1 } }), false);
    // 10 + 5 + (7 - 1 skipped) + (31 - 1 failed) = 51 passed; 1 + 1 failed
    expect(r.stdout).toContain("tests: 51 passed, 2 failed, 1 skipped");
  });

  it("with CI=true a skipped test fails the run", () => {
    const dir = reports({ unitSkipped: 2 });
    const ci = summary(dir, true);
    expect(ci.status).toBe(1);
    expect(ci.stderr).toContain("CI=true: 3 tests were skipped");
    expect(summary(dir, false).status).toBe(0);
  });
});
