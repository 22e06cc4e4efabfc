/**
 * The Python environment of a run whose code imports more than pyspark and numpy (a model of
 * type xgboost imports xgboost, pandas, pyarrow and scikit-learn). Built once per machine and package list with the
 * pinned Python (a venv, pip from PyPI or PIP_INDEX_URL), kept under the cache, and packed with
 * venv-pack into one archive:
 *
 * - local and standalone runs point PYSPARK_PYTHON at the built environment's own python;
 * - on YARN, EMR and EMR Serverless the archive is staged under the root, content-addressed like
 *   the runner code, and reaches every container as `--archives <uri>#environment`, the driver and
 *   executors running ./environment/bin/python.
 *
 * pyspark is not in the environment: spark-submit puts the cluster's own pyspark on the path.
 * A packed venv's python is a link to the interpreter it was built with (for example
 * /usr/bin/python3.11): the cluster's nodes need that Python at that path (README "Python packages").
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LoadedJob } from "../config/job.js";
import { SparkjobsError } from "../errors.js";
import { cacheDir, packageRoot } from "../env/where.js";

/** The tool that packs the environment; installed into the environment it packs. */
export const VENV_PACK = "venv-pack==0.2.0";
/** Where a packed environment is unpacked in each container (the `#environment` of --archives). */
export const ENV_LINK = "environment";
export const ENV_PYTHON = `./${ENV_LINK}/bin/python`;

export interface PythonEnv {
  hash: string;
  /** The packages asked for (the runner's own added), sorted. */
  packages: string[];
  /** The built environment on this machine. */
  dir: string;
  python: string;
  /** The packed environment (tar.gz) on this machine. */
  archive: string;
  /** The version of the Python it was built with. */
  pythonVersion: string;
}

function requirementLines(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean);
}

/** The runner's own requirements that a cluster's Python may lack in a separate environment (pyspark comes from Spark). */
export function runnerPackages(root = packageRoot): string[] {
  return requirementLines(join(root, "jobs", "runner", "requirements.txt")).filter((l) => !/^pyspark\b/i.test(l));
}

/** The packages a model type brings (type xgboost: XGBoost on Spark and what it imports). */
export function modelPackages(type: string, root = packageRoot): string[] {
  return type === "xgboost" ? requirementLines(join(root, "jobs", "runner", "requirements-xgboost.txt")) : [];
}

const nameOf = (requirement: string) => requirement.split(/[=[<>!~ ]/)[0]!.toLowerCase().replace(/[._]+/g, "-");

/**
 * One list from several: sorted, each name once. The same name pinned to two versions is an error
 * naming both (the job's list against a model's, for example).
 */
export function mergePackages(lists: { from: string; packages: string[] }[]): string[] {
  const byName = new Map<string, { requirement: string; from: string }>();
  for (const { from, packages } of lists) {
    for (const requirement of packages) {
      const name = nameOf(requirement);
      const seen = byName.get(name);
      if (seen && seen.requirement !== requirement) {
        throw new SparkjobsError("definition", `${from} asks for ${requirement}, and ${seen.from} for ${seen.requirement}: one environment holds one version of ${name}`, {
          problems: [{ file: from, message: `${requirement} conflicts with ${seen.requirement}` }],
          fix: `pin ${name} to the version ${seen.from} uses (${seen.requirement}), or leave it out`,
        });
      }
      byName.set(name, { requirement, from });
    }
  }
  return [...byName.values()].map((v) => v.requirement).sort();
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output = (output + d.toString("utf8")).slice(-20_000)));
    child.stderr.on("data", (d: Buffer) => (output = (output + d.toString("utf8")).slice(-20_000)));
    child.on("error", (e) => resolve({ code: 127, output: `${command}: ${e.message}` }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The Python environments are built with: SPARKJOBS_BOOTSTRAP_PYTHON (as for the bootstrap) or python3. */
export function basePython(env: NodeJS.ProcessEnv = process.env): string {
  return env.SPARKJOBS_BOOTSTRAP_PYTHON ?? "python3";
}

export function pythonEnvHash(packages: string[], pythonVersion: string): string {
  return createHash("sha256").update(JSON.stringify({ pythonVersion, packages, tool: VENV_PACK })).digest("hex").slice(0, 16);
}

/**
 * The built and packed environment for these packages (the runner's own added), building it the
 * first time. Builders of the same environment at once each build apart and the first to finish wins.
 */
export async function ensurePythonEnv(
  packages: string[],
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void; job?: string } = {},
): Promise<PythonEnv> {
  const env = options.env ?? process.env;
  const python = basePython(env);
  const version = await run(python, ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], env);
  if (version.code !== 0) {
    throw new SparkjobsError("environment", `the Python that builds the run's environment (${python}) does not start: ${version.output.trim().split("\n").pop()}`, {
      fix: "install python3 with venv (apt-get install -y python3 python3-venv), or set SPARKJOBS_BOOTSTRAP_PYTHON to one",
    });
  }
  const pythonVersion = version.output.trim();
  const all = mergePackages([{ from: "jobs/runner/requirements.txt", packages: runnerPackages() }, { from: options.job ?? "the job", packages }]);
  const hash = pythonEnvHash(all, pythonVersion);
  const dir = join(cacheDir(env), "python-envs", hash);
  const result: PythonEnv = { hash, packages: all, dir, python: join(dir, "bin", "python"), archive: join(dir, "..", `${hash}.tar.gz`), pythonVersion };
  if (existsSync(join(dir, ".complete")) && existsSync(result.archive)) return result;

  const part = `${dir}.part-${process.pid}`;
  rmSync(part, { recursive: true, force: true });
  mkdirSync(join(dir, ".."), { recursive: true });
  options.log?.(`building the Python environment ${hash} (Python ${pythonVersion}: ${all.join(" ")}); the first time takes a minute or more`);
  const started = Date.now();
  const failed = (what: string, output: string, fix: string) => {
    rmSync(part, { recursive: true, force: true });
    const said = output.trim().split("\n").filter((l) => /error|not found|no matching|could not/i.test(l)).slice(-3);
    return new SparkjobsError("environment", `${what}: ${(said.length ? said : output.trim().split("\n").slice(-3)).join(" / ")}`, {
      problems: [{ file: options.job ?? "the job", message: `the packages of its models: ${all.join(" ")}` }],
      fix,
    });
  };
  const venv = await run(python, ["-m", "venv", part], env);
  if (venv.code !== 0) throw failed(`${python} -m venv failed`, venv.output, "install the venv module (apt-get install -y python3-venv)");
  const pip = await run(
    join(part, "bin", "pip"),
    ["install", "--quiet", "--disable-pip-version-check", "--no-input", "--cache-dir", join(cacheDir(env), "..", "pip"), ...all, VENV_PACK],
    env,
  );
  if (pip.code !== 0) {
    throw failed("pip could not install the run's Python packages", pip.output, "check each name==version on PyPI (pip install it with the same Python), and that PyPI or your index (PIP_INDEX_URL) can be reached");
  }
  const packed = `${result.archive}.part-${process.pid}`;
  const pack = await run(join(part, "bin", "python"), ["-m", "venv_pack", "--prefix", part, "--output", packed, "--format", "tar.gz", "--force", "--quiet"], env);
  if (pack.code !== 0) throw failed("venv-pack could not pack the environment", pack.output, "see the message above; the environment is built again on the next run");
  writeFileSync(join(part, ".complete"), `${all.join("\n")}\n`);
  renameSync(packed, result.archive);
  if (existsSync(join(dir, ".complete"))) {
    // Another builder finished first: its environment is the same one, and may be in use.
    rmSync(part, { recursive: true, force: true });
  } else {
    rmSync(dir, { recursive: true, force: true });
    renameSync(part, dir);
  }
  options.log?.(`built the Python environment ${hash} in ${((Date.now() - started) / 1000).toFixed(0)} s (${(statSync(result.archive).size / 2 ** 20).toFixed(0)} MiB packed)`);
  return result;
}

/**
 * The Python packages a job's runs need: those its models' types bring (xgboost), the models it
 * trains (its MLlib configurations) and the saved models it loads (their types as their runs saved them).
 */
export function jobPythonPackages(job: LoadedJob, loadedModelTypes: Record<string, string> = {}, root = packageRoot): string[] {
  const lists: { from: string; packages: string[] }[] = [];
  for (const { file, config } of job.mllib.values()) {
    const models = "models" in config && config.models ? Object.values(config.models) : [];
    for (const type of new Set(models.map((m) => m.type))) lists.push({ from: file, packages: modelPackages(type, root) });
  }
  for (const [name, type] of Object.entries(loadedModelTypes)) lists.push({ from: `${job.file} (model ${name})`, packages: modelPackages(type, root) });
  return mergePackages(lists);
}

/**
 * spark-submit arguments that put a run's packed environment in every container and run Python
 * from it: the executors always; the driver too when it runs in a container (cluster deploy mode),
 * else the driver runs the built environment here.
 */
export function pythonEnvSubmitArgs(pythonEnv: { python: string; archiveUri?: string } | undefined, driverInContainer: boolean): string[] {
  if (!pythonEnv?.archiveUri) return [];
  return [
    "--archives", `${pythonEnv.archiveUri}#${ENV_LINK}`,
    "--conf", `spark.pyspark.python=${ENV_PYTHON}`,
    "--conf", `spark.pyspark.driver.python=${driverInContainer ? ENV_PYTHON : pythonEnv.python}`,
  ];
}

/**
 * The same for EMR Serverless, whose spark-submit parameters take archives as spark.archives and
 * the driver's environment as spark.emr-serverless.driverEnv.* (its documented keys).
 */
export function serverlessPythonEnvConf(pythonEnv: { archiveUri?: string } | undefined): Record<string, string> {
  if (!pythonEnv?.archiveUri) return {};
  return {
    "spark.archives": `${pythonEnv.archiveUri}#${ENV_LINK}`,
    "spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON": ENV_PYTHON,
    "spark.emr-serverless.driverEnv.PYSPARK_PYTHON": ENV_PYTHON,
    "spark.executorEnv.PYSPARK_PYTHON": ENV_PYTHON,
  };
}
