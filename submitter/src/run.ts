/**
 * One run, end to end: definition -> params -> inputs -> plan -> stage -> submit -> wait ->
 * manifest -> validation -> checks. Returns the result as data; cli.ts prints it.
 */
import type { RunManifest, RunPlan } from "../../schemas/src/index.js";
import type { Backend, RunStatus, Submission } from "./backends/types.js";
import { TERMINAL_STATES } from "./backends/types.js";
import { loadJob, type JobsDirs, type LoadedJob } from "./config/job.js";
import { resolveParams } from "./config/params.js";
import { SparkjobsError, type ErrorKind } from "./errors.js";
import { buildPlan, newRunId, planSha256, runUri } from "./plan/build.js";
import { checkInputs, resolveInputs, resolveModels, resolveRunDates } from "./plan/inputs.js";
import { loadSources } from "./sources/resolve.js";
import { evaluateChecks, type CheckResult } from "./results/checks.js";
import { damagedFiles, readManifest } from "./results/manifest.js";
import { validateOutputs, type OutputReport } from "./results/validate.js";
import { acquireRunLock } from "./stage/lock.js";
import { ensurePythonEnv, jobPythonPackages } from "./stage/python-env.js";
import { buildRunnerBundle, stageRun, type Staged } from "./stage/stage.js";
import type { Storage } from "./stage/storage.js";
import { poll, systemClock, type Clock } from "./wait/poll.js";

export interface RunOptions {
  /** The jobs folders, a team's before the shipped one. */
  jobsDir: JobsDirs;
  job: string;
  params: Record<string, string>;
  runId?: string;
  root: string;
  /** The history series (drift gates compare with its previous run). */
  series?: string;
  storage: Storage;
  backend: Backend;
  timeoutMs: number;
  /** The longest wait between two status checks (default: the backend's own, or 15 s). */
  pollMaxMs?: number;
  clock?: Clock;
  log: (message: string) => void;
  /** Receives the submission as soon as it exists, so a signal handler can cancel it. */
  onSubmitted?: (submission: Submission) => void;
}

export interface RunResult {
  runId: string;
  job: string;
  target: string;
  /** True when the run id was already complete with the same plan and nothing ran again. */
  reused: boolean;
  planSha256: string;
  outputs: Record<string, { uri: string; rows: number }>;
  metrics: Record<string, unknown>;
  checks: CheckResult[];
  durationMs: number;
  /** What staging wrote (nothing of the code when its hash was already staged). */
  uploaded: string[];
  manifest: RunManifest;
}

export interface PreparedRun {
  job: LoadedJob;
  plan: RunPlan;
  /** Things worth saying that do not stop the run (a snapshot date after the data ends). */
  warnings: string[];
}

/** Everything up to the plan; no Spark, no writes. Used by `plan` and `run`. */
export async function prepareRun(options: Omit<RunOptions, "backend" | "timeoutMs" | "log"> & { engineConf?: Record<string, string>; now?: Date }): Promise<PreparedRun> {
  const job = loadJob(options.jobsDir, options.job);
  const { values: resolved } = resolveParams(job.definition, job.file, options.params);
  for (const { config } of job.mllib.values()) {
    if (config.algorithm !== "kmeans") continue;
    const k = config.k.param ? resolved[config.k.param]?.value : undefined;
    if (k === 1) {
      throw new SparkjobsError("usage", `--param ${config.k.param}=1 is not a number of segments`, {
        fix: `pass 0 to choose k between ${config.k.min} and ${config.k.max} by silhouette, or a k of at least 2`,
      });
    }
  }
  const runId = options.runId ?? newRunId(job.definition.name, options.now ?? new Date());
  const dated = await resolveRunDates(job.definition, job.file, resolved, options.storage, options.root);
  const values = dated.values;
  const { uris: inputUris, extras: inputExtras } = await resolveInputs(job.definition, job.file, values, options.storage, options.root);
  const modelTypes: Record<string, string> = {};
  const modelUris = await resolveModels(job.definition, job.file, values, options.storage, options.root, modelTypes);
  await checkInputs(job.definition, inputUris, options.storage);
  const ingest = job.definition.stages.find((s) => s.kind === "ingest");
  const sources = ingest ? await loadSources(String(values[ingest.sources.param]!.value), options.storage) : undefined;
  const plan = buildPlan(job, { runId, root: options.root, params: values, inputUris, inputExtras, modelUris, engineConf: options.engineConf ?? {}, ...(sources ? { sources } : {}), pythonPackages: jobPythonPackages(job, modelTypes) });
  return { job, plan, warnings: dated.warnings };
}

/** Prepares and stages a run without submitting it (the `stage` command, for orchestrators that submit themselves). */
export async function stageOnly(options: Parameters<typeof prepareRun>[0]): Promise<{ plan: RunPlan; staged: Staged }> {
  const { plan } = await prepareRun(options);
  // What is staged here is submitted elsewhere, to a cluster: a Python environment goes as an archive.
  const pythonEnv = plan.python ? { env: await ensurePythonEnv(plan.python.packages, { job: plan.job.file }), ship: true } : undefined;
  const staged = await stageRun(options.storage, options.root, plan, buildRunnerBundle(), pythonEnv);
  return { plan, staged: { ...staged, ...(options.series ? { series: options.series } : {}) } };
}

const RUNNER_EXIT_KIND: Record<number, ErrorKind> = { 3: "definition", 4: "input", 5: "runFailed", 6: "output", 9: "environment", 11: "conflict", 14: "rejected" };

function failureError(status: RunStatus, submission: Submission, tail: string): SparkjobsError {
  if (status.state === "cancelled") {
    return new SparkjobsError("interrupted", `run ${submission.runId} was cancelled (${status.engineState})`, { fix: `rerun with --run-id ${submission.runId} to finish it` });
  }
  const f = status.failure;
  const engineLog = status.logTail ? [{ message: status.logTail }] : [];
  if (f) {
    const listed = (f.problems ?? []).map((p) => ({ ...(p.file ? { file: p.file } : {}), ...(p.path ? { path: p.path } : {}), message: p.message }));
    return new SparkjobsError(RUNNER_EXIT_KIND[f.exitCode] ?? "runFailed", `run ${submission.runId} failed: ${f.message}`, {
      problems: [...(listed.length ? listed : f.where ? [{ file: f.where, message: f.message }] : []), ...engineLog],
      fix: f.fix ?? `see the driver log: ${submission.logLocation}`,
    });
  }
  return new SparkjobsError("runFailed", `run ${submission.runId} failed (${status.engineState}): ${status.reason ?? "no reason given"}`, {
    problems: engineLog.length ? engineLog : tail ? [{ message: `last lines of the driver log:\n${tail}` }] : [],
    fix: `see the logs: ${submission.logLocation}`,
  });
}

export async function executeRun(options: RunOptions): Promise<RunResult> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const { plan, warnings } = await prepareRun({ ...options, engineConf: options.backend.sparkConf() });
  for (const w of warnings) options.log(`warning: ${w}`);
  const sha = planSha256(plan);
  const base = runUri(options.root, plan.runId);

  // Idempotent retries: a complete run with the same plan is reported, not run again; one whose
  // files are gone or changed since is run again under its id (same plan, same outputs).
  const intact = async (state: Awaited<ReturnType<typeof readManifest>>) => {
    if (!state.complete || state.manifest.planSha256 !== sha) return state.complete;
    const damaged = await damagedFiles(options.storage, state.manifest);
    if (damaged.length) options.log(`run ${plan.runId} is complete, but ${damaged.length} file(s) its manifest lists are gone or changed (${damaged.slice(0, 2).join("; ")}): running it again`);
    return damaged.length === 0;
  };
  const existing = await readManifest(options.storage, base);
  if (existing.complete && (await intact(existing))) return reportComplete(options, plan, sha, existing.manifest, started);

  // One submit of a run id at a time (stage/lock.ts); the loser is refused with exit 11.
  const lock = await acquireRunLock(
    options.storage,
    { root: options.root, runId: plan.runId, planSha256: sha, target: options.backend.target, timeoutMs: options.timeoutMs },
    { now: () => clock.now(), log: options.log },
  );
  try {
    // The submit that held the lock before may have completed the run in the meantime.
    const finished = await readManifest(options.storage, base);
    if (finished.complete && (await intact(finished))) return await reportComplete(options, plan, sha, finished.manifest, started);
    // The manifest of a damaged run goes first, so that the runner runs the plan again instead of reporting it complete.
    if (finished.complete) await options.storage.delete(finished.uri);

    const bundle = buildRunnerBundle();
    const pythonEnv = plan.python ? { env: await ensurePythonEnv(plan.python.packages, { log: options.log, job: plan.job.file }), ship: options.backend.shipsPythonEnv === true } : undefined;
    const staged = { ...(await stageRun(options.storage, options.root, plan, bundle, pythonEnv)), ...(options.series ? { series: options.series } : {}) };
    const n = staged.uploaded.length;
    const code = staged.uploaded.some((u) => u === staged.runnerUri || u === staged.pyFilesUri);
    const environment = staged.uploaded.find((u) => u === staged.pythonEnv?.archiveUri);
    options.log(`staged plan ${staged.planUri} (${n} file${n === 1 ? "" : "s"} uploaded${code ? ", runner code included" : ""}${environment ? `, the Python environment ${environment} included` : ""})`);
    await lock.confirm();
    const submission = await options.backend.submit(plan, staged);
    options.onSubmitted?.(submission);
    options.log(`submitted run ${plan.runId} to ${options.backend.target} (${submission.engineId}); logs: ${submission.logLocation}`);
    const status = await poll({
      check: () => options.backend.status(submission),
      done: (s) => TERMINAL_STATES.has(s.state),
      describe: (s) => s.engineState,
      onChange: (state, ms) => options.log(`${plan.runId}: ${state} after ${(ms / 1000).toFixed(1)} s`),
      timeoutMs: options.timeoutMs,
      ...(options.pollMaxMs !== undefined ? { maxDelayMs: options.pollMaxMs } : options.backend.maxPollDelayMs !== undefined ? { maxDelayMs: options.backend.maxPollDelayMs } : {}),
      what: `run ${plan.runId}`,
      logLocation: submission.logLocation,
      ...(options.clock ? { clock: options.clock } : {}),
    }).catch(async (e) => {
      if (e instanceof SparkjobsError && e.kind === "timeout") await options.backend.cancel(submission);
      throw e;
    });
    if (status.state !== "succeeded") {
      // The driver log is read only when the status does not already explain the failure: on EMR,
      // reading logs again would download them again and may wait for them again.
      const explained = status.state === "cancelled" || status.failure !== undefined || status.logTail !== undefined;
      throw failureError(status, submission, explained ? "" : await options.backend.logs(submission, 30));
    }
    const state = await readManifest(options.storage, base);
    if (!state.complete) {
      throw new SparkjobsError("incomplete", `run ${plan.runId} ended but is incomplete: ${state.reason}`, { fix: `rerun with --run-id ${plan.runId}` });
    }
    if (state.manifest.planSha256 !== sha) {
      throw new SparkjobsError("conflict", `the manifest of run ${plan.runId} belongs to another plan (another process ran the same run id?)`, {
        fix: "never run one run id from two places at once; use a new --run-id",
      });
    }
    return await finish(options, plan, state.manifest, false, staged.uploaded, started);
  } finally {
    await lock.release().catch((e: unknown) => options.log(`warning: could not remove the lock ${lock.uri} of run ${plan.runId} (it expires at ${lock.content.expiresAt}): ${(e as Error).message}`));
  }
}

/** A run id that is already complete: reported when its plan is this one, a conflict otherwise. */
async function reportComplete(options: RunOptions, plan: RunPlan, sha: string, manifest: RunManifest, started: number): Promise<RunResult> {
  if (manifest.planSha256 !== sha) {
    throw new SparkjobsError("conflict", `run ${plan.runId} already completed with a different plan`, {
      fix: "use a new --run-id (or none, for a fresh one); a run id always means one plan",
    });
  }
  options.log(`run ${plan.runId} is already complete with the same plan; not running it again`);
  return finish(options, plan, manifest, true, [], started);
}

async function finish(options: RunOptions, plan: RunPlan, manifest: RunManifest, reused: boolean, uploaded: string[], started: number): Promise<RunResult> {
  throwIfInvalid(plan.runId, await validateOutputs(options.storage, manifest));
  const checks = evaluateChecks(plan.checks, manifest);
  for (const c of checks.filter((c) => c.outcome === "warn")) options.log(`warning: gate ${c.name} of run ${plan.runId}: ${c.detail}`);
  return {
    runId: plan.runId,
    job: manifest.job.name,
    target: options.backend.target,
    reused,
    planSha256: manifest.planSha256,
    outputs: Object.fromEntries(Object.entries(manifest.outputs).map(([k, v]) => [k, { uri: v.uri, rows: v.rows }])),
    metrics: manifest.metrics,
    checks,
    durationMs: (options.clock ?? { now: Date.now }).now() - started,
    uploaded,
    manifest,
  };
}

export function throwIfInvalid(runId: string, reports: OutputReport[]): void {
  const missing = reports.flatMap((r) => r.missingFiles);
  if (missing.length) {
    throw new SparkjobsError("incomplete", `run ${runId} is incomplete: files its manifest lists are missing or changed`, {
      problems: missing.map((m) => ({ message: m })),
      fix: `rerun with --run-id ${runId}: a run whose files are gone or changed is run again under its id`,
    });
  }
  const problems = reports.flatMap((r) => r.problems);
  if (problems.length) {
    throw new SparkjobsError("output", `outputs of run ${runId} do not match their table schemas`, {
      problems,
      fix: "fix the SQL or MLlib stage that builds the output; the rules are in schemas/json/tables/",
    });
  }
}
