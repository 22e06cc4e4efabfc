/**
 * Where sparkjobs keeps things on this machine: the package root, the cache, the Python
 * environment with the pinned Spark. The bootstrap script asks this module too, so the
 * shell and the CLI can never disagree about the venv path.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root: the nearest folder above this file holding package.json (from dist/ or from source). */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
})();

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "sparkjobs");
}

/** The venv path is keyed by the content of the requirement files, so a changed pin gets a new venv. */
export function venvDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPARKJOBS_VENV) return env.SPARKJOBS_VENV;
  const hash = createHash("sha256");
  for (const file of ["jobs/runner/requirements.txt", "tests/requirements.txt"]) {
    hash.update(readFileSync(join(packageRoot, file)));
  }
  return join(cacheDir(env), "venv", `py-${hash.digest("hex").slice(0, 12)}`);
}

export function sparkSubmitPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPARKJOBS_SPARK_SUBMIT) return env.SPARKJOBS_SPARK_SUBMIT;
  return join(venvDir(env), "bin", "spark-submit");
}

export function pythonPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(venvDir(env), "bin", "python");
}

export interface Pin {
  kind: "jar" | "go";
  name: string;
  source: string;
  sha1: string;
}

/** The pinned downloads of scripts/pins.txt (hadoop-aws jars, the MinIO test server). */
export function pins(): Pin[] {
  return readFileSync(join(packageRoot, "scripts", "pins.txt"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [kind, name, source, sha1] = l.split(/\s+/);
      return { kind: kind as Pin["kind"], name: name!, source: source!, sha1: sha1! };
    });
}

/** The S3A jars (hadoop-aws and the AWS SDK bundle) that spark-submit needs for s3:// and s3a:// URIs. */
export function s3aJars(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.SPARKJOBS_S3A_JARS) return env.SPARKJOBS_S3A_JARS.split(",").filter(Boolean);
  return pins()
    .filter((p) => p.kind === "jar")
    .map((p) => join(cacheDir(env), "jars", p.name));
}

export function minioPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPARKJOBS_MINIO) return env.SPARKJOBS_MINIO;
  const pin = pins().find((p) => p.kind === "go" && p.name === "minio")!;
  const version = pin.source.split("@")[1]!;
  return join(cacheDir(env), "go", `minio-${version}`, "bin", "minio");
}

function hashOf(...files: string[]): string {
  const hash = createHash("sha256");
  for (const file of files) hash.update(readFileSync(join(packageRoot, file)));
  return hash.digest("hex").slice(0, 12);
}

/**
 * The Hadoop mini cluster of scripts/hadoop: its jars (keyed by the pom and the checksum list) and
 * its launcher's classes (keyed by the source), built by `bootstrap.sh --with-hadoop`.
 */
export function hadoopDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), "hadoop");
}
export function hadoopLib(env: NodeJS.ProcessEnv = process.env): string {
  return join(hadoopDir(env), `lib-${hashOf("scripts/hadoop/pom.xml", "scripts/hadoop/jars.sha1")}`);
}
export function hadoopClasses(env: NodeJS.ProcessEnv = process.env): string {
  return join(hadoopDir(env), `classes-${hashOf("scripts/hadoop/MiniHadoop.java")}`);
}
/** The Python of the mini cluster's nodes: numpy only, as a cluster's own Python (never the submitter's venv). */
export function clusterPython(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), "cluster-python", `py-${hashOf("scripts/hadoop/cluster-requirements.txt")}`);
}

/** Airflow with the Amazon provider (integrations/airflow/requirements-test.txt) for the tests of the Airflow operators. */
export function airflowVenv(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPARKJOBS_AIRFLOW_VENV) return env.SPARKJOBS_AIRFLOW_VENV;
  return join(cacheDir(env), "airflow", `py-${hashOf("integrations/airflow/requirements-test.txt")}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const what = process.argv[2];
  const answers: Record<string, () => string> = {
    venv: () => venvDir(),
    "spark-submit": () => sparkSubmitPath(),
    python: () => pythonPath(),
    root: () => packageRoot,
    "s3a-jars": () => s3aJars().join("\n"),
    minio: () => minioPath(),
    "hadoop-lib": () => hadoopLib(),
    "hadoop-classes": () => hadoopClasses(),
    "cluster-python": () => clusterPython(),
    "airflow-venv": () => airflowVenv(),
  };
  const answer = what ? answers[what] : undefined;
  if (!answer) {
    process.stderr.write(`usage: where.js ${Object.keys(answers).join("|")}\n`);
    process.exit(2);
  }
  process.stdout.write(`${answer()}\n`);
}
