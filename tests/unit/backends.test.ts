/**
 * The pure parts of the backends: what is submitted (argument arrays, request bodies), how
 * engine states map to RunStatus, and how AWS errors become exit codes.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { RUN_ID_PATTERN } from "../../schemas/src/index.js";
import type { RunPlan } from "../../schemas/src/index.js";
import { awsClientConfig } from "../../submitter/src/aws/config.js";
import { fromAwsError } from "../../submitter/src/aws/errors.js";
import { EMR_STEP_CHAR_LIMIT, emrStep, runStateOfStep, stepName } from "../../submitter/src/backends/emr.js";
import { clientToken, jobRunRequest, runStateOfJobRun, sparkSubmitParameters } from "../../submitter/src/backends/emr-serverless.js";
import { s3LogUri } from "../../submitter/src/backends/logs.js";
import { s3aConf, sparkSubmitArgs } from "../../submitter/src/backends/spark-submit.js";
import { backendFor, loadTransientCluster } from "../../submitter/src/backends/targets.js";
import { parseConfArgs } from "../../submitter/src/config/params.js";
import { formatError, SparkjobsError } from "../../submitter/src/errors.js";
import { parseS3Uri } from "../../submitter/src/stage/s3.js";
import type { Staged } from "../../submitter/src/stage/stage.js";
import { LocalStorage } from "../../submitter/src/stage/storage.js";

const plan = (sparkConf: Record<string, string> = { "spark.sql.session.timeZone": "UTC" }) =>
  ({ runId: "seg-20260101T000000Z-abc123", job: { name: "customer-segmentation", version: 1, file: "x.yaml" }, sparkConf }) as unknown as RunPlan;
const staged: Staged = {
  planUri: "s3://lake/sj/stage/plans/aa.json",
  planSha256: "aa",
  runnerUri: "s3://lake/sj/stage/code/0123456789abcdef/runner.py",
  pyFilesUri: "s3://lake/sj/stage/code/0123456789abcdef/sparkjobs_runner.zip",
  uploaded: [],
};

describe("emr", () => {
  test("the step is command-runner.jar with one argument array for spark-submit in cluster mode", () => {
    expect(emrStep(plan(), staged)).toEqual({
      Name: "sparkjobs customer-segmentation seg-20260101T000000Z-abc123",
      ActionOnFailure: "CONTINUE",
      HadoopJarStep: {
        Jar: "command-runner.jar",
        Args: [
          "spark-submit", "--deploy-mode", "cluster", "--name", "sparkjobs-customer-segmentation-seg-20260101T000000Z-abc123",
          "--conf", "spark.sql.session.timeZone=UTC",
          "--py-files", staged.pyFilesUri, staged.runnerUri, "--plan", staged.planUri,
        ],
      },
    });
  });

  test("a series other than the default reaches the runner as --series on every engine", () => {
    const daily = { ...staged, series: "daily" };
    expect(emrStep(plan(), daily).HadoopJarStep!.Args!.slice(-4)).toEqual(["--plan", staged.planUri, "--series", "daily"]);
    expect(jobRunRequest(plan(), daily, { applicationId: "a", executionRoleArn: "r" }).jobDriver!.sparkSubmit!.entryPointArguments).toEqual(["--plan", staged.planUri, "--series", "daily"]);
    expect(sparkSubmitArgs(plan(), { ...daily, planUri: "/r/p.json" }, "local[1]", "1g").slice(-6)).toEqual(["--plan", "/r/p.json", "--series", "daily", "--progress-seconds", "2"]);
    expect(emrStep(plan(), { ...staged, series: "default" }).HadoopJarStep!.Args!.slice(-2)).toEqual(["--plan", staged.planUri]);
  });

  test("a value with spaces stays one argument: nothing is joined or split", () => {
    const args = emrStep(plan({ "spark.driver.extraJavaOptions": "-Da=1 -Db=2" }), staged).HadoopJarStep!.Args!;
    expect(args).toContain("spark.driver.extraJavaOptions=-Da=1 -Db=2");
  });

  test("a step over EMR's 10,240 characters is refused before it is sent", () => {
    const big = plan({ "spark.x": "y".repeat(EMR_STEP_CHAR_LIMIT) });
    expect(() => emrStep(big, staged)).toThrow(/has 10\d{3} characters; EMR allows 10240/);
  });

  test("a pipeline's session step is named for its session folder, not for its first run", () => {
    const step = emrStep(plan(), { ...staged, session: "s3://lake/sj/stage/sessions/prices-0a1b2c3d" });
    expect(step.Name).toBe("sparkjobs session prices-0a1b2c3d");
    expect(step.HadoopJarStep!.Args!.slice(0, 5)).toEqual(["spark-submit", "--deploy-mode", "cluster", "--name", "sparkjobs-session-prices-0a1b2c3d"]);
    expect(step.HadoopJarStep!.Args!.slice(-2)).toEqual(["--session", "s3://lake/sj/stage/sessions/prices-0a1b2c3d"]);
  });

  test("the run id is in the step name, so ListSteps can find a step added by a crashed submit", () => {
    expect(stepName(plan())).toMatch(/ seg-20260101T000000Z-abc123$/);
  });

  test("step states map to run states as Airflow's EmrStepSensor reads them", () => {
    expect(["PENDING", "RUNNING", "CANCEL_PENDING", "COMPLETED", "CANCELLED", "FAILED", "INTERRUPTED"].map(runStateOfStep)).toEqual([
      "pending", "running", "running", "succeeded", "cancelled", "failed", "failed",
    ]);
  });

  test("EMR's s3n:// LogUri is read as s3://", () => {
    expect(s3LogUri("s3n://logs-bucket/emr/")).toBe("s3://logs-bucket/emr");
  });
});

describe("emr-serverless", () => {
  test("the run id is the clientToken; later attempts of a failed run id get _2., _3., within 64 characters, never another run id's token", () => {
    expect(clientToken("seg-1", 1)).toBe("seg-1");
    expect(clientToken("seg-1", 2)).toBe("_2.seg-1");
    // A run id can look like another's retry under any other scheme (seg-1.r2); none starts with _.
    expect(RUN_ID_PATTERN.test(clientToken("seg-1", 2))).toBe(false);
    expect(clientToken("seg-1.r2", 1)).not.toBe(clientToken("seg-1", 2));
    expect(clientToken("x".repeat(64), 9)).toHaveLength(64);
    expect(clientToken("x".repeat(64), 9)).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    // Two long run ids that share their first 60 characters keep distinct tokens.
    expect(clientToken(`${"x".repeat(60)}abcd`, 2)).not.toBe(clientToken(`${"x".repeat(60)}abce`, 2));
  });

  test("StartJobRun: entry point, arguments, and the spark-submit parameters as one string", () => {
    const r = jobRunRequest(plan(), staged, { applicationId: "00abc", executionRoleArn: "arn:aws:iam::123456789012:role/job", logUri: "s3://logs/sls/" });
    expect(r).toMatchObject({
      applicationId: "00abc",
      clientToken: "seg-20260101T000000Z-abc123",
      executionRoleArn: "arn:aws:iam::123456789012:role/job",
      jobDriver: {
        sparkSubmit: {
          entryPoint: staged.runnerUri,
          entryPointArguments: ["--plan", staged.planUri],
          sparkSubmitParameters: `--py-files ${staged.pyFilesUri} --conf spark.sql.session.timeZone=UTC`,
        },
      },
      configurationOverrides: { monitoringConfiguration: { s3MonitoringConfiguration: { logUri: "s3://logs/sls/" } } },
    });
  });

  test("a setting with whitespace cannot be passed in one string, and says so", () => {
    expect(() => sparkSubmitParameters(plan({ "spark.driver.extraJavaOptions": "-Da=1 -Db=2" }), staged)).toThrow(/cannot be passed to EMR Serverless/);
  });

  test("job run states map to run states", () => {
    expect(["SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "CANCELLING", "SUCCESS", "FAILED", "CANCELLED"].map(runStateOfJobRun)).toEqual([
      "pending", "pending", "pending", "running", "running", "succeeded", "failed", "cancelled",
    ]);
  });
});

describe("local and standalone spark-submit", () => {
  test("S3A jars go on the launcher's class path (Spark resolves s3:// before it loads --jars), and on executors' for standalone", () => {
    const args = sparkSubmitArgs(plan(), staged, "spark://127.0.0.1:7077", "2g", ["/c/hadoop-aws.jar", "/c/bundle.jar"], true);
    expect(args.slice(0, 8)).toEqual(["--master", "spark://127.0.0.1:7077", "--name", "sparkjobs-customer-segmentation-seg-20260101T000000Z-abc123", "--driver-memory", "2g", "--driver-class-path", "/c/hadoop-aws.jar:/c/bundle.jar"]);
    expect(args).toContain("spark.executor.extraClassPath=/c/hadoop-aws.jar:/c/bundle.jar");
    // The driver runs here: its stderr, read as it comes, carries the runner's progress lines.
    expect(args.slice(-6)).toEqual([staged.pyFilesUri, staged.runnerUri, "--plan", staged.planUri, "--progress-seconds", "2"]);
  });

  test("s3:// and s3n:// go through S3A; the endpoint comes from AWS_ENDPOINT_URL_S3; no credentials in the conf", () => {
    const conf = s3aConf({ AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9000", AWS_REGION: "eu-west-1", AWS_SECRET_ACCESS_KEY: "s" });
    expect(conf).toEqual({
      "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
      "spark.hadoop.fs.s3n.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
      "spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:9000",
      "spark.hadoop.fs.s3a.path.style.access": "true",
      "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
      "spark.hadoop.fs.s3a.endpoint.region": "eu-west-1",
    });
    expect(JSON.stringify(s3aConf({ AWS_SECRET_ACCESS_KEY: "s3cr3t" }))).not.toContain("s3cr3t");
  });
});

describe("target choice", () => {
  const local = new LocalStorage();
  const usage = async (options: Parameters<typeof backendFor>[0]) => {
    const e = await backendFor(options, local).then(() => undefined, (x) => x);
    expect(e).toBeInstanceOf(SparkjobsError);
    return formatError(e);
  };

  test("each remote target names what it is missing", async () => {
    expect(await usage({ target: "emr", root: "s3://b/r", conf: {} })).toMatchInlineSnapshot(`
      "error: the emr target needs --cluster-id (or SPARKJOBS_EMR_CLUSTER_ID)
        fix: pass the id of a running cluster (j-...), or --transient-cluster <file>"
    `);
    expect(await usage({ target: "emr-serverless", root: "s3://b/r", conf: {}, applicationId: "00a" })).toContain("needs --execution-role-arn");
    expect(await usage({ target: "standalone", root: "/tmp/r", conf: {} })).toContain("needs --master spark://host:port");
    expect(await usage({ target: "standalone", root: "/tmp/r", conf: {}, master: "local[2]" })).toContain("is not a standalone master URL");
  });

  test("a cluster cannot see a local root", async () => {
    expect(await usage({ target: "emr", root: "/tmp/runs", conf: {}, clusterId: "j-1" })).toMatchInlineSnapshot(`
      "error: the emr target needs an s3:// --root, not /tmp/runs
        fix: pass --root s3://<bucket>/<prefix> (or set SPARKJOBS_ROOT): the cluster reads the plan and writes the outputs there"
    `);
  });

  test("--conf takes spark.* settings only, each once", () => {
    expect(parseConfArgs(["spark.executor.memory=4g"])).toEqual({ "spark.executor.memory": "4g" });
    expect(() => parseConfArgs(["executor.memory=4g"])).toThrow("--conf executor.memory is not a Spark setting");
    expect(() => parseConfArgs(["spark.a=1", "spark.a=2"])).toThrow("--conf spark.a is given twice");
  });

  test("a transient cluster file is checked with file, line and key", () => {
    const dir = mkdtempSync(join(tmpdir(), "sparkjobs-transient-"));
    const file = join(dir, "cluster.yaml");
    writeFileSync(file, "logUri: s3://logs/emr/\ncoreInstanceCount: -1\nreleaseLable: emr-7.9.0\n");
    const e = (() => {
      try {
        loadTransientCluster(file);
      } catch (x) {
        return x as SparkjobsError;
      }
    })()!;
    expect(e.exitCode).toBe(2);
    expect(formatError(e).replaceAll(dir, "<dir>")).toMatchInlineSnapshot(`
      "error: <dir>/cluster.yaml is not a valid transient cluster definition
        - <dir>/cluster.yaml:3: releaseLable: unknown key "releaseLable" (remove it or fix its spelling)
        - <dir>/cluster.yaml:2: coreInstanceCount: Too small: expected number to be >=0
        fix: the keys are in schemas/json/transient-cluster.schema.json"
    `);
    writeFileSync(file, "logUri: s3://logs/emr/\n");
    expect(loadTransientCluster(file)).toMatchObject({ releaseLabel: "emr-7.9.0", coreInstanceCount: 2, serviceRole: "EMR_DefaultRole" });
  });

  test("the example the error points to exists and is valid", () => {
    const missing = (() => {
      try {
        loadTransientCluster("no-such-cluster.yaml");
      } catch (x) {
        return x as SparkjobsError;
      }
    })()!;
    const example = missing.fix!.match(/infra\/emr\/[\w.-]+\.yaml/)![0];
    expect(loadTransientCluster(join(import.meta.dirname, "..", "..", example))).toMatchObject({ logUri: "s3://my-emr-logs/sparkjobs/", releaseLabel: "emr-7.9.0" });
  });
});

describe("AWS configuration and errors", () => {
  test("a per-service endpoint override wins over AWS_ENDPOINT_URL; keys from the given environment", () => {
    const env = { AWS_ENDPOINT_URL: "http://all", AWS_ENDPOINT_URL_EMR: "http://emr", AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s" };
    expect(awsClientConfig("EMR", env)).toEqual({
      region: "eu-west-1",
      endpoint: "http://emr",
      maxAttempts: 6,
      retryMode: "standard",
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000, throwOnRequestTimeout: true },
      credentials: { accessKeyId: "k", secretAccessKey: "s" },
    });
    expect(awsClientConfig("S3", env).endpoint).toBe("http://all");
    expect(awsClientConfig("S3", {}).region).toBe("us-east-1");
    expect(awsClientConfig("S3", { SPARKJOBS_AWS_MAX_ATTEMPTS: "2" }).maxAttempts).toBe(2);
  });

  test("errors become exit codes: credentials 13, network and throttling 12, the rest 9", () => {
    const sdk = (name: string, status?: number, code?: string) => Object.assign(new Error(`${name} happened`), { name, code, $metadata: { httpStatusCode: status, attempts: 3 } });
    expect(fromAwsError(sdk("InvalidAccessKeyId", 403), "S3", "reading x", undefined).exitCode).toBe(13);
    expect(fromAwsError(sdk("UnrecognizedClientException", 400), "EMR", "adding a step", undefined).exitCode).toBe(13);
    expect(fromAwsError(sdk("Error", undefined, "ECONNREFUSED"), "EMR", "adding a step", "http://127.0.0.1:1").message).toBe(
      "EMR at http://127.0.0.1:1 could not be reached while adding a step (3 attempts): ECONNREFUSED: Error happened",
    );
    expect(fromAwsError(sdk("ThrottlingException", 400), "EMR", "describing a step", undefined).exitCode).toBe(12);
    expect(fromAwsError(sdk("InternalError", 500), "S3", "writing x", undefined).exitCode).toBe(12);
    expect(fromAwsError(sdk("ValidationException", 400), "EMR", "adding a step", undefined).exitCode).toBe(9);
  });

  test("s3://, s3a:// and s3n:// parse to bucket and key", () => {
    expect(parseS3Uri("s3a://lake/runs/x/_manifest.json")).toEqual({ scheme: "s3a", bucket: "lake", key: "runs/x/_manifest.json" });
    expect(parseS3Uri("s3://lake")).toEqual({ scheme: "s3", bucket: "lake", key: "" });
    expect(() => parseS3Uri("gs://lake/x")).toThrow("gs://lake/x is not an s3:// URI");
  });
});
