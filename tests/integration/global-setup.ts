/**
 * Integration tests need the built CLI, the pinned Spark, the S3 server (MinIO) and the Hadoop
 * mini cluster (HDFS + YARN). When any is missing they fail here, loudly, and never skip: a green
 * run always means Spark, S3, HDFS and YARN ran. One MinIO and one Hadoop cluster serve the whole
 * run, on free loopback ports with their own data folders.
 */
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { s3ClientFromEnv } from "../../submitter/src/stage/s3.js";
import { startMinio } from "../servers/minio.js";
import { startHadoop, type HadoopCluster } from "../servers/hadoop.js";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

export const TEST_BUCKET = "sparkjobs-it";

export default async function setup(project: TestProject) {
  const repo = join(import.meta.dirname, "..", "..");
  const cli = join(repo, "dist", "submitter", "src", "cli.js");
  if (!existsSync(cli)) throw new Error(`integration tests need the built CLI at ${cli}: run npm test (it builds first)`);
  const venv = execFileSync(process.execPath, [join(repo, "dist", "submitter", "src", "env", "where.js"), "venv"], { encoding: "utf8" }).trim();
  if (!existsSync(join(venv, "bin", "spark-submit"))) {
    throw new Error(`integration tests need Spark: ${venv}/bin/spark-submit is missing; run bash scripts/bootstrap.sh`);
  }
  execFileSync("java", ["-version"], { stdio: "ignore" });
  const root = mkdtempSync(join(tmpdir(), "sparkjobs-it-"));
  const s3 = await startMinio();
  try {
    await s3ClientFromEnv({ ...process.env, ...s3.env }).send(new CreateBucketCommand({ Bucket: TEST_BUCKET }));
  } catch (e) {
    await s3.stop();
    throw e;
  }
  let hadoop: HadoopCluster;
  try {
    // The cluster's nodes hold the S3 server's credentials (S3A reads them from the environment),
    // as EMR's nodes have an instance profile: no plan or step ever carries them.
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION } = s3.env;
    hadoop = startHadoop(join(root, "hadoop"), { AWS_ACCESS_KEY_ID: AWS_ACCESS_KEY_ID!, AWS_SECRET_ACCESS_KEY: AWS_SECRET_ACCESS_KEY!, AWS_REGION: AWS_REGION ?? "us-east-1" });
  } catch (e) {
    await s3.stop();
    throw e;
  }
  project.provide("hadoop", hadoop.info);
  project.provide("root", root);
  project.provide("venv", venv);
  project.provide("s3Env", s3.env);
  project.provide("s3Bucket", TEST_BUCKET);
  return async () => {
    hadoop.stop();
    await s3.stop();
    if (!process.env.SPARKJOBS_KEEP_TEST_DATA) rmSync(root, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    root: string;
    venv: string;
    /** Environment that points the CLI and the SDK at the S3 server (endpoint, credentials, region). */
    s3Env: Record<string, string>;
    s3Bucket: string;
    /** The Hadoop mini cluster: its client configuration folder, its REST addresses and NodeManagers. */
    hadoop: import("../servers/hadoop.js").HadoopInfo;
  }
}
