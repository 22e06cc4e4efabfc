/**
 * A run's Python packages: which a job needs (its own, its models'), pinned and merged; the
 * spark-submit arguments that ship the packed environment on each target. The build itself (a
 * venv, pip, venv-pack) is exercised by the integration test that runs XGBoost on YARN.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadJob } from "../../submitter/src/config/job.js";
import { SparkjobsError } from "../../submitter/src/errors.js";
import { jobPythonPackages, mergePackages, modelPackages, pythonEnvHash, pythonEnvSubmitArgs, runnerPackages, serverlessPythonEnvConf } from "../../submitter/src/stage/python-env.js";
import { emrStep } from "../../submitter/src/backends/emr.js";
import { sparkSubmitParameters } from "../../submitter/src/backends/emr-serverless.js";
import { yarnSubmitArgs } from "../../submitter/src/backends/yarn.js";
import type { RunPlan } from "../../schemas/src/index.js";
import type { Staged } from "../../submitter/src/stage/stage.js";

const shipped = join(import.meta.dirname, "..", "..", "jobs");
const xgboostPins = readFileSync(join(shipped, "runner", "requirements-xgboost.txt"), "utf8")
  .split("\n")
  .map((l) => l.replace(/#.*/, "").trim())
  .filter(Boolean);

describe("the packages a job needs", () => {
  it("the runner brings numpy, never pyspark (the cluster's Spark has it)", () => {
    expect(runnerPackages()).toEqual(["numpy==1.26.4"]);
  });

  it("a model of type xgboost brings XGBoost and what xgboost.spark imports, every one pinned", () => {
    expect(modelPackages("gbt")).toEqual([]);
    const names = modelPackages("xgboost").map((p) => p.split("==")[0]);
    for (const name of ["xgboost-cpu", "pandas", "pyarrow", "scikit-learn", "scipy"]) expect(names).toContain(name);
    for (const p of modelPackages("xgboost")) expect(p).toMatch(/^[A-Za-z0-9._-]+==[0-9][0-9A-Za-z.]*$/);
  });

  it("the shipped jobs need nothing beyond pyspark and numpy; a job whose model is xgboost needs the xgboost list", () => {
    for (const name of ["customer-segmentation", "response", "uplift", "clv"]) expect(jobPythonPackages(loadJob(shipped, name)), name).toEqual([]);
    const team = mkdtempSync(join(tmpdir(), "sparkjobs-pyenv-"));
    mkdirSync(join(team, "mllib-configs"));
    writeFileSync(join(team, "mllib-configs", "response_models.yaml"), readFileSync(join(shipped, "mllib-configs", "response_models.yaml"), "utf8")
      .replace("  logistic:\n", "  xgb:\n    type: xgboost\n    params: { n_estimators: 50, max_depth: 4 }\n  logistic:\n"));
    expect(jobPythonPackages(loadJob([team, shipped], "response"))).toEqual([...xgboostPins].sort());
    // score loads saved models: an XGBoost one brings the same list, a Spark GBT one nothing.
    expect(jobPythonPackages(loadJob(shipped, "score"), { response: "xgboost" })).toEqual([...xgboostPins].sort());
    expect(jobPythonPackages(loadJob(shipped, "score"), { response: "gbt" })).toEqual([]);
  });

  it("a package pinned to two versions is a definition error naming both", () => {
    const e = (() => {
      try {
        mergePackages([{ from: "jobs/a.yaml", packages: ["pandas==2.2.3"] }, { from: "jobs/mllib-configs/b.yaml", packages: ["Pandas==2.1.0"] }]);
      } catch (error) {
        return error as SparkjobsError;
      }
    })();
    expect(e).toBeInstanceOf(SparkjobsError);
    expect(e!.exitCode).toBe(3);
    expect(e!.message).toContain("Pandas==2.1.0");
    expect(e!.message).toContain("pandas==2.2.3");
    expect(mergePackages([{ from: "a", packages: ["b==1", "a==2"] }, { from: "c", packages: ["a==2"] }])).toEqual(["a==2", "b==1"]);
  });

  it("the environment's hash changes with the packages and the Python version, not with their order", () => {
    const a = pythonEnvHash(["a==1", "b==2"], "3.11.2");
    expect(pythonEnvHash(["a==1", "b==2"], "3.11.2")).toBe(a);
    expect(pythonEnvHash(["a==1", "b==3"], "3.11.2")).not.toBe(a);
    expect(pythonEnvHash(["a==1", "b==2"], "3.12.0")).not.toBe(a);
    expect(mergePackages([{ from: "x", packages: ["b==2", "a==1"] }])).toEqual(["a==1", "b==2"]);
  });
});

describe("the packed environment on each target", () => {
  const plan = { runId: "r-1", job: { name: "response", version: 1, file: "response.yaml" }, sparkConf: { "spark.sql.session.timeZone": "UTC" } } as unknown as RunPlan;
  const staged: Staged = {
    planUri: "hdfs://nn:8020/sj/stage/plans/aa.json",
    planSha256: "aa",
    runnerUri: "hdfs://nn:8020/sj/stage/code/c/runner.py",
    pyFilesUri: "hdfs://nn:8020/sj/stage/code/c/sparkjobs_runner.zip",
    uploaded: [],
    pythonEnv: { hash: "e1", python: "/home/u/.cache/sparkjobs/python-envs/e1/bin/python", archiveUri: "hdfs://nn:8020/sj/stage/python/e1/environment.tar.gz" },
  };
  const archive = "hdfs://nn:8020/sj/stage/python/e1/environment.tar.gz#environment";

  it("yarn, cluster deploy mode: the archive in every container, driver and executors on ./environment/bin/python", () => {
    const args = yarnSubmitArgs(plan, staged, { deployMode: "cluster" });
    expect(args[args.indexOf("--archives") + 1]).toBe(archive);
    expect(args).toContain("spark.pyspark.python=./environment/bin/python");
    expect(args).toContain("spark.pyspark.driver.python=./environment/bin/python");
    // The archive and settings come before the application's own arguments.
    expect(args.indexOf("--archives")).toBeLessThan(args.indexOf(staged.runnerUri));
  });

  it("yarn, client deploy mode: the driver here runs the built environment, the executors the unpacked one", () => {
    const args = yarnSubmitArgs(plan, staged, { deployMode: "client" });
    expect(args).toContain("spark.pyspark.python=./environment/bin/python");
    expect(args).toContain(`spark.pyspark.driver.python=${staged.pythonEnv!.python}`);
  });

  it("an EMR step carries the same arguments; EMR Serverless its documented spark.archives and driverEnv keys", () => {
    const step = emrStep(plan, staged).HadoopJarStep!.Args!;
    expect(step[step.indexOf("--archives") + 1]).toBe(archive);
    expect(step).toContain("spark.pyspark.driver.python=./environment/bin/python");
    const params = sparkSubmitParameters(plan, staged).split(" ");
    expect(params).toContain(`spark.archives=${archive}`);
    expect(params).toContain("spark.emr-serverless.driverEnv.PYSPARK_PYTHON=./environment/bin/python");
    expect(params).toContain("spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON=./environment/bin/python");
    expect(params).toContain("spark.executorEnv.PYSPARK_PYTHON=./environment/bin/python");
  });

  it("a run without packages gets none of it", () => {
    const { pythonEnv: _, ...bare } = staged;
    expect(yarnSubmitArgs(plan, bare, { deployMode: "cluster" }).join(" ")).not.toContain("environment");
    expect(emrStep(plan, bare).HadoopJarStep!.Args!.join(" ")).not.toContain("environment");
    expect(sparkSubmitParameters(plan, bare)).not.toContain("environment");
    expect(pythonEnvSubmitArgs(undefined, true)).toEqual([]);
    expect(serverlessPythonEnvConf({})).toEqual({});
  });
});
