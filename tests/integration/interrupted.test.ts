/**
 * A run killed halfway is never read as a result: validate reports it incomplete (exit 8);
 * running the same run id again completes it, with outputs equal to an uninterrupted run's.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { pythonPath, sparkSubmitPath } from "../../submitter/src/env/where.js";
import { cli, cliJson, ensureSegmentation, manifestOf, readOutput, root, SEG, startCli } from "./helpers.js";

// The same job and parameters as the shared uninterrupted run SEG, under other run ids, with k fixed at
// the k SEG chose: the same fits of that k (same seeds and restarts), without trying the others.
let k: number;
const args = (runId: string) => [...SEG.args, "--param", `k=${k}`, "--run-id", runId];

/** Starts a run and kills the CLI and Spark with SIGKILL once the first output is written. */
async function killHalfway(runId: string): Promise<string> {
  const child = startCli(args(runId));
  let stderr = "";
  let sparkPid: number | undefined;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output was written within 10 minutes:\n${stderr.slice(-3000)}`)), 600_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const pid = stderr.match(/submitted run \S+ to local \((\d+)\)/);
      if (pid) sparkPid = Number(pid[1]);
      if (sparkPid && stderr.includes("[runner] wrote clean_transactions")) {
        clearTimeout(timer);
        // A crash, not a cancel: no handler runs, Spark dies mid-write of the next output.
        process.kill(-sparkPid, "SIGKILL");
        child.kill("SIGKILL");
        resolve();
      }
    });
    child.on("exit", () => {
      clearTimeout(timer);
      if (!sparkPid || !stderr.includes("[runner] wrote clean_transactions")) reject(new Error(`the run ended before it could be killed:\n${stderr.slice(-3000)}`));
    });
  });
  await new Promise((r) => setTimeout(r, 500));
  return stderr;
}

describe("a run killed halfway", () => {
  beforeAll(() => {
    k = ensureSegmentation().json.metrics.segmentation.k;
  });

  it("is reported incomplete, then completes on a rerun with outputs equal to an uninterrupted run", async () => {
    await killHalfway("it-killed");
    const written = readdirSync(join(root(), "runs", "it-killed"));
    expect(written).toContain("clean_transactions");
    expect(written).not.toContain("_manifest.json");

    const incomplete = cli(["validate", "it-killed"]);
    expect(incomplete.code).toBe(8);
    expect(incomplete.stderr).toContain("run it-killed is incomplete: the run folder has files but no");

    const resumed = cliJson(["run", ...args("it-killed").slice(1)]);
    expect(resumed.result.code, resumed.result.stderr.slice(-3000)).toBe(0);
    expect(cli(["validate", "it-killed"]).code).toBe(0);

    const [a, b] = [await manifestOf(root(), "it-killed"), await manifestOf(root(), SEG.runId)];
    expect(a.planSha256).not.toBe(b.planSha256); // other run id, so another plan: two independent runs
    // Equal row for row: exact on every value but the fractional columns (a column with any
    // non-integer number), which agree to 1e-9 relative: Spark does not fix the order in which an
    // aggregate adds up across two applications.
    const normal = (v: unknown) => (typeof v === "bigint" ? v.toString() : v);
    for (const output of ["customer_segments", "segment_profiles", "customer_features"]) {
      const [rowsA, rowsB] = [await readOutput(a.outputs[output]), await readOutput(b.outputs[output])];
      const fractional = new Set([...rowsA, ...rowsB].flatMap((r) => Object.keys(r).filter((c) => typeof r[c] === "number" && !Number.isInteger(r[c]))));
      const keyOf = (r: Record<string, unknown>) => JSON.stringify(Object.keys(r).sort().map((c) => (fractional.has(c) ? null : normal(r[c]))));
      const sort = (rows: Record<string, unknown>[]) => [...rows].sort((p, q) => (keyOf(p) < keyOf(q) ? -1 : keyOf(p) > keyOf(q) ? 1 : 0));
      const [x, y] = [sort(rowsA), sort(rowsB)];
      expect(x.length, output).toBeGreaterThan(0);
      expect(x.length, output).toBe(y.length);
      x.forEach((row, i) => {
        const other = y[i]!;
        const where = `${output}: row ${i}\n  ${JSON.stringify(row, (_, v) => normal(v))}\n  ${JSON.stringify(other, (_, v) => normal(v))}`;
        expect(keyOf(row), where).toBe(keyOf(other));
        for (const column of fractional) {
          const [v, w] = [row[column] as number | null, other[column] as number | null];
          if (v === null || w === null) expect(v, `${where}\n  column ${column}`).toBe(w);
          else expect(Math.abs(v - w), `${where}\n  column ${column}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v), Math.abs(w)));
        }
      });
    }
  });

  it("a cancelled run (SIGTERM to the CLI) exits 130 and stays incomplete", async () => {
    const child = startCli(args("it-cancelled"));
    let stderr = "";
    const code = await new Promise<number | null>((resolve) => {
      child.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes("[runner] stage") && !child.killed) child.kill("SIGTERM");
      });
      child.on("exit", (c) => resolve(c));
    });
    expect(code).toBe(130);
    expect(stderr).toContain("SIGTERM: cancelling the run");
    // The cancel reached Spark: its process group is gone (a cancel that did nothing would leave it running).
    const sparkPid = Number(stderr.match(/submitted run it-cancelled to local \((\d+)\)/)![1]);
    const alive = () => {
      try {
        process.kill(-sparkPid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 60_000;
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(alive()).toBe(false);
    const v = cli(["validate", "it-cancelled"]);
    expect(v.code).toBe(8);
  });

  it("a duplicate submit of a complete run's plan (an EMR step added twice, a retried task) runs nothing; the manifest stays as it was", () => {
    const manifestFile = join(root(), "runs", SEG.runId, "_manifest.json");
    const before = readFileSync(manifestFile, "utf8");
    const { planSha256 } = JSON.parse(before);
    // The staged runner and plan, submitted again as the engine would (spark-submit runner.py --plan ...).
    const codeDir = join(root(), "stage", "code");
    const code = join(codeDir, readdirSync(codeDir).sort((a, b) => statSync(join(codeDir, b)).mtimeMs - statSync(join(codeDir, a)).mtimeMs)[0]!);
    const python = pythonPath(process.env);
    const r = spawnSync(sparkSubmitPath(process.env), ["--master", "local[1]", "--conf", "spark.ui.enabled=false", "--conf", `spark.sql.warehouse.dir=${join(root(), "spark-warehouse")}`, "--py-files", join(code, "sparkjobs_runner.zip"),
      join(code, "runner.py"), "--plan", join(root(), "stage", "plans", `${planSha256}.json`)], {
      encoding: "utf8", env: { ...process.env, PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python, SPARK_LOCAL_IP: "127.0.0.1" },
    });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain(`run ${SEG.runId} is already complete with this plan`);
    expect(readFileSync(manifestFile, "utf8")).toBe(before);
    expect(cli(["validate", SEG.runId]).code).toBe(0);
  });
});
