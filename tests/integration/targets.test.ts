/**
 * One job definition, unchanged, on five targets: with its data in S3 (the loopback MinIO), local
 * Spark, a real standalone cluster (master + two workers on loopback), EMR steps and EMR
 * Serverless (loopback servers speaking their wire protocols, driven by the real SDK clients, that
 * execute the submitted spark-submit arguments on the Hadoop mini cluster's YARN, steps and job
 * runs in cluster deploy mode); with its data in HDFS, the yarn target in cluster deploy mode. The
 * five runs must assign every customer to the same segment.
 */
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { s3ClientFromEnv } from "../../submitter/src/stage/s3.js";
import { startEmrServer, type EmrServer } from "../fakes/emr-server.js";
import { startEmrServerlessServer, type EmrServerlessServer } from "../fakes/emr-serverless-server.js";
import { startStandaloneCluster, type StandaloneCluster } from "../servers/spark-standalone.js";
import { cliAsync, clusterSparkConf, copyRun, currentNodeManagers, hadoopEnv, onMiniCluster, readOutput, storageFor } from "./helpers.js";

const s3Env = () => inject("s3Env");
const bucket = () => inject("s3Bucket");
const rootUri = () => `s3://${bucket()}/targets`;
const GEN_ID = "s3-generate-c800-s11";
const SEGMENT_ARGS = ["run", "customer-segmentation", "--param", `source=${GEN_ID}`, "--param", "k=4"];

interface RunJson {
  runId: string;
  target: string;
  status: string;
  uploaded: string[];
  outputs: Record<string, { uri: string; rows: number }>;
  metrics: Record<string, any>;
}

describe("the segmentation job on five targets, data in S3 and HDFS", () => {
  let emr: EmrServer;
  let serverless: EmrServerlessServer;
  const runs = new Map<string, RunJson>();
  let generate: RunJson;
  let emrClusterId = "";

  // The EMR servers live in this process: the CLI must not block it (no spawnSync).
  const runOn = async (target: string, runId: string, args: string[], env: Record<string, string> = {}, onLine?: (line: string) => void) => {
    const result = await cliAsync([...SEGMENT_ARGS, "--run-id", runId, "--target", target, ...args, "--json"], {
      root: rootUri(),
      env: { ...s3Env(), ...env },
      ...(onLine ? { onLine } : {}),
    });
    const json = JSON.parse(result.stdout) as RunJson;
    expect(result.code, result.stderr.slice(-4000)).toBe(0);
    expect(json).toMatchObject({ runId, target, status: "succeeded" });
    runs.set(target, json);
    return { result, json };
  };

  beforeAll(async () => {
    const g = await cliAsync(["run", "generate", "--param", "customers=800", "--param", "seed=11", "--run-id", GEN_ID, "--json"], { root: rootUri(), env: s3Env() });
    expect(g.code, g.stderr.slice(-4000)).toBe(0);
    generate = JSON.parse(g.stdout);
    const creds = { s3Env: s3Env(), accessKeyId: s3Env().AWS_ACCESS_KEY_ID!, hadoop: inject("hadoop") };
    emr = await startEmrServer({ ...creds, logLagMs: 1000 });
    serverless = await startEmrServerlessServer(creds);
  });

  afterAll(async () => {
    await emr?.stop();
    await serverless?.stop();
  });

  it("generate wrote its outputs to S3 and staged the runner code there once", async () => {
    expect(generate.outputs.transactions!.uri).toBe(`${rootUri()}/runs/${GEN_ID}/transactions`);
    const code = generate.uploaded.filter((u) => u.includes("/stage/code/"));
    // First run against this root: runner.py and the zip were uploaded (unless an earlier run of this suite staged them).
    for (const uri of code) expect(uri).toMatch(/\/stage\/code\/[0-9a-f]{16}\/(runner\.py|sparkjobs_runner\.zip)$/);
  });

  it("local: spark-submit here, s3:// through S3A", async () => {
    await runOn("local", "seg-local", []);
  });

  it("standalone: a real master and two workers on loopback; tasks ran on both; a worker killed mid-run does not stop the run", async () => {
    // The workers hold the S3 credentials, as cluster machines would; the plan never does.
    const cluster: StandaloneCluster = await startStandaloneCluster({ env: s3Env() });
    const events = mkdtempSync(join(tmpdir(), "sparkjobs-events-"));
    try {
      // The second worker (and its executor) is killed once K-Means starts: its tasks, cached
      // blocks and shuffle files are lost, and Spark recomputes them on the first worker.
      let killedAt: number | undefined;
      const { json } = await runOn("standalone", "seg-standalone", [
        "--master", cluster.masterUrl,
        "--conf", "spark.eventLog.enabled=true",
        "--conf", `spark.eventLog.dir=file://${events}`,
        "--conf", "spark.executor.memory=1g",
      ], clusterSparkConf(), (line) => {
        if (killedAt === undefined && line.includes("[runner] stage segmentation")) {
          // Both workers must have run tasks before one of them goes.
          killedAt = Date.now();
          cluster.workers[1]!.kill();
        }
      });
      expect(killedAt, "the run reached K-Means and a worker was killed").toBeDefined();
      const appId = await appIdOf(json);
      // Spark's own status page of the surviving worker: it ran an executor of this application.
      const status = await cluster.workerStatus(cluster.workers[0]!.webUi);
      expect([...status.executors, ...status.finishedexecutors].filter((e) => e.appid === appId).length).toBeGreaterThan(0);
      const master = await cluster.masterStatus();
      expect(master.completedapps.map((a) => a.id)).toContain(appId);
      // Spark's event log: tasks finished on executors of both workers.
      const log = readdirSync(events).find((f) => f.startsWith(appId));
      expect(log, `event log of ${appId} in ${events}`).toBeDefined();
      const tasksByExecutor = new Map<string, number>();
      const workerOfExecutor = new Map<string, string>();
      const removed: string[] = [];
      let tasksAfterRemoval = 0;
      for (const line of readFileSync(join(events, log!), "utf8").split("\n")) {
        if (!line) continue;
        const e = JSON.parse(line);
        if (e.Event === "SparkListenerExecutorAdded") workerOfExecutor.set(e["Executor ID"], e["Executor Info"]["Log Urls"].stdout);
        if (e.Event === "SparkListenerExecutorRemoved") removed.push(e["Executor ID"]);
        if (e.Event === "SparkListenerTaskEnd") {
          tasksByExecutor.set(e["Task Info"]["Executor ID"], (tasksByExecutor.get(e["Task Info"]["Executor ID"]) ?? 0) + 1);
          if (removed.length && e["Task End Reason"]?.Reason === "Success") tasksAfterRemoval++;
        }
      }
      // The killed worker's executor was lost, and the run went on without it to the end.
      const killedPort = new URL(cluster.workers[1]!.webUi).port;
      const lost = removed.filter((id) => new URL(workerOfExecutor.get(id)!).port === killedPort);
      console.log(`standalone: executors removed ${JSON.stringify(removed)} (on the killed worker: ${JSON.stringify(lost)}), ${tasksAfterRemoval} tasks succeeded after`);
      expect(lost.length).toBeGreaterThan(0);
      expect(tasksAfterRemoval).toBeGreaterThan(0);
      const workerPorts = new Set([...tasksByExecutor.keys()].map((id) => new URL(workerOfExecutor.get(id)!).port));
      console.log(`standalone: tasks by executor ${JSON.stringify(Object.fromEntries(tasksByExecutor))}, on worker UIs ${[...workerPorts].join(", ")}`);
      expect(workerPorts.size).toBe(2);
      for (const n of tasksByExecutor.values()) expect(n).toBeGreaterThan(0);
    } finally {
      await cluster.stop();
    }
  });

  // The emr, emr-serverless and yarn runs are YARN applications on the mini cluster (helpers.ts):
  // the yarn run holds it alone, since it checks where its containers ran.
  it("emr: a step with command-runner.jar on the cluster, through the real EMR client", () => onMiniCluster("shared", async () => {
    const cluster = emr.addCluster({ name: "analytics", logUri: `s3://${bucket()}/emr-logs/` });
    emrClusterId = cluster.id;
    await runOn("emr", "seg-emr", ["--cluster-id", cluster.id], { AWS_ENDPOINT_URL_EMR: emr.endpoint, SPARKJOBS_POLL_MAX: "2" });
    const steps = emr.cluster(cluster.id)!.steps;
    expect(steps).toHaveLength(1);
    expect(steps[0]!.name).toBe("sparkjobs customer-segmentation seg-emr");
    expect(steps[0]!.args.slice(0, 3)).toEqual(["spark-submit", "--deploy-mode", "cluster"]);
    expect(steps[0]!.state).toBe("COMPLETED");
  }));

  it("emr-serverless: a job run on the application, through the real EMR Serverless client", () => onMiniCluster("shared", async () => {
    const app = serverless.addApplication({ name: "analytics" });
    await runOn("emr-serverless", "seg-serverless", [
      "--application-id", app.id,
      "--execution-role-arn", "arn:aws:iam::123456789012:role/sparkjobs-job",
      "--log-uri", `s3://${bucket()}/serverless-logs/`,
    ], { AWS_ENDPOINT_URL_EMR_SERVERLESS: serverless.endpoint, SPARKJOBS_POLL_MAX: "2" });
    expect(serverless.application(app.id)!.runs.map((r) => [r.clientToken, r.state])).toEqual([["seg-serverless", "SUCCESS"]]);
  }));

  it("yarn: the driver in a container of the mini cluster (cluster deploy mode), data and outputs in HDFS", () => onMiniCluster("exclusive", async () => {
    const hadoop = inject("hadoop");
    const hdfsRoot = `${hadoop.defaultFS}/targets`;
    // The same generated data, copied from S3 to HDFS as a team moves a run between stores (a local
    // Spark writing hdfs:// itself is in yarn.test.ts).
    await copyRun(GEN_ID, hdfsRoot, undefined, storageFor(s3Env()), rootUri());
    const { json } = await runOn("yarn", "seg-yarn", ["--root", hdfsRoot], hadoopEnv());
    expect(json.outputs.customer_segments!.uri).toBe(`${hdfsRoot}/runs/seg-yarn/customer_segments`);
    // The ResourceManager's own record of the application: it ran and succeeded on the cluster.
    const rm = hadoop.resourceManager;
    const apps = (await (await fetch(`${rm}/ws/v1/cluster/apps?applicationTags=sparkjobs-run-seg-yarn`)).json()) as { apps: { app: any[] } };
    expect(apps.apps.app.map((a) => [a.name, a.state, a.finalStatus])).toEqual([["sparkjobs-customer-segmentation-seg-yarn", "FINISHED", "SUCCEEDED"]]);
    const app = apps.apps.app[0]!;
    // Containers ran on both NodeManagers: each node that ran one aggregated its logs for the application.
    const storage = storageFor();
    let nodes: string[] = [];
    for (let i = 0; i < 60 && nodes.length < 2; i++) {
      nodes = (await storage.list(`${hadoop.defaultFS}/tmp/logs/${app.user}/bucket-logs-tfile/${app.id.split("_")[2]!.slice(-4)}/${app.id}`)).filter((n) => !n.endsWith(".tmp"));
      if (nodes.length < 2) await new Promise((r) => setTimeout(r, 1000));
    }
    console.log(`yarn: ${app.id} ${app.state}/${app.finalStatus} in ${app.elapsedTime} ms, containers' logs from ${nodes.join(", ")}`);
    expect(nodes.sort()).toEqual(currentNodeManagers().map((n) => n.nodeId.replace(":", "_")).sort());
  }));

  it("runs after the first upload no code: only their plan is staged", async () => {
    for (const [target, run] of runs) {
      if (target === "yarn") continue; // another root (HDFS): its first run there staged the code
      expect(run.uploaded, target).toHaveLength(1);
      expect(run.uploaded[0], target).toMatch(/\/stage\/plans\/[0-9a-f]{64}\.json$/);
    }
    // And the code objects in S3 were written once: their modification time is before the first segmentation run.
    const s3 = s3ClientFromEnv({ ...process.env, ...s3Env() });
    const plan = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: bucket(), Key: runs.get("emr")!.uploaded[0]!.replace(`s3://${bucket()}/`, "") }))).Body!.transformToString());
    expect(plan.runId).toBe("seg-emr");
    const codeKey = emr.cluster(emrClusterId)!.steps[0]!.args.find((a) => a.endsWith("runner.py"))!.replace(`s3://${bucket()}/`, "");
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket(), Key: codeKey }));
    const local = runs.get("local")!;
    expect(head.LastModified!.getTime()).toBeLessThan(Date.parse((await manifestOf(local)).startedAt));
  });

  it("the five runs give every customer the same segment", async () => {
    const storage = storageFor(s3Env());
    const byTarget = new Map<string, Map<string, string>>();
    for (const [target, run] of runs) {
      const manifest = await manifestOf(run);
      const rows = await readOutput(manifest.outputs.customer_segments, storage);
      byTarget.set(target, new Map(rows.map((r) => [r.customer_id as string, `${r.cluster}:${r.segment}`])));
    }
    expect([...byTarget.keys()].sort()).toEqual(["emr", "emr-serverless", "local", "standalone", "yarn"]);
    const local = byTarget.get("local")!;
    expect(local.size).toBe(800);
    for (const [target, assignments] of byTarget) {
      const differing = [...local].filter(([id, seg]) => assignments.get(id) !== seg).length;
      console.log(`${target}: ${assignments.size} customers, ${differing} assigned differently from local`);
      expect(assignments.size, target).toBe(local.size);
      expect(differing, target).toBe(0);
    }
  });
});

async function manifestOf(run: RunJson): Promise<any> {
  const storage = storageFor(inject("s3Env")); // s3:// and hdfs://
  const base = run.outputs[Object.keys(run.outputs)[0]!]!.uri.replace(/\/[^/]+$/, "");
  return JSON.parse((await storage.readText(`${base}/_manifest.json`))!);
}

async function appIdOf(run: RunJson): Promise<string> {
  return (await manifestOf(run)).engine.applicationId;
}
