/**
 * What the loopback EMR and EMR Serverless servers use to "run on the cluster": the real
 * spark-submit of the pinned Spark on this machine, in client mode with master local[2], with s3://
 * mapped to S3A on the loopback S3 server. Everything else in the argument list is passed as the
 * service received it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { s3aConf } from "../../submitter/src/backends/spark-submit.js";
import { pythonPath, s3aJars, sparkSubmitPath } from "../../submitter/src/env/where.js";

export interface LocalSparkOptions {
  /** Environment of the S3 server (AWS_ENDPOINT_URL_S3, credentials, region). */
  s3Env: Record<string, string>;
  master?: string;
}

/**
 * Rewrites a cluster spark-submit argument list (everything after "spark-submit") to run here:
 * cluster deploy mode becomes client mode on a local master, S3A settings are added.
 */
export function localSparkArgs(args: readonly string[], options: LocalSparkOptions): string[] {
  const out: string[] = ["--master", options.master ?? "local[2]", "--driver-class-path", s3aJars().join(":")];
  for (const [k, v] of Object.entries(s3aConf(options.s3Env))) out.push("--conf", `${k}=${v}`);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--deploy-mode" || a === "--master") {
      i++; // replaced above: client mode on a local master
      continue;
    }
    out.push(a);
  }
  return out;
}

/** Starts spark-submit with a rewritten argument list; stdout and stderr are piped to the caller. */
export function startLocalSpark(args: readonly string[], options: LocalSparkOptions): ChildProcess {
  const python = pythonPath();
  return spawn(sparkSubmitPath(), localSparkArgs(args, options), {
    env: {
      ...process.env,
      ...options.s3Env,
      PYSPARK_PYTHON: python,
      PYSPARK_DRIVER_PYTHON: python,
      SPARK_LOCAL_IP: "127.0.0.1",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
}
