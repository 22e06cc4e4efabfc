/**
 * Pipelines: jobs run in order, each step reading earlier steps' outputs through their manifests.
 * `checkPipeline` is pure and reports every problem at once; `runPipeline` takes the function that
 * runs one job (cli.ts passes the same one `run` uses), so this module starts nothing itself.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pipelineDefinition, RUN_ID_PATTERN, type PipelineDefinition, type ParamValue } from "../../schemas/src/index.js";
import { dirsOf, displayPath, findYaml, loadJob, yamlNames, type JobsDirs, type LoadedJob } from "./config/job.js";
import { resolveParams } from "./config/params.js";
import { dottedPath, parseYaml, zodProblems } from "./config/yaml-file.js";
import { SparkjobsError, type Problem } from "./errors.js";
import { newRunId } from "./plan/build.js";
import type { RunResult } from "./run.js";

export interface LoadedPipeline {
  definition: PipelineDefinition;
  file: string;
  jobs: Map<string, LoadedJob>;
}

const PLACEHOLDER = /\{([^}]*)\}/g;

export function listPipelines(jobsDir: JobsDirs): string[] {
  return [...new Set(dirsOf(jobsDir).flatMap((d) => yamlNames(join(d, "pipelines"))))].sort();
}

/** Reads and checks a pipeline and every job it names. */
export function loadPipeline(jobsDir: JobsDirs, name: string): LoadedPipeline {
  const path = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) ? findYaml(jobsDir, "pipelines", name) : undefined;
  if (!path) {
    const known = listPipelines(jobsDir);
    const dirs = dirsOf(jobsDir).map((d) => displayPath(join(d, "pipelines")));
    throw new SparkjobsError("usage", `no pipeline named "${name}" in ${dirs.join(" or ")}`, {
      fix: known.length ? `use one of: ${known.join(", ")}` : `create ${join(dirs[0]!, `${name}.yaml`)}`,
    });
  }
  return checkPipeline(displayPath(path), readFileSync(path, "utf8"), (job) => loadJob(jobsDir, job));
}

/** Pure, given a way to load jobs: the definition, its steps' jobs, parameters and placeholders. */
export function checkPipeline(file: string, text: string, load: (job: string) => LoadedJob): LoadedPipeline {
  const parsed = parseYaml(file, text);
  if (parsed.problems.length) throw invalid(file, parsed.problems);
  const result = pipelineDefinition.safeParse(parsed.value);
  if (!result.success) throw invalid(file, zodProblems(file, parsed, result.error));
  const definition = result.data;
  const problems: Problem[] = [];
  const at = (path: (string | number)[], message: string) => problems.push({ file, line: parsed.lineOf(path), path: dottedPath(path), message });
  const jobs = new Map<string, LoadedJob>();
  const earlier = new Set<string>();
  definition.steps.forEach((step, i) => {
    if (earlier.has(step.name)) at(["steps", i, "name"], `step "${step.name}" is named twice`);
    let job: LoadedJob | undefined;
    try {
      job = jobs.get(step.job) ?? load(step.job);
      jobs.set(step.job, job);
    } catch (e) {
      if (!(e instanceof SparkjobsError)) throw e;
      at(["steps", i, "job"], e.kind === "usage" ? `${e.message}${e.fix ? ` (${e.fix})` : ""}` : `job ${step.job} is not valid: ${e.message}`);
    }
    for (const [param, value] of Object.entries(step.params)) {
      if (job && !Object.hasOwn(job.definition.params, param)) {
        at(["steps", i, "params", param], `job ${step.job} has no parameter "${param}" (it has: ${Object.keys(job.definition.params).join(", ")})`);
      }
      for (const m of String(value).matchAll(PLACEHOLDER)) {
        const ref = m[1]!;
        if (ref.startsWith("steps.")) {
          if (!earlier.has(ref.slice(6))) at(["steps", i, "params", param], `{${ref}} is not an earlier step`);
        } else if (!Object.hasOwn(definition.params, ref)) {
          at(["steps", i, "params", param], `{${ref}} is not a parameter of the pipeline`);
        }
      }
    }
    earlier.add(step.name);
  });
  if (problems.length) throw invalid(file, problems);
  return { definition, file, jobs };
}

function invalid(file: string, problems: Problem[]): SparkjobsError {
  return new SparkjobsError("definition", `pipeline ${file} is not valid (${problems.length} problem${problems.length === 1 ? "" : "s"})`, {
    problems,
    fix: "correct the fields listed above; the reference is schemas/json/pipeline-definition.schema.json",
  });
}

export interface StepPlan {
  name: string;
  job: string;
  runId: string;
  params: Record<string, string>;
}

/**
 * Every step's run id and parameters, checked against its job before anything runs. Pure.
 * A step's run id is `<pipeline run id>.<step>`.
 */
export function planSteps(pipeline: LoadedPipeline, runId: string, given: Record<string, string>): StepPlan[] {
  const { definition, file } = pipeline;
  const values: Record<string, ParamValue> = resolveParams(definition, file, given, "pipeline").values;
  const stepIds: Record<string, string> = {};
  const problems: Problem[] = [];
  const steps = definition.steps.map((step) => {
    const id = `${runId}.${step.name}`;
    if (!RUN_ID_PATTERN.test(id)) problems.push({ file, path: `steps.${step.name}`, message: `the step's run id ${id} is longer than 64 characters or not a valid run id` });
    stepIds[step.name] = id;
    const params = Object.fromEntries(
      Object.entries(step.params).map(([k, v]) => [
        k,
        String(v).replace(PLACEHOLDER, (_, ref: string) => (ref.startsWith("steps.") ? stepIds[ref.slice(6)]! : String(values[ref]!.value))),
      ]),
    );
    try {
      resolveParams(pipeline.jobs.get(step.job)!.definition, file, params);
    } catch (e) {
      if (!(e instanceof SparkjobsError)) throw e;
      for (const p of e.problems) problems.push({ file, path: `steps.${step.name}: ${p.path ?? ""}`.trim(), message: p.message });
    }
    return { name: step.name, job: step.job, runId: id, params };
  });
  if (problems.length) {
    throw new SparkjobsError("usage", `pipeline ${definition.name} cannot start: parameters of its steps are not valid`, {
      problems,
      fix: `pass valid values with --param (the pipeline's params are in ${file}); nothing has run`,
    });
  }
  return steps;
}

export interface StepResult {
  name: string;
  job: string;
  runId: string;
  reused: boolean;
  status: "succeeded" | "gate_failed";
  durationMs: number;
  outputs: Record<string, { uri: string; rows: number }>;
  checks: RunResult["checks"];
}

export interface PipelineResult {
  pipeline: string;
  runId: string;
  status: "succeeded";
  durationMs: number;
  steps: StepResult[];
}

/**
 * Runs the steps in order and stops at the first that fails or fails a gate: later steps would read
 * results nobody should trust. Its error names the step and says how to resume.
 */
export async function runPipeline(
  pipeline: LoadedPipeline,
  options: { runId?: string; params: Record<string, string>; now?: Date; log: (message: string) => void },
  runStep: (step: StepPlan) => Promise<RunResult>,
): Promise<PipelineResult> {
  const started = Date.now();
  // At most 48 characters, so that "<run id>.<step>" fits the 64 of a run id.
  const runId = options.runId ?? newRunId(pipeline.definition.name.slice(0, 24), options.now ?? new Date());
  const steps = planSteps(pipeline, runId, options.params);
  const results: StepResult[] = [];
  for (const [i, step] of steps.entries()) {
    options.log(`pipeline ${runId}: step ${i + 1}/${steps.length} ${step.name} (job ${step.job}, run ${step.runId})`);
    const resume = `rerun with --run-id ${runId}: the ${i} step${i === 1 ? "" : "s"} before it are reused, not run again`;
    let result: RunResult;
    try {
      result = await runStep(step);
    } catch (e) {
      if (!(e instanceof SparkjobsError)) throw e;
      throw new SparkjobsError(e.kind, `pipeline ${runId} stopped at step ${step.name} (job ${step.job}, run ${step.runId}): ${e.message}`, {
        problems: e.problems,
        fix: `${e.fix ? `${e.fix}; then ` : ""}${resume}`,
        details: { pipeline: pipeline.definition.name, runId, stoppedAt: step.name, steps: results },
        retryable: e.retryable,
      });
    }
    const failed = result.checks.filter((c) => !c.passed);
    results.push({
      name: step.name, job: step.job, runId: step.runId, reused: result.reused,
      status: failed.length ? "gate_failed" : "succeeded", durationMs: result.durationMs, outputs: result.outputs, checks: result.checks,
    });
    if (failed.length) {
      throw new SparkjobsError("gate", `pipeline ${runId} stopped at step ${step.name} (job ${step.job}, run ${step.runId}): ${failed.length} quality gate${failed.length === 1 ? "" : "s"} failed`, {
        problems: failed.map((c) => ({ path: c.name, message: c.detail })),
        // The step is complete: rerunning this run id reuses it and stops at the same gate; a changed bound is another plan.
        fix: `later steps did not run; the step's outputs are kept (run ${step.runId}) to look at. A run id always means one plan: ` +
          `to go past the gate (with a bound the pipeline takes as a parameter, or after changing the data or the job), rerun under a new --run-id`,
        details: { pipeline: pipeline.definition.name, runId, stoppedAt: step.name, steps: results },
      });
    }
  }
  return { pipeline: pipeline.definition.name, runId, status: "succeeded", durationMs: Date.now() - started, steps: results };
}
