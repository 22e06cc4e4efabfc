/**
 * The Hadoop mini cluster of scripts/hadoop.sh (HDFS: a NameNode and two DataNodes; YARN: a
 * ResourceManager and two NodeManagers, each in its own JVM) on loopback, for the tests.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface HadoopInfo {
  dir: string;
  /** HADOOP_CONF_DIR for clients. */
  conf: string;
  defaultFS: string;
  webhdfs: string;
  resourceManager: string;
  nodeManagers: { pid: number; nodeId: string }[];
}

export interface HadoopCluster {
  info: HadoopInfo;
  stop(): void;
}

const repo = join(import.meta.dirname, "..", "..");

/** Starts the cluster; `env` is added to its environment (the S3 server's credentials, as a cluster's instance profile). */
export function startHadoop(dir: string, env: Record<string, string> = {}): HadoopCluster {
  try {
    execFileSync("bash", [join(repo, "scripts", "hadoop.sh"), "start", dir], { stdio: ["ignore", "ignore", "pipe"], timeout: 300_000, env: { ...process.env, ...env } });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`the Hadoop mini cluster did not start (run bash scripts/bootstrap.sh --with-hadoop):\n${stderr.slice(-3000)}`);
  }
  const info = { dir, ...JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8")) } as HadoopInfo;
  return {
    info,
    stop: () => {
      execFileSync("bash", [join(repo, "scripts", "hadoop.sh"), "stop", dir], { stdio: "ignore", timeout: 60_000 });
    },
  };
}
