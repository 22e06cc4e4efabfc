/**
 * A class-data-sharing archive (the JDK's AppCDS) for the JVM of a local Spark driver: the classes
 * a Spark application loads (about twenty thousand: Spark SQL, Parquet, MLlib), already parsed and
 * verified, mapped from a file instead of read from the jars at every start and as a run goes on.
 * A segmentation of 10,000 customers took 0.91x the wall time with it (docs/benchmarks.md); nothing
 * else changes: the JVM loads the same classes, from the archive or, for any it lacks, from the jars.
 *
 * `bootstrap.sh` builds it once per Java, Spark and driver class path (a short Spark application
 * with -XX:ArchiveClassesAtExit, scripts/jvm-warmup.py), under ~/.cache/sparkjobs/jvm/. The local
 * and standalone targets' drivers then start with -XX:SharedArchiveFile. The JVM checks the archive
 * against its own build and class path and, on any difference, starts without it, as before.
 *
 * The JVM refuses such an archive when a folder on the class path holds files: Spark's launcher
 * puts SPARK_CONF_DIR (default $SPARK_HOME/conf, absent in a pip install of pyspark),
 * HADOOP_CONF_DIR and YARN_CONF_DIR there. With any of them holding files, runs start without an
 * archive. SPARKJOBS_CLASS_ARCHIVE=off turns it off.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDir, sparkSubmitPath, venvDir } from "./where.js";

export interface ClassArchive {
  /** The archive's file for this Java, Spark and class path (it may not exist yet). */
  path: string;
}

export type ClassArchiveAnswer = ClassArchive | { unusable: string };

function javaBinary(env: NodeJS.ProcessEnv): string | undefined {
  if (env.JAVA_HOME) {
    const java = join(env.JAVA_HOME, "bin", "java");
    return existsSync(java) ? realpathSync(java) : undefined;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    const java = join(dir, "java");
    if (dir && existsSync(java)) return realpathSync(java);
  }
  return undefined;
}

/** The pinned pyspark's SPARK_HOME (the package folder in the venv), or SPARK_HOME when set. */
function sparkHome(env: NodeJS.ProcessEnv): string | undefined {
  if (env.SPARK_HOME) return env.SPARK_HOME;
  const lib = join(venvDir(env), "lib");
  if (!existsSync(lib)) return undefined;
  for (const python of readdirSync(lib)) {
    const home = join(lib, python, "site-packages", "pyspark");
    if (existsSync(join(home, "jars"))) return home;
  }
  return undefined;
}

const holdsFiles = (dir: string) => existsSync(dir) && statSync(dir).isDirectory() && readdirSync(dir).length > 0;

/**
 * The archive for a local driver whose class path starts with `driverClassPath` (the S3A jars of
 * runs that read s3://), or why there can be none here.
 */
export function driverClassArchive(env: NodeJS.ProcessEnv, driverClassPath: string[] = []): ClassArchiveAnswer {
  if (env.SPARKJOBS_CLASS_ARCHIVE === "off") return { unusable: "SPARKJOBS_CLASS_ARCHIVE=off" };
  if (env.SPARKJOBS_SPARK_SUBMIT) return { unusable: "SPARKJOBS_SPARK_SUBMIT names another Spark" };
  if (env.SPARK_CLASSPATH || env.SPARK_DIST_CLASSPATH) return { unusable: "SPARK_CLASSPATH or SPARK_DIST_CLASSPATH adds to the class path" };
  const home = sparkHome(env);
  if (!home || !existsSync(sparkSubmitPath(env))) return { unusable: "the pinned Spark is not installed" };
  const java = javaBinary(env);
  if (!java) return { unusable: "java was not found (JAVA_HOME, PATH)" };
  const conf = env.SPARK_CONF_DIR ?? join(home, "conf");
  for (const [name, dir] of [["SPARK_CONF_DIR", conf], ["HADOOP_CONF_DIR", env.HADOOP_CONF_DIR], ["YARN_CONF_DIR", env.YARN_CONF_DIR]] as const) {
    if (dir && holdsFiles(dir)) return { unusable: `${name} (${dir}) holds files, and the JVM shares no classes with a class path that has such a folder` };
  }
  const key = createHash("sha256").update(JSON.stringify({ java, home, conf, driverClassPath })).digest("hex").slice(0, 16);
  return { path: join(cacheDir(env), "jvm", `spark-driver-${key}.jsa`) };
}

/** The driver JVM option that maps the archive, when it is there and can be used. */
export function classArchiveOption(env: NodeJS.ProcessEnv, driverClassPath: string[] = []): string | undefined {
  const archive = driverClassArchive(env, driverClassPath);
  return "path" in archive && existsSync(archive.path) ? `-XX:SharedArchiveFile=${archive.path}` : undefined;
}

/**
 * Builds the archive for the default class path when it is missing (bootstrap.sh): scripts/jvm-warmup.py
 * on a local Spark, its JVM saving its classes at exit. Never fails the caller: a run without an
 * archive is only slower.
 */
export async function buildClassArchive(env: NodeJS.ProcessEnv, say: (line: string) => void): Promise<void> {
  const archive = driverClassArchive(env);
  if (!("path" in archive)) return say(`local Spark drivers start without a JVM class archive: ${archive.unusable}`);
  if (existsSync(archive.path)) return say(`JVM class archive for local Spark drivers: ${archive.path}`);
  const { mkdirSync, mkdtempSync, renameSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { spawn } = await import("node:child_process");
  const { dirname } = await import("node:path");
  const { packageRoot, pythonPath } = await import("./where.js");
  mkdirSync(dirname(archive.path), { recursive: true });
  const partial = `${archive.path}.partial-${process.pid}`;
  const scratch = mkdtempSync(join(tmpdir(), "sparkjobs-jvm-warmup-"));
  say("building the JVM class archive for local Spark drivers (once; about a minute)");
  const started = Date.now();
  let output = "";
  const code = await new Promise<number | null>((done) => {
    const child = spawn(sparkSubmitPath(env), ["--master", "local[2]", "--driver-memory", "1g", "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=4", join(packageRoot, "scripts", "jvm-warmup.py"), scratch], {
      env: { ...env, SPARK_SUBMIT_OPTS: [env.SPARK_SUBMIT_OPTS, `-XX:ArchiveClassesAtExit=${partial}`, "-Dlog4j2.level=warn"].filter(Boolean).join(" "), PYSPARK_PYTHON: pythonPath(env), PYSPARK_DRIVER_PYTHON: pythonPath(env), SPARK_LOCAL_IP: env.SPARK_LOCAL_IP ?? "127.0.0.1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const s of [child.stdout!, child.stderr!]) s.on("data", (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
    child.on("close", done);
    child.on("error", () => done(127));
  });
  rmSync(scratch, { recursive: true, force: true });
  if (code === 0 && existsSync(partial)) {
    renameSync(partial, archive.path);
    say(`JVM class archive for local Spark drivers: ${archive.path} (${(statSync(archive.path).size / 2 ** 20).toFixed(0)} MB, built in ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  } else {
    rmSync(partial, { force: true });
    say(`warning: the JVM class archive was not built (spark-submit exited ${code}); local runs start without it. Its last output:\n${output}`);
  }
}

// `build` (bootstrap.sh); `option`: the JVM option that maps the archive, or nothing (scripts/test.sh).
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  if (process.argv[2] === "build") await buildClassArchive(process.env, (line) => process.stderr.write(`[bootstrap] ${line}\n`));
  if (process.argv[2] === "option") process.stdout.write(`${classArchiveOption(process.env) ?? ""}\n`);
}
