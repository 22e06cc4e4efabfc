/**
 * The Airflow operators under real Airflow 3 (`airflow dags test`, its own virtual environment from
 * `bootstrap.sh --with-airflow`, a SQLite metadata database of its own), running the real CLI:
 * the example precision-marketing DAG on the local target; a DAG made from a pipeline on the emr
 * target against the loopback EMR server (steps in YARN cluster mode on the mini cluster), one of
 * its CLIs killed after its step was added and the task retried by Airflow; a failed gate, an
 * unreachable endpoint and a SIGTERM to the task (on_kill). Task states, tries and XCom values are
 * read from Airflow's own database; steps are counted on the EMR server.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { s3ClientFromEnv } from "../../submitter/src/stage/s3.js";
import { startEmrServer, type EmrServer } from "../fakes/emr-server.js";
import { freePort } from "../servers/minio.js";
import { cliPath, ensureGenerated, GEN, manifestOf, onMiniCluster, PIPELINE, readOutput, repo, root, storageFor, TARGET_BUDGET, withFixtureLock, writeProductJobs } from "./helpers.js";

const airflowVenv = execFileSync(process.execPath, [join(repo, "dist", "submitter", "src", "env", "where.js"), "airflow-venv"], { encoding: "utf8" }).trim();
const bucket = () => inject("s3Bucket");
const ROLE = "arn:aws:iam::123456789012:role/sparkjobs-job";
const s3Root = () => `s3://${bucket()}/airflow`;

interface TaskState {
  task_id: string;
  state: string;
  try_number: number;
  xcom: Record<string, unknown> | null;
  summary: Record<string, unknown> | null;
}

/** The task instances of the newest run of a DAG, with their XCom return value, from Airflow's database. */
function taskStates(home: string, dagId: string): Record<string, TaskState> {
  const script = `
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
run = c.execute("select run_id from dag_run where dag_id = ? order by id desc limit 1", (sys.argv[2],)).fetchone()[0]
out = {}
for task_id, state, tries in c.execute("select task_id, state, try_number from task_instance where dag_id = ? and run_id = ?", (sys.argv[2], run)):
    xs = dict(c.execute("select key, value from xcom where dag_id = ? and run_id = ? and task_id = ?", (sys.argv[2], run, task_id)).fetchall())
    out[task_id] = {"task_id": task_id, "state": state, "try_number": tries,
                    "xcom": json.loads(xs["return_value"]) if "return_value" in xs else None,
                    "summary": json.loads(xs["summary"]) if "summary" in xs else None}
print(json.dumps(out))
`;
  return JSON.parse(execFileSync("python3", ["-c", script, join(home, "airflow.db"), dagId], { encoding: "utf8" }));
}

/** The task-log lines of the operators and the CLI (for a failure's message): Airflow's own are many. */
function sparkjobsLines(output: string): string {
  return output.split("\n").filter((l) => /sparkjobs|error|Error|exit \d+/.test(l)).slice(-80).join("\n");
}

describe("Airflow: the operators under airflow dags test", () => {
  let home: string;
  let dags: string;
  let env: NodeJS.ProcessEnv;
  let emr: EmrServer;
  let clusterId: string;
  let productRows: number;
  let dearRows: number;

  /** `airflow dags test`, its output (the task logs with the CLI's stderr) line by line to onLine. */
  function dagsTest(dagId: string, conf: Record<string, unknown> = {}, onLine?: (line: string, pid: number) => void): Promise<{ code: number | null; output: string }> {
    const child = spawn(join(airflowVenv, "bin", "airflow"), ["dags", "test", dagId, "--conf", JSON.stringify(conf)], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let seen = 0;
    const take = (d: Buffer) => {
      output += d.toString("utf8");
      const end = output.lastIndexOf("\n");
      if (onLine && end >= seen) {
        for (const line of output.slice(seen, end).split("\n")) onLine(line, child.pid!);
        seen = end + 1;
      }
    };
    child.stdout!.on("data", take);
    child.stderr!.on("data", take);
    return new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code) => {
      writeFileSync(join(home, `${dagId}.log`), output);
      resolve({ code, output });
    });
    });
  }

  beforeAll(async () => {
    if (!existsSync(join(airflowVenv, "bin", "airflow"))) {
      throw new Error(`the Airflow tests need Airflow at ${airflowVenv}: run bash scripts/bootstrap.sh --with-airflow (npm test does)`);
    }
    home = mkdtempSync(join(tmpdir(), "sparkjobs-airflow-"));
    dags = join(home, "dags");
    mkdirSync(dags);
    copyFileSync(join(repo, "integrations", "airflow", "example_dags", "sparkjobs_precision_marketing.py"), join(dags, "sparkjobs_precision_marketing.py"));

    // The products of the shared data set in S3, read by the EMR steps; and the jobs that read them.
    ensureGenerated();
    const products = (await manifestOf(root(), GEN.runId)).outputs.products;
    productRows = products.rows;
    dearRows = (await readOutput(products)).filter((p) => Number(p.list_price) > 10).length;
    const s3 = s3ClientFromEnv({ ...process.env, ...inject("s3Env") });
    for (const f of products.files) {
      await s3.send(new PutObjectCommand({ Bucket: bucket(), Key: `airflow-input/products/${f.path}`, Body: readFileSync(join(products.uri, f.path)) }));
    }
    const one = { "spark.executor.instances": "1" };
    const emrJobs = writeProductJobs(`s3://${bucket()}/airflow-input/products`, "S3", {
      catalogue: "SELECT product_id, category, name, list_price FROM products",
      endless: "SELECT p.product_id, p.category, p.name, p.list_price FROM products p CROSS JOIN range(0, 2000000000) r WHERE hash(r.id, p.product_id) = 7",
    }, one);
    // A job that reads the catalogue run the task before it made: its run id comes through XCom.
    writeFileSync(join(emrJobs, "spark-sql", "dear.sql"), "SELECT product_id, category, name, list_price FROM products WHERE list_price > 10\n");
    writeFileSync(join(emrJobs, "dear.yaml"), `name: dear
version: 1
description: the dear products of a catalogue run
params:
  catalogue_run: { type: runId }
inputs:
  products: { fromRun: { param: catalogue_run, job: catalogue, output: catalogue }, schema: products }
stages:
  - { kind: sql, name: catalogue, file: dear.sql }
outputs:
  catalogue: { from: catalogue, schema: products, files: 1 }
sparkConf:
  spark.executor.instances: "1"
`);
    mkdirSync(join(emrJobs, "pipelines"));
    writeFileSync(join(emrJobs, "pipelines", "prices.yaml"), `name: prices
version: 1
description: the catalogue, then its dear products
steps:
  - { name: catalogue, job: catalogue }
  - { name: dear, job: dear, params: { catalogue_run: "{steps.catalogue}" } }
`);
    // A local job whose gate fails: a catalogue of a million products.
    const localJobs = writeProductJobs(products.uri, "a local folder", { gated: "SELECT product_id, category, name, list_price FROM products" });
    writeFileSync(join(localJobs, "gated.yaml"), `${readFileSync(join(localJobs, "gated.yaml"), "utf8")}checks:\n  - { name: a_million_products, output: catalogue, minRows: 1000000 }\n`);

    const creds = { s3Env: inject("s3Env"), accessKeyId: inject("s3Env").AWS_ACCESS_KEY_ID!, hadoop: inject("hadoop") };
    emr = await startEmrServer(creds);
    clusterId = emr.addCluster({ name: "analytics", logUri: `s3://${bucket()}/emr-logs/` }).id;
    const closed = await freePort();
    const py = (v: unknown) => JSON.stringify(v);
    // The S3 server's settings go to the EMR tasks only: a local run's plan holds the S3A settings
    // when they are set, and the local DAG's runs must have the plans of the shared local runs.
    const onEmr = { target: "emr", root: s3Root(), jobs_dir: emrJobs, options: { "cluster-id": clusterId, "log-wait": 30, "execution-role-arn": ROLE }, env: { ...inject("s3Env"), AWS_ENDPOINT_URL_EMR: emr.endpoint, SPARKJOBS_POLL_MAX: "2" } };
    writeFileSync(join(dags, "it_emr_prices.py"), `
import json
from sparkjobs_airflow import pipeline_dag
dag = pipeline_dag(${py(join(emrJobs, "pipelines", "prices.yaml"))}, "it_emr_prices", retries=2, **json.loads(${py(JSON.stringify(onEmr))}))
`);
    writeFileSync(join(dags, "it_failures.py"), `
import json
from airflow.sdk import DAG
from sparkjobs_airflow import SparkjobsRunOperator
on_emr = json.loads(${py(JSON.stringify(onEmr))})
with DAG("it_failures", schedule=None) as dag:
    SparkjobsRunOperator(task_id="gate", job="gated", jobs_dir=${py(localJobs)}, retries=2)
    SparkjobsRunOperator(task_id="unreachable", job="catalogue", retries=1, **{**on_emr, "env": {**on_emr["env"], "AWS_ENDPOINT_URL_EMR": "http://127.0.0.1:${closed}"}})
    SparkjobsRunOperator(task_id="killed", job="endless", retries=0, cancel_grace_seconds=120, **on_emr)
`);
    env = {
      ...process.env,
      AIRFLOW_HOME: home,
      AIRFLOW__CORE__DAGS_FOLDER: dags,
      AIRFLOW__CORE__LOAD_EXAMPLES: "False",
      // Retries after a second, not the five minutes of Airflow's default.
      AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY: "1",
      PYTHONPATH: join(repo, "integrations", "airflow", "src"),
      SPARKJOBS_HOME: repo,
      SPARKJOBS_CLI: `${process.execPath} ${cliPath}`,
      SPARKJOBS_ROOT: root(),
      SPARKJOBS_SERIES: "it-airflow",
      // Airflow draws a failed task's exception in a box as wide as this: one line per message.
      COLUMNS: "1000",
    };
    const migrate = spawnSync(join(airflowVenv, "bin", "airflow"), ["db", "migrate"], { env, encoding: "utf8" });
    if (migrate.status !== 0) throw new Error(`airflow db migrate failed:\n${migrate.stderr.slice(-3000)}`);
  }, 600_000);

  afterAll(async () => {
    await emr?.stop();
  });

  /** The EMR tests' steps are YARN applications: they hold the mini cluster (helpers.ts) while they run, the local test does not. */
  const onTheMiniCluster = <T>(body: () => Promise<T>) => onMiniCluster("shared", body);

  it("the example precision-marketing DAG on local: 13 tasks succeed, each one job, run ids through XCom; with run_prefix they are the pipeline's runs, reused", () => {
    // The shared runs were made by `sparkjobs pipeline precision-marketing --run-id it-pm`; the DAG
    // with run_prefix it-pm and the same parameters must give every task the same run id and plan.
    const conf = { customers: GEN.customers, seed: GEN.seed, budget: TARGET_BUDGET, run_prefix: PIPELINE };
    const r = withFixtureLock(() =>
      spawnSync(join(airflowVenv, "bin", "airflow"), ["dags", "test", "sparkjobs_precision_marketing", "--conf", JSON.stringify(conf)], { env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 }),
    );
    writeFileSync(join(home, "sparkjobs_precision_marketing.log"), r.stdout + r.stderr);
    const states = taskStates(home, "sparkjobs_precision_marketing");
    const log = sparkjobsLines(r.stdout + r.stderr);
    const steps = ["generate", "segments", "pca", "response", "score", "uplift", "score_uplift", "target", "target_uplift", "recommend", "basket_rules", "clv", "kpis"];
    expect(Object.keys(states).sort(), log).toEqual([...steps].sort());
    for (const step of steps) {
      const s = states[step]!;
      expect([step, s.state, s.try_number], log).toEqual([step, "success", 1]);
      expect(s.xcom).toMatchObject({ runId: `${PIPELINE}.${step}`, status: "succeeded", reused: true });
    }
    // The values in XCom are the runs' own: the outputs' rows equal their manifests'.
    return Promise.all(steps.map(async (step) => {
      const manifest = await manifestOf(root(), `${PIPELINE}.${step}`);
      const outputs = states[step]!.xcom!.outputs as Record<string, { rows: number }>;
      expect(Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.rows]))).toEqual(Object.fromEntries(Object.entries(manifest.outputs as Record<string, { rows: number }>).map(([k, v]) => [k, v.rows])));
    })).then(() => {
      console.log(`airflow dags test sparkjobs_precision_marketing (local, run_prefix ${PIPELINE}): ${steps.length} tasks succeeded, try 1 each; XCom runIds ${steps.map((s) => states[s]!.xcom!.runId).join(", ")}`);
    });
  });

  it("a DAG of a pipeline on emr: the catalogue task's CLI killed after its step was added, the task retried by Airflow: two jobs, two steps", () => onTheMiniCluster(async () => {
    const stepsBefore = emr.cluster(clusterId)!.steps.length;
    let killed: number | undefined;
    let requestsAtKill = 0;
    const r = await dagsTest("it_emr_prices", {}, (line) => {
      // The operator logs the CLI's pid; once the catalogue step runs on the cluster, that CLI dies
      // as a worker would (SIGKILL: no cancel), after AddJobFlowSteps.
      const m = /sparkjobs pid (\d+): .* run catalogue /.exec(line);
      if (m && killed === undefined) {
        const pid = Number(m[1]);
        killed = -1;
        const poll = setInterval(() => {
          const step = emr.cluster(clusterId)!.steps.slice(stepsBefore).find((s) => s.name.startsWith("sparkjobs catalogue "));
          if (step?.state === "RUNNING") {
            clearInterval(poll);
            process.kill(pid, "SIGKILL");
            killed = pid;
            // The retried try meets a throttling EMR: three answers, each retried by its client.
            requestsAtKill = emr.requests.length;
            emr.throttleNext(3);
          }
        }, 200);
      }
    });
    expect(killed, sparkjobsLines(r.output)).toBeGreaterThan(0);
    const states = taskStates(home, "it_emr_prices");
    expect([states.catalogue!.state, states.catalogue!.try_number], sparkjobsLines(r.output)).toEqual(["success", 2]);
    expect([states.dear!.state, states.dear!.try_number]).toEqual(["success", 1]);
    const catalogue = states.catalogue!.xcom as { runId: string; outputs: { catalogue: { rows: number } } };
    const dear = states.dear!.xcom as { runId: string; outputs: { catalogue: { rows: number } } };
    // Two jobs, two steps: the retry followed the step of the killed try instead of adding another.
    const steps = emr.cluster(clusterId)!.steps.slice(stepsBefore);
    expect(steps.map((s) => [s.name, s.state])).toEqual([
      [`sparkjobs catalogue ${catalogue.runId}`, "COMPLETED"],
      [`sparkjobs dear ${dear.runId}`, "COMPLETED"],
    ]);
    expect(r.output).toMatch(new RegExp(`step s-[A-Z0-9]+ of run ${catalogue.runId.replace(/\./g, "\\.")} is already on j-[A-Z0-9]+ \\((PENDING|RUNNING)\\); following it instead of adding another`));
    expect(emr.requests.slice(requestsAtKill).filter((q) => q.status === 400)).toHaveLength(3);
    // The runtime role went with each step.
    expect(steps.map((s) => s.executionRoleArn)).toEqual([ROLE, ROLE]);
    // The dear task read the catalogue run XCom gave it; rows recounted from the products file here.
    expect(steps[1]!.args.join(" ")).toContain("--plan");
    expect(catalogue.outputs.catalogue.rows).toBe(productRows);
    expect(dear.outputs.catalogue.rows).toBe(dearRows);
    // Its plan (staged under its hash) names the catalogue run the XCom value gave it.
    const dearPlan = JSON.parse((await storageFor(inject("s3Env")).readText(`${s3Root()}/stage/plans/${(states.dear!.xcom as { planSha256: string }).planSha256}.json`))!);
    expect(dearPlan.params.catalogue_run.value).toBe(catalogue.runId);
    // The CLI's stderr is in the task log: where the step's logs are.
    expect(r.output).toMatch(/submitted run \S+ to emr \(j-[A-Z0-9]+\/s-[A-Z0-9]+\); logs: s3:\/\/\S+\/steps\/s-[A-Z0-9]+\//);
    console.log(`airflow dags test it_emr_prices (emr): catalogue try 2 (its first CLI SIGKILLed with the step RUNNING), dear try 1; steps added ${steps.length} for 2 jobs: ${steps.map((s) => `${s.name} ${s.state}`).join("; ")}; XCom rows ${catalogue.outputs.catalogue.rows} and ${dear.outputs.catalogue.rows}`);
  }), 900_000);

  it("a failed gate fails its task at once; an unreachable endpoint is retried; a SIGTERM to the task (on_kill) cancels its step and YARN application", () => onTheMiniCluster(async () => {
    const stepsBefore = emr.cluster(clusterId)!.steps.length;
    let termed = false;
    const r = await dagsTest("it_failures", {}, (line, airflowPid) => {
      if (!termed && /sparkjobs pid \d+: .* run endless /.test(line)) {
        termed = true;
        const poll = setInterval(async () => {
          const step = emr.cluster(clusterId)!.steps.slice(stepsBefore).find((s) => s.name.startsWith("sparkjobs endless "));
          if (step?.state !== "RUNNING" || !step.applicationId) return;
          const app = (await (await fetch(`${inject("hadoop").resourceManager}/ws/v1/cluster/apps/${step.applicationId}`)).json()) as { app: { state: string } };
          if (app.app.state !== "RUNNING") return;
          clearInterval(poll);
          // What Airflow's supervisor sends a task it stops: the task's on_kill runs.
          process.kill(airflowPid, "SIGTERM");
        }, 500);
      }
    });
    const states = taskStates(home, "it_failures");
    const out = r.output;
    // The gate: exit 7, failed at the first try although two retries were allowed.
    expect([states.gate!.state, states.gate!.try_number], sparkjobsLines(out)).toEqual(["failed", 1]);
    expect(out).toContain("exit 7 (a quality gate failed");
    expect(out).toContain("failed gates: a_million_products); not retried");
    expect((states.gate!.summary as { checks: { name: string; outcome: string }[] }).checks).toContainEqual(expect.objectContaining({ name: "a_million_products", outcome: "error" }));
    // The unreachable endpoint: exit 12 on both tries, the retry used.
    expect([states.unreachable!.state, states.unreachable!.try_number]).toEqual(["failed", 2]);
    expect(out.match(/exit 12 \(a service could not be reached/g)?.length).toBe(2);
    // on_kill: SIGTERM to the CLI, which cancelled the step; its YARN application KILLED.
    expect(states.killed!.state).toBe("failed");
    const step = emr.cluster(clusterId)!.steps.slice(stepsBefore).find((s) => s.name.startsWith("sparkjobs endless "))!;
    expect(step.state).toBe("CANCELLED");
    expect(emr.requests.some((q) => q.operation === "CancelSteps" && q.status === 200)).toBe(true);
    const app = (await (await fetch(`${inject("hadoop").resourceManager}/ws/v1/cluster/apps/${step.applicationId}`)).json()) as { app: { state: string; finalStatus: string } };
    expect([app.app.state, app.app.finalStatus]).toEqual(["KILLED", "KILLED"]);
    expect(out).toContain("cancelling: SIGTERM to sparkjobs pid");
    expect(out).toContain("SIGTERM: cancelling the run");
    expect(out).toContain("sparkjobs exited 130 after the cancel");
    // Only the killed task's step was added: the unreachable one never reached EMR.
    expect(emr.cluster(clusterId)!.steps.slice(stepsBefore)).toHaveLength(1);
    console.log(`airflow dags test it_failures: gate failed at try ${states.gate!.try_number} of 3 (exit 7); unreachable failed after ${states.unreachable!.try_number} tries (exit 12 each); killed: step ${step.state}, YARN ${app.app.state}/${app.app.finalStatus}`);
  }), 900_000);
});
