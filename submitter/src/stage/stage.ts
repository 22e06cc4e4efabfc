/**
 * Staging: the runner bundle and the plan go to storage under their content hash. A second run
 * with unchanged code uploads no code; a plan is never overwritten with different bytes.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { RunPlan } from "../../../schemas/src/index.js";
import { packageRoot } from "../env/where.js";
import { DEFAULT_SERIES, joinUri, planSha256, planText } from "../plan/build.js";
import type { PythonEnv } from "./python-env.js";
import type { Storage } from "./storage.js";
import { zip } from "./zip.js";

export interface RunnerBundle {
  hash: string;
  runnerPy: Buffer;
  pyFilesZip: Buffer;
}

/** Builds the runner bundle from jobs/runner and the exported plan schema. */
export function buildRunnerBundle(root = packageRoot): RunnerBundle {
  const runnerDir = join(root, "jobs", "runner");
  const pkgDir = join(runnerDir, "sparkjobs_runner");
  const files = readdirSync(pkgDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".py"))
    .map((e) => {
      const full = join(e.parentPath, e.name);
      return { path: relative(runnerDir, full).split("\\").join("/"), data: readFileSync(full) };
    });
  files.push({
    path: "sparkjobs_runner/schemas/run-plan.schema.json",
    data: readFileSync(join(root, "schemas", "json", "run-plan.schema.json")),
  });
  const runnerPy = readFileSync(join(runnerDir, "runner.py"));
  const pyFilesZip = zip(files);
  const hash = createHash("sha256").update(runnerPy).update(pyFilesZip).digest("hex").slice(0, 16);
  return { hash, runnerPy, pyFilesZip };
}

export interface Staged {
  planUri: string;
  planSha256: string;
  runnerUri: string;
  pyFilesUri: string;
  /** URIs actually written: the code only when its hash is new, the plan only when the plan is new. */
  uploaded: string[];
  /** The history series of the run (not part of the plan: the same plan may be run for another series). */
  series?: string;
  /**
   * The run's Python environment (plans with python packages): its python on this machine, and the
   * packed archive's URI under the root when the backend's containers unpack it (--archives).
   */
  pythonEnv?: { hash: string; python: string; archiveUri?: string };
  /** Submit the runner as a session (backends/session.ts): it runs the plans requested in this folder, not planUri alone. */
  session?: string;
}

/** The runner's arguments: the plan, and the series when it is not the default one; or the session folder whose requests it runs. */
export function runnerArgs(staged: Staged): string[] {
  if (staged.session) return ["--session", staged.session];
  return ["--plan", staged.planUri, ...(staged.series && staged.series !== DEFAULT_SERIES ? ["--series", staged.series] : [])];
}

export async function stageRun(storage: Storage, root: string, plan: RunPlan, bundle: RunnerBundle, pythonEnv?: { env: PythonEnv; ship: boolean }): Promise<Staged> {
  const uploaded: string[] = [];
  const putOnce = async (uri: string, body: Buffer | string) => {
    const size = await storage.size(uri);
    if (size === Buffer.byteLength(body)) return;
    await storage.put(uri, body);
    uploaded.push(uri);
  };
  const codeDir = joinUri(root, "stage", "code", bundle.hash);
  const runnerUri = joinUri(codeDir, "runner.py");
  const pyFilesUri = joinUri(codeDir, "sparkjobs_runner.zip");
  await putOnce(pyFilesUri, bundle.pyFilesZip);
  await putOnce(runnerUri, bundle.runnerPy);
  const sha = planSha256(plan);
  const planUri = joinUri(root, "stage", "plans", `${sha}.json`);
  await putOnce(planUri, planText(plan));
  let staged: Staged["pythonEnv"];
  if (pythonEnv) {
    const { env, ship } = pythonEnv;
    staged = { hash: env.hash, python: env.python };
    if (ship) {
      // Content-addressed like the code: the same packages on the same Python are uploaded once.
      const archiveUri = joinUri(root, "stage", "python", env.hash, "environment.tar.gz");
      if ((await storage.size(archiveUri)) !== statSync(env.archive).size) {
        await storage.put(archiveUri, readFileSync(env.archive));
        uploaded.push(archiveUri);
      }
      staged.archiveUri = archiveUri;
    }
  }
  return { planUri, planSha256: sha, runnerUri, pyFilesUri, uploaded, ...(staged ? { pythonEnv: staged } : {}) };
}
