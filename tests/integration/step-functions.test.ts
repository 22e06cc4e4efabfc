/**
 * The Step Functions state machines of infra/terraform/state-machines/, rendered by Terraform and
 * executed by the local interpreter (tests/fakes/states/) through the real @aws-sdk/client-emr and
 * @aws-sdk/client-emr-serverless against the loopback EMR and EMR Serverless servers, whose steps
 * and job runs are real Spark applications on the Hadoop mini cluster's YARN. The input of each
 * execution is what `sparkjobs stage` prints, plus the cluster or application id.
 *
 * What is shown: a step added once although the answer to AddJobFlowSteps was lost after EMR took
 * it (the machine lists the steps again and follows the one that is there), a second execution of
 * the same input that recomputes nothing, a failing run reported with the step's failure details,
 * input refused before any EMR call, and a job run started once although StartJobRun's first answer
 * was lost (the Retry sends the same ClientToken). Four YARN applications in all.
 */
import { EMRClient } from "@aws-sdk/client-emr";
import { EMRServerlessClient } from "@aws-sdk/client-emr-serverless";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { s3ClientFromEnv } from "../../submitter/src/stage/s3.js";
import { startEmrServer, type EmrServer } from "../fakes/emr-server.js";
import { startEmrServerlessServer, type EmrServerlessServer } from "../fakes/emr-serverless-server.js";
import { execute } from "../fakes/states/interpreter.js";
import { renderStateMachines, type RenderedMachines } from "../fakes/states/render.js";
import { emrServerlessStartJobRunSync } from "../fakes/states/tasks-emr-serverless.js";
import { emrAddStepSync, emrSdkTasks } from "../fakes/states/tasks-emr.js";
import type { ExecutionResult, TaskHandler } from "../fakes/states/types.js";
import { cliAsync as cli, ensureGenerated, GEN, holdMiniCluster, manifestOf, root, storageFor, writeProductJobs } from "./helpers.js";

const ROLE = "arn:aws:iam::123456789012:role/sparkjobs-job";
const bucket = () => inject("s3Bucket");
const s3Root = () => `s3://${bucket()}/sfn`;
/**
 * Waits and retry intervals at 1/20: the .sync integrations look every 60 s x 0.05 = 3 s, the
 * machine's DescribeStep loop every 40 s x 0.05 = 2 s, its BackOff 15 s x 0.05 = 0.75 s.
 */
const TIME_SCALE = 0.05;

describe("Step Functions state machines on the loopback EMR and EMR Serverless", () => {
  let emr: EmrServer;
  let serverless: EmrServerlessServer;
  let machines: RenderedMachines;
  let handlers: TaskHandler[];
  let jobsDir: string;
  let clusterId: string;
  let productRows: number;
  const env = () => ({ ...inject("s3Env"), AWS_ENDPOINT_URL_EMR: emr.endpoint, AWS_ENDPOINT_URL_EMR_SERVERLESS: serverless.endpoint, SPARKJOBS_POLL_MAX: "2" });
  const stepsNamed = (name: string) => emr.cluster(clusterId)!.steps.filter((s) => s.name === name);
  const requestsOf = (operation: string, from = 0) => emr.requests.slice(from).filter((q) => q.operation === operation);

  /**
   * `sparkjobs stage <job> --target emr` as JSON, and the machine's input: that plus clusterId. The
   * CLI of these tests is given a history series of its own (helpers.ts), so each step's arguments
   * end with `--plan <planUri> --series <name>`, which CheckInput accepts.
   */
  async function stageForEmr(job: string, runId: string): Promise<Record<string, any>> {
    const r = await cli(["stage", job, "--jobs-dir", jobsDir, "--run-id", runId, "--target", "emr", "--cluster-id", clusterId, "--json"], { root: s3Root(), env: env() });
    expect(r.code, r.stderr).toBe(0);
    const staged = JSON.parse(r.stdout);
    expect(staged.emrStep.HadoopJarStep.Args.slice(-4, -1)).toEqual(["--plan", staged.planUri, "--series"]);
    return { ...staged, clusterId };
  }

  function report(what: string, r: ExecutionResult, counts: string): void {
    console.log(`${what}: ${r.status}${r.error ? ` ${r.error}: ${r.cause}` : ""}\n  states: ${r.path.join(" -> ")}\n  ${counts}`);
  }

  // Each test's YARN applications share the mini cluster with other files' (helpers.ts).
  let releaseCluster: (() => void) | undefined;
  beforeEach(async () => {
    releaseCluster = await holdMiniCluster("shared");
  });
  afterEach(() => releaseCluster?.());
  beforeAll(async () => {
    // Rendered first: without terraform nothing else is worth starting.
    machines = await renderStateMachines(
      { execution_role_arn: ROLE, timeout_seconds: 900, max_add_attempts: 4, step_poll_seconds: 40 },
      { execution_role_arn: ROLE, default_log_uri: `s3://${bucket()}/sfn-serverless-default-logs/`, timeout_seconds: 900 },
    );
    ensureGenerated();
    const generated = await manifestOf(root(), GEN.runId);
    const products = generated.outputs.products;
    productRows = products.rows;
    const s3 = s3ClientFromEnv({ ...process.env, ...inject("s3Env") });
    for (const f of products.files) {
      await s3.send(new PutObjectCommand({ Bucket: bucket(), Key: `sfn-input/products/${f.path}`, Body: readFileSync(join(products.uri, f.path)) }));
    }
    jobsDir = writeProductJobs(`s3://${bucket()}/sfn-input/products`, "S3", {
      catalogue: "SELECT product_id, category, name, list_price FROM products",
      failing: "SELECT product_id, category, name, list_price FROM products WHERE assert_true(list_price < 0, 'planted failure: prices are positive') IS NULL",
    }, { "spark.executor.instances": "1" });
    const s3Env = inject("s3Env");
    const servers = { s3Env, accessKeyId: s3Env.AWS_ACCESS_KEY_ID!, hadoop: inject("hadoop") };
    emr = await startEmrServer(servers);
    serverless = await startEmrServerlessServer(servers);
    clusterId = emr.addCluster({ name: "analytics", logUri: `s3://${bucket()}/sfn-logs/` }).id;
    // One client per service, built once; maxAttempts 1: every retry is the state machine's.
    const credentials = { accessKeyId: s3Env.AWS_ACCESS_KEY_ID!, secretAccessKey: s3Env.AWS_SECRET_ACCESS_KEY! };
    const emrClient = new EMRClient({ endpoint: emr.endpoint, region: "us-east-1", credentials, maxAttempts: 1 });
    const serverlessClient = new EMRServerlessClient({ endpoint: serverless.endpoint, region: "us-east-1", credentials, maxAttempts: 1 });
    handlers = [emrSdkTasks(emrClient), emrAddStepSync(emrClient), emrServerlessStartJobRunSync(serverlessClient)];
  });

  afterAll(async () => {
    await emr?.stop();
    await serverless?.stop();
  });

  const run = (definition: string, input: unknown, name: string) => execute(definition, { input, name, handlers, timeScale: TIME_SCALE });

  it("emr-step, input whose step does not end with --plan <planUri>: SparkjobsInvalidInput before any EMR call", async () => {
    const input = await stageForEmr("catalogue", "sfn-invalid");
    input.emrStep.HadoopJarStep.Args.push("--conf", "spark.driver.memory=64g");
    const before = emr.requests.length;
    const r = await run(machines.emrStep, input, "sfn-invalid");
    report("invalid input", r, `EMR requests: ${emr.requests.length - before}`);
    expect([r.status, r.error]).toEqual(["FAILED", "SparkjobsInvalidInput"]);
    expect(r.cause).toBe("the input is not what `sparkjobs stage <job> --target emr` prints plus clusterId: emrStep.HadoopJarStep.Args: strings, spark-submit ... --plan <planUri> [--series <name>]");
    expect(r.path).toEqual(["CheckInput", "InputValid", "InvalidInput"]);
    expect(emr.requests.length).toBe(before);
  });

  const okName = "sparkjobs catalogue sfn-ok";
  let okInput: Record<string, any>;

  it("emr-step, the answer to AddJobFlowSteps lost after EMR took the step: the machine lists the steps again and follows it; one step, SUCCEEDED, outputs valid", async () => {
    okInput = await stageForEmr("catalogue", "sfn-ok");
    const before = emr.requests.length;
    emr.failAfterAcceptNext(1, "AddJobFlowSteps", "reset");
    const r = await run(machines.emrStep, okInput, "sfn-ok-1");
    const adds = requestsOf("AddJobFlowSteps", before);
    report("lost AddJobFlowSteps answer", r, `steps named "${okName}": ${stepsNamed(okName).length}; AddJobFlowSteps requests: ${adds.length}`);
    expect(r.status, `${r.error}: ${r.cause}`).toBe("SUCCEEDED");
    expect(r.output).toEqual({ runId: "sfn-ok", clusterId, stepName: okName });
    // The add failed (no answer at all), the machine backed off, found the step by name and followed it.
    expect(r.path.slice(0, 11)).toEqual(["CheckInput", "InputValid", "ListSteps", "MoreSteps", "Decide", "AddStep", "BackOff", "ListSteps", "MoreSteps", "Decide", "DescribeStep"]);
    expect(r.path.at(-1)).toBe("RunSucceeded");
    expect(r.path.filter((s) => s === "AddStep")).toHaveLength(1);
    const failedAdd = r.history.find((e) => e.type === "TaskFailed" && e.stateName === "AddStep")!;
    expect(failedAdd.error).toBe("EMR.SdkClientException");
    expect(failedAdd.calls).toEqual([{ operation: "AddJobFlowSteps", outcome: "EMR.SdkClientException" }]);
    // One AddJobFlowSteps, carried out, its connection reset; one step on the cluster, with the machine's runtime role.
    expect(adds.map((q) => q.status)).toEqual([0]);
    expect(stepsNamed(okName).map((s) => [s.state, s.executionRoleArn, s.actionOnFailure])).toEqual([["COMPLETED", ROLE, "CONTINUE"]]);
    expect(stepsNamed(okName)[0]!.args).toEqual(okInput.emrStep.HadoopJarStep.Args);
    const v = await cli(["validate", "sfn-ok", "--json"], { root: s3Root(), env: env() });
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ runId: "sfn-ok", status: "complete", outputs: { catalogue: { rows: productRows } } });
  });

  it("emr-step, the same input again after that execution ended: a new step is added (a COMPLETED one does not block it) and the runner recomputes nothing", async () => {
    const manifestUri = `${s3Root()}/runs/sfn-ok/_manifest.json`;
    const storage = storageFor(inject("s3Env"));
    const manifestBefore = await storage.readText(manifestUri);
    expect(manifestBefore).toBeDefined();
    const before = emr.requests.length;
    const r = await run(machines.emrStep, okInput, "sfn-ok-2");
    report("same input again", r, `steps named "${okName}": ${stepsNamed(okName).length}; AddJobFlowSteps requests: ${requestsOf("AddJobFlowSteps", before).length}`);
    expect(r.status, `${r.error}: ${r.cause}`).toBe("SUCCEEDED");
    expect(r.path).toEqual(["CheckInput", "InputValid", "ListSteps", "MoreSteps", "Decide", "AddStep", "RunSucceeded"]);
    expect(requestsOf("AddJobFlowSteps", before).map((q) => q.status)).toEqual([200]);
    expect(stepsNamed(okName).map((s) => s.state)).toEqual(["COMPLETED", "COMPLETED"]);
    // The second step's runner found the run complete with this plan and wrote nothing: the manifest is the first one, byte for byte.
    expect(await storage.readText(manifestUri)).toBe(manifestBefore);
  });

  it("emr-step, a run that fails: the .sync failure goes to Catch, the step is found FAILED and followed, not added again; SparkjobsEmrStepFailed with its failure details", async () => {
    const name = "sparkjobs failing sfn-fail";
    const input = await stageForEmr("failing", "sfn-fail");
    const before = emr.requests.length;
    const r = await run(machines.emrStep, input, "sfn-fail");
    report("failing run", r, `steps named "${name}": ${stepsNamed(name).length}; AddJobFlowSteps requests: ${requestsOf("AddJobFlowSteps", before).length}`);
    expect(r.path).toEqual(["CheckInput", "InputValid", "ListSteps", "MoreSteps", "Decide", "AddStep", "BackOff", "ListSteps", "MoreSteps", "Decide", "DescribeStep", "StepEnded", "RunFailed"]);
    const syncFailure = r.history.find((e) => e.type === "TaskFailed" && e.stateName === "AddStep")!;
    expect(syncFailure.error).toBe("States.TaskFailed");
    expect(JSON.parse(syncFailure.cause!).Step).toMatchObject({ Name: name, Status: { State: "FAILED", FailureDetails: { Reason: "Unknown Error." } } });
    expect(stepsNamed(name)).toHaveLength(1);
    const step = stepsNamed(name)[0]!;
    expect(step.state).toBe("FAILED");
    expect([r.status, r.error]).toEqual(["FAILED", "SparkjobsEmrStepFailed"]);
    const { Message, LogFile } = step.failureDetails!;
    expect(LogFile).toBe(`s3://${bucket()}/sfn-logs/${clusterId}/steps/${step.id}/stderr.gz`);
    expect(r.cause).toBe(`step ${step.id} (${name}) on ${clusterId} ended FAILED: Unknown Error.: ${Message} (log: ${LogFile})`);
    // The spark-submit client's last words in cluster deploy mode: YARN's verdict on the application.
    expect(Message).toMatch(/Application application_\d+_\d+ finished with failed status/);
    expect(requestsOf("AddJobFlowSteps", before)).toHaveLength(1);
  });

  it("emr-serverless, StartJobRun's first answer lost after the job run started: the Retry sends the same ClientToken and follows that job run; one job run, SUCCEEDED", async () => {
    const applicationId = serverless.addApplication({ name: "sfn", state: "STOPPED" }).id;
    const staged = await cli(
      ["stage", "catalogue", "--jobs-dir", jobsDir, "--run-id", "sfn-sls", "--target", "emr-serverless", "--application-id", applicationId, "--execution-role-arn", ROLE, "--log-uri", `s3://${bucket()}/sfn-serverless-logs/`, "--json"],
      { root: s3Root(), env: env() },
    );
    expect(staged.code, staged.stderr).toBe(0);
    const input = { ...JSON.parse(staged.stdout), applicationId };
    const before = serverless.requests.length;
    serverless.failAfterAcceptNext(1, "StartJobRun", "error");
    const r = await run(machines.emrServerless, input, "sfn-sls");
    const runs = serverless.application(applicationId)!.runs;
    const starts = serverless.requests.slice(before).filter((q) => q.operation === "StartJobRun");
    report("lost StartJobRun answer", r, `job runs: ${runs.length}; StartJobRun requests: ${starts.map((q) => q.status).join(", ")}`);
    expect(r.status, `${r.error}: ${r.cause}`).toBe("SUCCEEDED");
    expect(r.path).toEqual(["HasLogUri", "LogUriFromInput", "RunJob", "RunSucceeded"]);
    const retried = r.history.filter((e) => e.type === "TaskFailed" && e.stateName === "RunJob");
    expect(retried.map((e) => e.error)).toEqual(["EMRServerless.InternalServerException"]);
    expect(retried[0]!.retryInSeconds).toBeLessThanOrEqual(15);
    expect(starts.map((q) => q.status)).toEqual([500, 200]);
    expect(runs.map((x) => [x.clientToken, x.state, x.logUri])).toEqual([["sfn-sls", "SUCCESS", `s3://${bucket()}/sfn-serverless-logs/`]]);
    expect(r.output).toMatchObject({ runId: "sfn-sls", applicationId, jobRun: { ApplicationId: applicationId, JobRunId: runs[0]!.id, Arn: runs[0]!.arn } });
    const v = await cli(["validate", "sfn-sls", "--json"], { root: s3Root(), env: env() });
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ runId: "sfn-sls", status: "complete", outputs: { catalogue: { rows: productRows } } });
  });
});
