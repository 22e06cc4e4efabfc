/**
 * The EMR and EMR Serverless lifecycles through the real SDK clients against loopback servers
 * that speak their wire protocols and run the submitted spark-submit arguments as given on the
 * Hadoop mini cluster's YARN (EMR steps in cluster deploy mode), data and logs in the loopback S3
 * server: a failing job with its log tail, a transient cluster, a pipeline as one step, and the
 * errors an operator meets. A step cancelled by SIGTERM, a submit retried after its client died
 * (under throttling, with a runtime role) and a staged step added by an orchestrator are shown
 * through Airflow and Step Functions (airflow.test.ts, step-functions.test.ts).
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { s3ClientFromEnv } from "../../submitter/src/stage/s3.js";
import { startEmrServer, type EmrServer } from "../fakes/emr-server.js";
import { startEmrServerlessServer, type EmrServerlessServer } from "../fakes/emr-serverless-server.js";
import { freePort } from "../servers/minio.js";
import { cliAsync as cli, ensureGenerated, GEN, holdMiniCluster, manifestOf, root, startCli, storageFor, writeProductJobs } from "./helpers.js";

const ROLE = "arn:aws:iam::123456789012:role/sparkjobs-job";
const bucket = () => inject("s3Bucket");
const s3Root = () => `s3://${bucket()}/lifecycle`;

/**
 * A small catalogue job on products in S3, a failing one, and one that runs until it is cancelled;
 * each on one executor (a few hundred rows: a second executor's container would only add its start).
 */
const writeJobs = (productsUri: string) =>
  writeProductJobs(productsUri, "S3", {
    catalogue: "SELECT product_id, category, name, list_price FROM products",
    failing: "SELECT product_id, category, name, list_price FROM products WHERE assert_true(list_price < 0, 'planted failure: prices are positive') IS NULL",
    endless: "SELECT p.product_id, p.category, p.name, p.list_price FROM products p CROSS JOIN range(0, 2000000000) r WHERE hash(r.id, p.product_id) = 7",
  }, { "spark.executor.instances": "1" });

describe("EMR steps and EMR Serverless job runs", () => {
  let emr: EmrServer;
  let serverless: EmrServerlessServer;
  let jobsDir: string;
  let clusterId: string;
  let productRows: number;
  // The loopback servers have no request quota: a run's end is looked for every 2 s at most (15 s by default).
  const env = (over: Record<string, string> = {}) => ({ ...inject("s3Env"), AWS_ENDPOINT_URL_EMR: emr.endpoint, AWS_ENDPOINT_URL_EMR_SERVERLESS: serverless.endpoint, SPARKJOBS_POLL_MAX: "2", ...over });
  const onEmr = (job: string, runId: string, extra: string[] = [], over: Record<string, string> = {}) =>
    cli(["run", job, "--jobs-dir", jobsDir, "--run-id", runId, "--target", "emr", "--cluster-id", clusterId, "--log-wait", "60", "--json", ...extra], { root: s3Root(), env: env(over) });

  // Each test's YARN applications share the mini cluster with other files' (helpers.ts).
  let releaseCluster: (() => void) | undefined;
  beforeEach(async () => {
    releaseCluster = await holdMiniCluster("shared");
  });
  afterEach(() => releaseCluster?.());
  beforeAll(async () => {
    // The products of the shared generated data set, copied to S3 as the jobs' input.
    ensureGenerated();
    const generated = await manifestOf(root(), GEN.runId);
    const s3 = s3ClientFromEnv({ ...process.env, ...inject("s3Env") });
    const products = generated.outputs.products;
    productRows = products.rows;
    for (const f of products.files) {
      const { readFileSync } = await import("node:fs");
      await s3.send(new PutObjectCommand({ Bucket: bucket(), Key: `lifecycle-input/products/${f.path}`, Body: readFileSync(join(products.uri, f.path)) }));
    }
    jobsDir = writeJobs(`s3://${bucket()}/lifecycle-input/products`);
    const creds = { s3Env: inject("s3Env"), accessKeyId: inject("s3Env").AWS_ACCESS_KEY_ID!, hadoop: inject("hadoop") };
    emr = await startEmrServer({ ...creds, logLagMs: 3000 });
    serverless = await startEmrServerlessServer(creds);
    clusterId = emr.addCluster({ name: "analytics", logUri: `s3://${bucket()}/emr-logs/` }).id;
  });

  afterAll(async () => {
    await emr?.stop();
    await serverless?.stop();
  });

  it("a failing job: exit 5 with the runner's message and the tail of the step's stderr", async () => {
    const r = await onEmr("failing", "emr-fail");
    expect(r.code).toBe(5);
    const json = JSON.parse(r.stdout);
    expect(json.error.message).toMatch(/^run emr-fail failed: .*planted failure: prices are positive/);
    const tail = json.error.problems.map((p: { message: string }) => p.message).join("\n");
    expect(tail).toMatch(/stderr of step s-[A-Z0-9]+ \(s3:\/\/sparkjobs-it\/emr-logs\/j-[A-Z0-9]+\/steps\/s-[A-Z0-9]+\/stderr\.gz\)/);
    // The spark-submit client's own last words (cluster deploy mode): YARN's verdict on the application.
    expect(tail).toMatch(/Application application_\d+_\d+ finished with failed status/);
    expect(r.stderr).toContain("planted failure");
    // Nothing of the run reads as complete.
    const v = await cli(["validate", "emr-fail"], { root: s3Root(), env: env() });
    expect(v.code).toBe(8);
  });

  it("a transient cluster is started for the run and ends with it", async () => {
    const spec = join(jobsDir, "transient.yaml");
    writeFileSync(spec, `logUri: s3://${bucket()}/emr-logs/\nreleaseLabel: emr-7.9.0\ncoreInstanceCount: 1\n`);
    const r = await cli(["run", "catalogue", "--jobs-dir", jobsDir, "--run-id", "emr-transient", "--target", "emr", "--transient-cluster", spec, "--json"], { root: s3Root(), env: env() });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr).toMatch(/started transient cluster j-[A-Z0-9]+ for run emr-transient/);
    const id = /transient cluster (j-[A-Z0-9]+)/.exec(r.stderr)![1]!;
    expect(emr.cluster(id)!.steps.map((s) => s.state)).toEqual(["COMPLETED"]);
    // It ends with the run: asked to end after its last step, and it did.
    expect(emr.cluster(id)!.autoTerminate).toBe(true);
    await until(() => emr.cluster(id)!.state === "TERMINATED", 60_000);
    expect(emr.cluster(id)!.stateChangeReason).toMatchObject({ Code: "ALL_STEPS_COMPLETED" });
  });

  it("a pipeline on a running cluster is one step: its runs share one YARN application, each with its own manifest", async () => {
    const products = `s3://${bucket()}/lifecycle-input/products`;
    const dir = writeProductJobs(products, "S3", {
      cheap: "SELECT product_id, category, name, list_price FROM products WHERE list_price <= 10",
      dear: "SELECT product_id, category, name, list_price FROM products WHERE list_price > 10",
    }, { "spark.executor.instances": "1" });
    mkdirSync(join(dir, "pipelines"));
    writeFileSync(join(dir, "pipelines", "prices.yaml"), "name: prices\nversion: 1\ndescription: two steps, one EMR step\nsteps:\n  - { name: cheap, job: cheap }\n  - { name: dear, job: dear }\n");
    const before = emr.cluster(clusterId)!.steps.length;
    const r = await cli(["pipeline", "prices", "--jobs-dir", dir, "--run-id", "emr-pipe", "--target", "emr", "--cluster-id", clusterId, "--json"], { root: s3Root(), env: env() });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const steps = emr.cluster(clusterId)!.steps.slice(before);
    expect(steps.map((s) => [s.name.replace(/-[0-9a-f]{8}$/, "-*"), s.state])).toEqual([["sparkjobs session prices-*", "COMPLETED"]]);
    const storage = storageFor(inject("s3Env"));
    const manifests = await Promise.all(["cheap", "dear"].map(async (s) => JSON.parse((await storage.readText(`${s3Root()}/runs/emr-pipe.${s}/_manifest.json`))!)));
    expect(manifests.map((m) => m.status)).toEqual(["succeeded", "succeeded"]);
    expect(manifests[0].engine.applicationId).toMatch(/^application_\d+_\d+$/);
    expect(manifests[1].engine.applicationId).toBe(manifests[0].engine.applicationId);
    expect(manifests[0].outputs.catalogue.rows + manifests[1].outputs.catalogue.rows).toBe(productRows);
    // The session's requests and results are removed once it ends.
    expect(await storage.list(`${s3Root()}/stage/sessions/`)).toEqual([]);
  });

  it("a TERMINATED cluster: exit 9 naming the cluster and its state; nothing written under the run", async () => {
    const dead = emr.addCluster({ name: "old", state: "TERMINATED", logUri: `s3://${bucket()}/emr-logs/`, stateChangeReason: { Code: "ALL_STEPS_COMPLETED", Message: "Steps completed" } });
    const r = await cli(["run", "catalogue", "--jobs-dir", jobsDir, "--run-id", "emr-dead", "--target", "emr", "--cluster-id", dead.id], { root: s3Root(), env: env() });
    expect(r.code).toBe(9);
    expect(r.stderr).toContain(`error: EMR cluster ${dead.id} is TERMINATED (ALL_STEPS_COMPLETED: Steps completed): it takes no more steps`);
    expect(r.stderr).toContain("fix: start a cluster (infra/terraform) and pass its id with --cluster-id");
    expect((await cli(["validate", "emr-dead"], { root: s3Root(), env: env() })).stderr).toContain("nothing at s3://");
  });

  it("an unreachable EMR endpoint: exit 12, worth retrying later", async () => {
    const r = await onEmr("catalogue", "emr-unreachable", [], { AWS_ENDPOINT_URL_EMR: `http://127.0.0.1:${await freePort()}`, SPARKJOBS_AWS_MAX_ATTEMPTS: "2" });
    expect(r.code).toBe(12);
    expect(JSON.parse(r.stdout).error.message).toMatch(/^EMR at http:\/\/127\.0\.0\.1:\d+ could not be reached while describing cluster j-/);
  });

  it("wrong credentials: exit 13, not retried", async () => {
    const r = await onEmr("catalogue", "emr-creds", [], { AWS_SECRET_ACCESS_KEY: "not-the-secret" });
    expect(r.code).toBe(13);
    expect(JSON.parse(r.stdout).error.message).toMatch(/refused the credentials/);
  });

  it("credentials S3 takes and EMR refuses (another account's cluster): exit 13 from EMR itself, not retried", async () => {
    const other = await startEmrServer({ s3Env: inject("s3Env"), accessKeyId: "AKIAOTHERACCOUNT0000", hadoop: inject("hadoop") });
    try {
      const cluster = other.addCluster({ logUri: `s3://${bucket()}/emr-logs/` }).id;
      const r = await cli(["run", "catalogue", "--jobs-dir", jobsDir, "--run-id", "emr-creds-emr", "--target", "emr", "--cluster-id", cluster, "--json"],
        { root: s3Root(), env: env({ AWS_ENDPOINT_URL_EMR: other.endpoint }) });
      expect(r.code, r.stderr.slice(-2000)).toBe(13);
      expect(JSON.parse(r.stdout).error.message).toMatch(/^EMR at http:\/\/127\.0\.0\.1:\d+ refused the credentials while describing cluster j-/);
      // EMR was asked once (a refusal is not retried); S3 had taken the same credentials to read the job's input.
      expect(other.requests.filter((q) => q.status !== 200)).toHaveLength(1);
    } finally {
      await other.stop();
    }
  });

  it("a bucket that does not exist: exit 9 naming the bucket", async () => {
    const r = await cli(["run", "catalogue", "--jobs-dir", jobsDir, "--run-id", "emr-nobucket", "--target", "emr", "--cluster-id", clusterId], { root: "s3://sparkjobs-no-such-bucket/runs", env: env() });
    expect(r.code).toBe(9);
    expect(r.stderr).toContain("error: the S3 bucket sparkjobs-no-such-bucket does not exist");
  });

  describe("EMR Serverless", () => {
    let appId: string;
    const onServerless = (job: string, runId: string, extra: string[] = []) =>
      cli(["run", job, "--jobs-dir", jobsDir, "--run-id", runId, "--target", "emr-serverless", "--application-id", appId, "--execution-role-arn", ROLE, "--log-uri", `s3://${bucket()}/serverless-logs/`, "--log-wait", "30", "--json", ...extra], { root: s3Root(), env: env() });

    beforeAll(() => {
      appId = serverless.addApplication({ name: "analytics", state: "STOPPED" }).id;
    });

    it("a failing job run: exit 5 with the runner's message from the driver log", async () => {
      const r = await onServerless("failing", "sls-fail");
      expect(r.code).toBe(5);
      const json = JSON.parse(r.stdout);
      expect(json.error.message).toMatch(/planted failure: prices are positive/);
      expect(json.error.problems.map((p: { message: string }) => p.message).join("\n")).toMatch(/driver log \(s3:\/\/sparkjobs-it\/serverless-logs\/applications\/[a-z0-9]+\/jobs\/[a-z0-9]+\/SPARK_DRIVER\/stdout\.gz, stderr\.gz\)/);
    });

    it("the same plan again after a failure: the first token's failed job run is not followed, a new one starts as _2.", async () => {
      const r = await onServerless("failing", "sls-fail");
      expect(r.code).toBe(5);
      const runs = serverless.application(appId)!.runs.filter((x) => x.clientToken === "sls-fail" || x.clientToken.endsWith(".sls-fail"));
      expect(runs.map((x) => [x.clientToken, x.state])).toEqual([["sls-fail", "FAILED"], ["_2.sls-fail", "FAILED"]]);
    });

    it("the same run id after a failure starts a new job run; a retried submit after that follows it", async () => {
      writeFileSync(join(jobsDir, "spark-sql", "failing.sql"), "SELECT product_id, category, name, list_price FROM products\n");
      try {
        const r = await onServerless("failing", "sls-fail");
        expect(r.code, r.stderr.slice(-3000)).toBe(0);
      } finally {
        writeFileSync(join(jobsDir, "spark-sql", "failing.sql"), "SELECT 1\n");
      }
      const runs = serverless.application(appId)!.runs.filter((x) => x.clientToken === "sls-fail" || x.clientToken.endsWith(".sls-fail"));
      // Another plan now (the SQL was fixed): both earlier tokens hold other requests, so the third starts.
      expect(runs.map((x) => [x.clientToken, x.state])).toEqual([["sls-fail", "FAILED"], ["_2.sls-fail", "FAILED"], ["_3.sls-fail", "SUCCESS"]]);
    });

    it("SIGTERM cancels the job run: CancelJobRun, CANCELLED, its YARN application KILLED, exit 130", async () => {
      const child = startCli(["run", "endless", "--jobs-dir", jobsDir, "--run-id", "sls-cancel", "--target", "emr-serverless", "--application-id", appId, "--execution-role-arn", ROLE, "--log-wait", "5"], { root: s3Root(), env: env() });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      const run = () => serverless.application(appId)!.runs.find((x) => x.clientToken === "sls-cancel");
      // The driver runs in a YARN container (cluster deploy mode), its application RUNNING.
      await until(() => run()?.state === "RUNNING" && run()?.yarnApplication !== undefined, 180_000);
      expect(run()!.args.slice(0, 2)).toEqual(["--deploy-mode", "cluster"]);
      const yarnApp = async () => ((await (await fetch(`${inject("hadoop").resourceManager}/ws/v1/cluster/apps/${run()!.yarnApplication}`)).json()) as { app: { state: string; finalStatus: string } }).app;
      for (let i = 0; i < 240 && (await yarnApp()).state !== "RUNNING"; i++) await new Promise((r) => setTimeout(r, 500));
      expect((await yarnApp()).state).toBe("RUNNING");
      child.kill("SIGTERM");
      expect(await exited).toBe(130);
      await until(() => run()?.state === "CANCELLED", 60_000);
      expect(serverless.requests.some((q) => q.operation === "CancelJobRun" && q.status === 200)).toBe(true);
      // The service stopped the driver's application, not only the client that waited on it.
      let yarn: { state: string; finalStatus: string } | undefined;
      for (let i = 0; i < 60 && yarn?.state !== "KILLED"; i++) {
        yarn = await yarnApp();
        if (yarn.state !== "KILLED") await new Promise((r) => setTimeout(r, 500));
      }
      expect([yarn!.state, yarn!.finalStatus]).toEqual(["KILLED", "KILLED"]);
    });

    it("a TERMINATED application: exit 9 naming it", async () => {
      const dead = serverless.addApplication({ name: "old", state: "TERMINATED" });
      const r = await cli(["run", "catalogue", "--jobs-dir", jobsDir, "--run-id", "sls-dead", "--target", "emr-serverless", "--application-id", dead.id, "--execution-role-arn", ROLE], { root: s3Root(), env: env() });
      expect(r.code).toBe(9);
      expect(r.stderr).toContain(`error: EMR Serverless application ${dead.id} is TERMINATED`);
    });
  });
});

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
