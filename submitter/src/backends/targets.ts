/**
 * Choosing and building a backend from the target options (flags or SPARKJOBS_* variables).
 * This is the one place that knows the targets by name; everything after it sees a Backend.
 * SDK clients are built once here, with the endpoint override of aws/config.ts.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { transientCluster, type TransientCluster } from "../../../schemas/src/index.js";
import { awsClientConfig } from "../aws/config.js";
import { parseYaml, zodProblems } from "../config/yaml-file.js";
import { cacheDir } from "../env/where.js";
import { SparkjobsError } from "../errors.js";
import { isRemote, type Storage } from "../stage/storage.js";
import type { Backend } from "./types.js";

export const TARGETS = ["local", "standalone", "yarn", "emr", "emr-serverless"] as const;
export type TargetName = (typeof TARGETS)[number];

export interface TargetOptions {
  target: string;
  /** Storage root, already resolved (an absolute path or an s3:// URI). */
  root: string;
  master?: string;
  /** Extra Spark settings (--conf), merged under the job's own. */
  conf: Record<string, string>;
  clusterId?: string;
  transientCluster?: string;
  applicationId?: string;
  executionRoleArn?: string;
  logUri?: string;
  logWaitSeconds?: number;
  region?: string;
  /** yarn: cluster (the driver in the application master's container) or client (the driver here). */
  deployMode?: string;
  queue?: string;
  principal?: string;
  keytab?: string;
  onLog?: (line: string) => void;
  log?: (message: string) => void;
}

function need(value: string | undefined, flag: string, env: string, target: string, hint: string): string {
  if (value) return value;
  throw new SparkjobsError("usage", `the ${target} target needs ${flag} (or ${env})`, { fix: hint });
}

export function loadTransientCluster(file: string): TransientCluster {
  if (!existsSync(file)) throw new SparkjobsError("usage", `--transient-cluster ${file} does not exist`, { fix: "pass a YAML file like infra/emr/transient-cluster.example.yaml" });
  const parsed = parseYaml(file, readFileSync(file, "utf8"));
  if (parsed.problems.length) throw new SparkjobsError("usage", `${file} is not valid YAML`, { problems: parsed.problems });
  const result = transientCluster.safeParse(parsed.value);
  if (!result.success) {
    throw new SparkjobsError("usage", `${file} is not a valid transient cluster definition`, {
      problems: zodProblems(file, parsed, result.error),
      fix: "the keys are in schemas/json/transient-cluster.schema.json",
    });
  }
  return result.data;
}

/** The remote targets read and write through S3; a local root would not be visible to the cluster. */
function needsS3Root(target: string, root: string) {
  if (!isRemote(root)) {
    throw new SparkjobsError("usage", `the ${target} target needs an s3:// --root, not ${root}`, {
      fix: "pass --root s3://<bucket>/<prefix> (or set SPARKJOBS_ROOT): the cluster reads the plan and writes the outputs there",
    });
  }
}

export async function backendFor(o: TargetOptions, storage: Storage): Promise<Backend> {
  const logWaitMs = o.logWaitSeconds === undefined ? undefined : o.logWaitSeconds * 1000;
  switch (o.target) {
    case "local":
    case "standalone": {
      const { SparkSubmitBackend } = await import("./spark-submit.js");
      const master = o.target === "local" ? (o.master ?? "local[*]") : need(o.master, "--master spark://host:port", "SPARKJOBS_MASTER", "standalone", "pass the master URL of the cluster");
      if (o.target === "standalone" && !/^spark:\/\/[^/]+:\d+$/.test(master)) {
        throw new SparkjobsError("usage", `--master ${master} is not a standalone master URL`, { fix: "write it as spark://host:7077" });
      }
      if (o.target === "local" && !/^local(\[(\*|\d+)(,\d+)?\])?$/.test(master)) {
        throw new SparkjobsError("usage", `--master ${master} is not a local master`, { fix: "use local[*] or local[N]; for spark://host:port use --target standalone" });
      }
      return new SparkSubmitBackend({
        target: o.target,
        master,
        logDir: isRemote(o.root) ? join(cacheDir(), "logs") : join(o.root, "logs"),
        warehouseDir: isRemote(o.root) ? join(cacheDir(), "spark-warehouse") : join(o.root, "spark-warehouse"),
        conf: o.conf,
        executorS3aJars: o.target === "standalone",
        ...(o.onLog ? { onLog: o.onLog } : {}),
      });
    }
    case "yarn": {
      const { hadoopConfDir, readHadoopConf, resourceManagerUrl } = await import("../stage/hadoop-conf.js");
      const confDir = hadoopConfDir();
      if (!confDir) {
        throw new SparkjobsError("usage", "the yarn target needs HADOOP_CONF_DIR (or YARN_CONF_DIR): the folder with the cluster's core-site.xml and yarn-site.xml", {
          fix: "export HADOOP_CONF_DIR=/etc/hadoop/conf (on a cluster's edge node), or copy those files from the cluster; `npm run hadoop` starts a cluster on this machine and prints its folder",
        });
      }
      const hadoopConf = readHadoopConf();
      if (!isRemote(o.root)) {
        throw new SparkjobsError("usage", `the yarn target needs an hdfs:// or s3:// --root, not ${o.root}`, {
          fix: "pass --root hdfs:///sparkjobs (or SPARKJOBS_ROOT): the cluster's nodes read the plan and write the outputs there",
        });
      }
      const resourceManager = resourceManagerUrl(hadoopConf);
      if (!resourceManager) {
        throw new SparkjobsError("usage", `${confDir}/yarn-site.xml gives no ResourceManager address`, { fix: "set yarn.resourcemanager.webapp.address (or yarn.resourcemanager.hostname) there, or SPARKJOBS_YARN_RM_URL=http://host:8088" });
      }
      const deployMode = o.deployMode ?? "cluster";
      if (deployMode !== "cluster" && deployMode !== "client") {
        throw new SparkjobsError("usage", `--deploy-mode ${deployMode} is not a deploy mode`, { fix: "use cluster (the driver runs on the cluster, the default) or client (the driver runs here)" });
      }
      if ((o.principal === undefined) !== (o.keytab === undefined)) {
        throw new SparkjobsError("usage", "--principal and --keytab go together", { fix: "give both (Kerberos), or neither" });
      }
      if (o.keytab && !existsSync(o.keytab)) throw new SparkjobsError("usage", `--keytab ${o.keytab} does not exist`, { fix: "give the path of the principal's keytab file" });
      const { YarnBackend } = await import("./yarn.js");
      return new YarnBackend({
        resourceManager,
        hadoopConfDir: confDir,
        hadoopConf,
        storage,
        root: o.root,
        deployMode,
        ...(o.queue ? { queue: o.queue } : {}),
        ...(o.principal ? { principal: o.principal } : {}),
        ...(o.keytab ? { keytab: o.keytab } : {}),
        ...(logWaitMs !== undefined ? { logWaitMs } : {}),
        ...(o.log ? { log: o.log } : {}),
        ...(o.onLog ? { onLog: o.onLog } : {}),
        conf: o.conf,
      });
    }
    case "emr": {
      needsS3Root("emr", o.root);
      const { EMRClient } = await import("@aws-sdk/client-emr");
      const { EmrBackend } = await import("./emr.js");
      const config = awsClientConfig("EMR", process.env, o.region);
      const transient = o.transientCluster ? loadTransientCluster(o.transientCluster) : undefined;
      if (!transient) need(o.clusterId, "--cluster-id", "SPARKJOBS_EMR_CLUSTER_ID", "emr", "pass the id of a running cluster (j-...), or --transient-cluster <file>");
      return new EmrBackend({
          client: new EMRClient(config),
          storage,
          ...(o.clusterId && !transient ? { clusterId: o.clusterId } : {}),
          ...(transient ? { transient } : {}),
          ...(o.executionRoleArn ? { executionRoleArn: o.executionRoleArn } : {}),
          ...(logWaitMs !== undefined ? { logWaitMs } : {}),
          ...(config.endpoint ? { endpoint: config.endpoint } : {}),
          ...(o.log ? { log: o.log } : {}),
          conf: o.conf,
        });
    }
    case "emr-serverless": {
      needsS3Root("emr-serverless", o.root);
      const { EMRServerlessClient } = await import("@aws-sdk/client-emr-serverless");
      const { EmrServerlessBackend } = await import("./emr-serverless.js");
      const config = awsClientConfig("EMR_SERVERLESS", process.env, o.region);
      return new EmrServerlessBackend({
          client: new EMRServerlessClient(config),
          storage,
          applicationId: need(o.applicationId, "--application-id", "SPARKJOBS_EMR_SERVERLESS_APPLICATION_ID", "emr-serverless", "pass the id of the EMR Serverless application"),
          executionRoleArn: need(o.executionRoleArn, "--execution-role-arn", "SPARKJOBS_EXECUTION_ROLE_ARN", "emr-serverless", "pass the ARN of the job execution role"),
          ...(o.logUri ? { logUri: o.logUri } : {}),
          ...(logWaitMs !== undefined ? { logWaitMs } : {}),
          ...(config.endpoint ? { endpoint: config.endpoint } : {}),
          ...(o.log ? { log: o.log } : {}),
          conf: o.conf,
        });
    }
    default:
      throw new SparkjobsError("usage", `unknown target ${o.target}`, { fix: `use one of ${TARGETS.join(", ")}` });
  }
}
