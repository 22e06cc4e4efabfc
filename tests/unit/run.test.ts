/**
 * executeRun's lifecycle against a scripted backend (no Spark): a run id with the same plan is
 * never submitted twice (unless files of its complete run are gone: then it is run again), another
 * plan under a complete run id is a conflict, the runner's exit
 * codes become the documented kinds, a run that ends without its manifest is incomplete, a timeout
 * cancels the submission, and a manifest of another plan after success is a conflict.
 */
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { RunPlan } from "../../schemas/src/index.js";
import type { Backend, RunStatus, Submission } from "../../submitter/src/backends/types.js";
import { SparkjobsError } from "../../submitter/src/errors.js";
import { planSha256 } from "../../submitter/src/plan/build.js";
import { executeRun } from "../../submitter/src/run.js";
import type { Staged } from "../../submitter/src/stage/stage.js";
import { LocalStorage } from "../../submitter/src/stage/storage.js";

const jobsDir = join(import.meta.dirname, "..", "..", "jobs");

/** A backend whose job "runs" by writing what the test says when its status is first asked. */
class ScriptedBackend implements Backend {
  readonly target = "scripted";
  readonly maxPollDelayMs = 5;
  submits: RunPlan[] = [];
  cancels = 0;
  constructor(private readonly script: (plan: RunPlan) => RunStatus | undefined) {}
  sparkConf() {
    return {};
  }
  async submit(plan: RunPlan, _staged: Staged): Promise<Submission> {
    this.submits.push(plan);
    return { runId: plan.runId, engineId: `e${this.submits.length}`, logLocation: "nowhere" };
  }
  async status(_s: Submission): Promise<RunStatus> {
    return this.script(this.submits[this.submits.length - 1]!) ?? { state: "running", engineState: "RUNNING" };
  }
  async cancel() {
    this.cancels++;
  }
  async logs() {
    return "";
  }
}

/** What the runner writes last: the manifest of a run of `plan` (outputs with no files and no rows). */
function writeManifest(plan: RunPlan, sha = planSha256(plan)) {
  const outputs = Object.fromEntries(plan.outputs.map((o) => [o.name, { uri: o.uri, table: o.table, rows: 0, files: [], columns: [] }]));
  mkdirSync(plan.runUri, { recursive: true });
  writeFileSync(join(plan.runUri, "_manifest.json"), JSON.stringify({
    manifestVersion: 1, runId: plan.runId, job: { name: plan.job.name, version: plan.job.version }, planSha256: sha, status: "succeeded",
    engine: { sparkVersion: "3.5.5", master: "local", applicationId: "a" }, startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:00:01Z",
    durationMs: 1000, outputs, metrics: {}, stages: [],
  }));
}

function options(root: string, backend: Backend, runId: string, customers = "10", timeoutMs = 30_000) {
  return { jobsDir, job: "generate", params: { customers }, runId, root, storage: new LocalStorage(), backend, timeoutMs, log: () => {} };
}

async function failure(p: Promise<unknown>): Promise<SparkjobsError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(SparkjobsError);
  return e as SparkjobsError;
}

describe("executeRun", () => {
  test("a run id with the same plan is submitted once; a rerun is reported, not run; another plan under it is a conflict", async () => {
    const root = mkdtempSync(join(tmpdir(), "sparkjobs-run-"));
    const backend = new ScriptedBackend((plan) => {
      writeManifest(plan);
      return { state: "succeeded", engineState: "EXIT 0" };
    });
    const first = await executeRun(options(root, backend, "r1"));
    expect([first.reused, backend.submits.length]).toEqual([false, 1]);
    expect(first.checks.find((c) => c.name === "has_transactions")).toMatchObject({ passed: false, detail: "transactions has 0 rows, 1 fewer than the minimum 1" });
    const again = await executeRun(options(root, backend, "r1"));
    expect([again.reused, backend.submits.length, again.planSha256]).toEqual([true, 1, first.planSha256]);
    const other = await failure(executeRun(options(root, backend, "r1", "20")));
    expect(other.kind).toBe("conflict");
    expect(other.message).toBe("run r1 already completed with a different plan");
    // Another plan owns the run id: no retry of the same submit can get past it.
    expect(other.toJSON()).toMatchObject({ kind: "conflict", exitCode: 11, retryable: false });
    expect(backend.submits).toHaveLength(1);
  });

  test.each([
    [4, "input"],
    [3, "definition"],
    [6, "output"],
    [11, "conflict"],
    [14, "rejected"],
    [5, "runFailed"],
    [99, "runFailed"],
  ])("the runner's exit code %i is the kind %s, with its message and fix", async (exitCode, kind) => {
    const root = mkdtempSync(join(tmpdir(), "sparkjobs-run-"));
    const backend = new ScriptedBackend(() => ({ state: "failed", engineState: `EXIT ${exitCode}`, failure: { exitCode, message: "the runner said so", fix: "do this" } }));
    const e = await failure(executeRun(options(root, backend, "r2")));
    expect([e.kind, e.message, e.fix]).toEqual([kind, "run r2 failed: the runner said so", "do this"]);
  });

  test("a complete run whose listed files are gone is run again under its id, its old manifest removed first", async () => {
    const root = mkdtempSync(join(tmpdir(), "sparkjobs-run-"));
    let manifestAtSubmit: boolean | undefined;
    const backend = new ScriptedBackend((plan) => {
      manifestAtSubmit ??= existsSync(join(plan.runUri, "_manifest.json"));
      writeManifest(plan);
      return { state: "succeeded", engineState: "EXIT 0" };
    });
    const first = await executeRun(options(root, backend, "r5"));
    // The run loses a data file its manifest lists (a lifecycle rule, a careless rm).
    const manifestFile = join(first.manifest.outputs.transactions!.uri, "..", "_manifest.json");
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    manifest.outputs.transactions.files = [{ path: "part-00000.parquet", bytes: 1234 }];
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const logs: string[] = [];
    manifestAtSubmit = undefined;
    const again = await executeRun({ ...options(root, backend, "r5"), log: (m: string) => logs.push(m) });
    expect([again.reused, backend.submits.length, manifestAtSubmit]).toEqual([false, 2, false]);
    expect(logs[0]).toBe(`run r5 is complete, but 1 file(s) its manifest lists are gone or changed (${first.manifest.outputs.transactions!.uri}/part-00000.parquet is missing): running it again`);
    // Intact now: a rerun is reported, not run.
    expect((await executeRun(options(root, backend, "r5"))).reused).toBe(true);
    expect(backend.submits).toHaveLength(2);
  });

  test("a run that ends without its manifest is incomplete; one whose manifest is another plan's is a conflict", async () => {
    const root = mkdtempSync(join(tmpdir(), "sparkjobs-run-"));
    const silent = new ScriptedBackend(() => ({ state: "succeeded", engineState: "EXIT 0" }));
    const e = await failure(executeRun(options(root, silent, "r3")));
    expect(e.kind).toBe("incomplete");
    expect(e.message).toContain("run r3 ended but is incomplete: nothing at");
    const impostor = new ScriptedBackend((plan) => {
      writeManifest(plan, "f".repeat(64));
      return { state: "succeeded", engineState: "EXIT 0" };
    });
    const c = await failure(executeRun(options(root, impostor, "r4")));
    expect(c.kind).toBe("conflict");
    expect(c.message).toBe("the manifest of run r4 belongs to another plan (another process ran the same run id?)");
  });

  test("a timeout cancels the submission once and says so", async () => {
    const root = mkdtempSync(join(tmpdir(), "sparkjobs-run-"));
    const stuck = new ScriptedBackend(() => undefined);
    const e = await failure(executeRun(options(root, stuck, "r5", "10", 100)));
    expect(e.kind).toBe("timeout");
    expect(stuck.cancels).toBe(1);
    expect(stuck.submits).toHaveLength(1);
  });

  test("a cancelled run is interrupted, and says how to finish it", async () => {
    const root = mkdtempSync(join(tmpdir(), "sparkjobs-run-"));
    const e = await failure(executeRun(options(root, new ScriptedBackend(() => ({ state: "cancelled", engineState: "SIGTERM" })), "r6")));
    expect([e.kind, e.message, e.fix]).toEqual(["interrupted", "run r6 was cancelled (SIGTERM)", "rerun with --run-id r6 to finish it"]);
  });
});
