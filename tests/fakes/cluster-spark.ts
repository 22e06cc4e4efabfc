/**
 * What the loopback EMR and EMR Serverless servers use to run on "the cluster": the real
 * spark-submit of the pinned Spark against the Hadoop mini cluster's YARN, with the argument list
 * exactly as the service received it. The cluster's side is configuration only, as on EMR, where
 * /etc/spark/conf/spark-defaults.conf says `spark.master yarn` and EMRFS serves s3://:
 *
 *   - a Spark configuration folder (SPARK_CONF_DIR) whose spark-defaults.conf sets the master to
 *     yarn, maps s3:// and s3n:// to S3A on the loopback S3 server, and names the cluster's Spark
 *     archive (the pinned Spark's jars and the S3A jars, in HDFS, like EMR's jars on every node);
 *   - the S3A jars on the submitting JVM's class path (SPARK_DIST_CLASSPATH), as EMR's are;
 *   - the S3 credentials in the NodeManagers' environment (tests/servers/hadoop.ts), as an instance
 *     profile is on EMR: never in the step's arguments.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { s3aConf } from "../../submitter/src/backends/spark-submit.js";
import { sparkHome } from "../../submitter/src/backends/yarn.js";
import { clusterPython, s3aJars, sparkSubmitPath } from "../../submitter/src/env/where.js";
import { WebHdfsStorage } from "../../submitter/src/stage/webhdfs.js";
import { zip } from "../../submitter/src/stage/zip.js";
import type { HadoopInfo } from "../servers/hadoop.js";

export interface ClusterSparkOptions {
  /** Environment of the S3 server (AWS_ENDPOINT_URL_S3, credentials, region). */
  s3Env: Record<string, string>;
  hadoop: HadoopInfo;
}

export interface ClusterSpark {
  /** SPARK_CONF_DIR of the cluster. */
  confDir: string;
  hadoop: HadoopInfo;
  s3Env: Record<string, string>;
}

const prepared = new Map<string, Promise<ClusterSpark>>();

/** The cluster's Spark configuration and archive, made once per mini cluster. */
export function clusterSpark(options: ClusterSparkOptions): Promise<ClusterSpark> {
  const key = options.hadoop.dir;
  let p = prepared.get(key);
  if (!p) {
    p = prepare(options);
    prepared.set(key, p);
  }
  return p;
}

async function prepare(options: ClusterSparkOptions): Promise<ClusterSpark> {
  const confDir = join(options.hadoop.dir, "emr-spark-conf");
  mkdirSync(confDir, { recursive: true });
  const archive = `${options.hadoop.defaultFS}/apps/spark/spark-jars-s3a.zip`;
  const storage = new WebHdfsStorage({ env: { ...process.env, HADOOP_CONF_DIR: options.hadoop.conf } });
  if ((await storage.size(archive)) === undefined) {
    const jars = join(sparkHome(), "jars");
    const files = [
      ...readdirSync(jars).filter((n) => n.endsWith(".jar")).map((n) => ({ path: n, data: readFileSync(join(jars, n)) })),
      ...s3aJars().map((j) => ({ path: basename(j), data: readFileSync(j) })),
    ];
    await storage.put(archive, zip(files, { store: true }));
  }
  const defaults: Record<string, string> = {
    // The settings every test run gets (tests/spark-conf), as a cluster's administrator sets defaults.
    ...testSparkDefaults(),
    "spark.master": "yarn",
    "spark.yarn.archive": archive,
    "spark.ui.showConsoleProgress": "false",
    ...s3aConf(options.s3Env),
  };
  writeFileSync(join(confDir, "spark-defaults.conf"), Object.entries(defaults).map(([k, v]) => `${k} ${v}`).join("\n") + "\n");
  return { confDir, hadoop: options.hadoop, s3Env: options.s3Env };
}

/** The settings of tests/spark-conf/spark-defaults.conf. */
function testSparkDefaults(): Record<string, string> {
  const text = readFileSync(join(import.meta.dirname, "..", "spark-conf", "spark-defaults.conf"), "utf8");
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  return Object.fromEntries(lines.map((l) => [l.split(/\s+/, 1)[0]!, l.replace(/^\S+\s+/, "")]));
}

/** Starts spark-submit with the arguments as given, on the cluster; stdout and stderr are piped to the caller. */
export function startClusterSpark(args: readonly string[], cluster: ClusterSpark): ChildProcess {
  // The submitting machine's own Python is not the cluster's: nothing of the test's venv travels.
  const { PYSPARK_PYTHON: _p, PYSPARK_DRIVER_PYTHON: _d, SPARK_CONF_DIR: _c, ...env } = process.env;
  // A driver that runs here (a client-mode step) runs the service's Python, which is the
  // cluster's: numpy, no pyspark of its own.
  const clusterMode = args.some((a, i) => (a === "--deploy-mode" && args[i + 1] === "cluster") || a === "spark.submit.deployMode=cluster");
  const python = join(clusterPython(), "bin", "python3");
  return spawn(sparkSubmitPath(), [...args], {
    env: {
      ...env,
      ...(clusterMode ? {} : { PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python }),
      ...cluster.s3Env,
      SPARK_HOME: sparkHome(),
      SPARK_CONF_DIR: cluster.confDir,
      HADOOP_CONF_DIR: cluster.hadoop.conf,
      SPARK_DIST_CLASSPATH: s3aJars().join(":"),
      SPARK_LOCAL_IP: "127.0.0.1",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
}

/** The YARN application a spark-submit's output names, once YARN has accepted it. */
export function applicationOf(output: string): string | undefined {
  return /Submitted application (application_\d+_\d+)/.exec(output)?.[1];
}

/** Kills a YARN application through the ResourceManager's REST API (as `yarn application -kill` does). */
export async function killApplication(hadoop: HadoopInfo, applicationId: string): Promise<void> {
  await fetch(`${hadoop.resourceManager}/ws/v1/cluster/apps/${applicationId}/state?user.name=${encodeURIComponent(process.env.USER ?? "root")}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ state: "KILLED" }),
  }).catch(() => undefined);
}

/**
 * The containers' logs of an ended application once YARN has aggregated them (waiting up to
 * waitMs): container id -> { stdout, stderr }.
 */
export async function aggregatedContainerLogs(hadoop: HadoopInfo, applicationId: string, waitMs = 60_000): Promise<Map<string, Record<string, string>>> {
  const { aggregatedLogDirs, parseAggregatedLog } = await import("../../submitter/src/backends/yarn-logs.js");
  const deadline = Date.now() + waitMs;
  let user = process.env.USER ?? "root";
  for (;;) {
    const r = await fetch(`${hadoop.resourceManager}/ws/v1/cluster/apps/${applicationId}`).catch(() => undefined);
    const app = r?.ok ? ((await r.json()) as { app: { user: string; logAggregationStatus?: string } }).app : undefined;
    if (app) user = app.user;
    if (!app || ["SUCCEEDED", "FAILED", "TIME_OUT", "DISABLED"].includes(app.logAggregationStatus ?? "") || Date.now() > deadline) break;
    await new Promise((res) => setTimeout(res, 1000));
  }
  const storage = new WebHdfsStorage({ env: { ...process.env, HADOOP_CONF_DIR: hadoop.conf } });
  const out = new Map<string, Record<string, string>>();
  for (const dir of aggregatedLogDirs(`${hadoop.defaultFS}/tmp/logs`, user, applicationId)) {
    const files = await storage.listFiles(dir);
    for (const f of files) {
      for (const log of parseAggregatedLog((await storage.readBytes(f.uri))!)) {
        if (log.file !== "stdout" && log.file !== "stderr") continue;
        out.set(log.container, { ...(out.get(log.container) ?? {}), [log.file]: log.text });
      }
    }
    if (files.length) break;
  }
  return out;
}
