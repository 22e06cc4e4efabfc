/**
 * The yarn target's lifecycle on the Hadoop mini cluster (HDFS + YARN on loopback), checked in the
 * ResourceManager's own REST API, not only in what the CLI prints: a failing job's own message
 * from the aggregated container logs; SIGTERM leaving the application KILLED; a submit retried
 * after the client died following the live application while a NodeManager (and its containers)
 * is killed, with outputs equal to an undisturbed run's; and bad input, each a documented exit code.
 */
import { execFileSync, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { freePort } from "../servers/minio.js";
import { clusterPython } from "../../submitter/src/env/where.js";
import { cliAsync, copyRun, currentNodeManagers, ensureGenerated, ensureSegmentation, GEN, hadoopEnv, holdMiniCluster, manifestOf, readOutput, repo, root, SEG, startCli, storageFor, writeProductJobs } from "./helpers.js";

const hadoop = () => inject("hadoop");
const hdfsRoot = () => `${hadoop().defaultFS}/lifecycle`;

interface App {
  id: string;
  name: string;
  state: string;
  finalStatus: string;
  amHostHttpAddress?: string;
  runningContainers?: number;
  diagnostics?: string;
}

async function appsOf(runId: string): Promise<App[]> {
  const r = await fetch(`${hadoop().resourceManager}/ws/v1/cluster/apps?applicationTags=sparkjobs-run-${runId.toLowerCase()}`);
  return ((await r.json()) as { apps: { app?: App[] } | null }).apps?.app ?? [];
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Jobs on the products of the shared data set in HDFS: one that fails on purpose, one that runs until cancelled, two that split the products, one that runs long. */
const writeJobs = (productsUri: string) =>
  writeProductJobs(productsUri, "HDFS", {
    failing: "SELECT product_id, category, name, list_price FROM products WHERE CASE WHEN list_price > 0 THEN raise_error('invalid input: planted failure: a positive list_price; fix: give products with negative prices') END IS NULL",
    endless: "SELECT p.product_id, p.category, p.name, p.list_price FROM products p CROSS JOIN range(0, 2000000000) r WHERE hash(r.id, p.product_id) = 7",
    // About a minute of work on two executors, with a result that does not depend on where it ran.
    cheap: "SELECT product_id, category, name, list_price FROM products WHERE list_price <= 10",
    dear: "SELECT product_id, category, name, list_price FROM products WHERE list_price > 10",
    slow: "SELECT p.product_id, p.category, p.name, p.list_price FROM products p JOIN (SELECT CAST(pmod(hash(id), 1000) AS BIGINT) AS k, count(*) AS n FROM range(0, 60000000, 1, 24) GROUP BY 1) r ON pmod(hash(p.product_id), 1000) = r.k WHERE r.n % 2 = 0",
  });

describe("the yarn target on the Hadoop mini cluster", () => {
  let jobsDir: string;
  const onYarn = (job: string, runId: string, extra: string[] = [], env: Record<string, string> = {}) =>
    cliAsync(["run", job, "--jobs-dir", jobsDir, "--run-id", runId, "--target", "yarn", "--log-wait", "90", "--json", ...extra], { root: hdfsRoot(), env: { ...hadoopEnv(), ...env } });

  // Each test's YARN applications share the mini cluster with other files' (helpers.ts).
  let releaseCluster: (() => void) | undefined;
  beforeEach(async () => {
    releaseCluster = await holdMiniCluster("shared");
  });
  afterEach(() => releaseCluster?.());

  beforeAll(async () => {
    // The products of the shared generated data set, copied to HDFS through WebHDFS.
    ensureGenerated();
    const products = (await manifestOf(root(), GEN.runId)).outputs.products;
    const storage = storageFor();
    for (const f of products.files) await storage.put(`${hadoop().defaultFS}/lifecycle-input/products/${f.path}`, readFileSync(join(products.uri, f.path)));
    jobsDir = writeJobs(`${hadoop().defaultFS}/lifecycle-input/products`);
  });

  it("a failing job: exit 4 with the runner's own message, read from the aggregated container logs", async () => {
    const r = await onYarn("failing", "yarn-fail");
    expect(r.code, r.stderr.slice(-3000)).toBe(4);
    const json = JSON.parse(r.stdout);
    expect(json.error.message).toContain("planted failure: a positive list_price");
    expect(json.error.fix).toContain("give products with negative prices");
    const [app] = await appsOf("yarn-fail");
    expect([app!.state, app!.finalStatus]).toEqual(["FINISHED", "FAILED"]);
    const v = await cliAsync(["validate", "yarn-fail"], { root: hdfsRoot(), env: hadoopEnv() });
    expect(v.code).toBe(8);
  });

  it("a pipeline is one YARN application: tagged for its session, not for a run; each step its own manifest", async () => {
    mkdirSync(join(jobsDir, "pipelines"), { recursive: true });
    writeFileSync(join(jobsDir, "pipelines", "prices.yaml"), "name: prices\nversion: 1\ndescription: two steps, one application\nsteps:\n  - { name: cheap, job: cheap }\n  - { name: dear, job: dear }\n");
    const r = await cliAsync(["pipeline", "prices", "--jobs-dir", jobsDir, "--run-id", "yarn-pipe", "--target", "yarn", "--json"], { root: hdfsRoot(), env: hadoopEnv() });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const id = /one Spark application for the pipeline's steps \((application_\d+_\d+)\)/.exec(r.stderr)?.[1];
    expect(id, r.stderr.slice(-3000)).toBeDefined();
    const app = ((await (await fetch(`${hadoop().resourceManager}/ws/v1/cluster/apps/${id}`)).json()) as { app: App & { applicationTags: string } }).app;
    expect([app.state, app.finalStatus]).toEqual(["FINISHED", "SUCCEEDED"]);
    expect(app.name).toMatch(/^sparkjobs-session-prices-[0-9a-f]{8}$/);
    expect(app.applicationTags.split(",").sort()).toEqual(["sparkjobs", app.name]);
    // No application of a step's own: a retried submit of a step never follows the session's.
    expect(await appsOf("yarn-pipe.cheap")).toEqual([]);
    const storage = storageFor();
    const manifests = await Promise.all(["cheap", "dear"].map(async (s) => JSON.parse((await storage.readText(`${hdfsRoot()}/runs/yarn-pipe.${s}/_manifest.json`))!)));
    expect(manifests.map((m) => [m.status, m.engine.applicationId])).toEqual([["succeeded", id], ["succeeded", id]]);
    const products = (await manifestOf(root(), GEN.runId)).outputs.products;
    expect(manifests[0].outputs.catalogue.rows + manifests[1].outputs.catalogue.rows).toBe(products.rows);
    expect(await storage.list(`${hdfsRoot()}/stage/sessions/${app.name.replace("sparkjobs-session-", "")}`)).toEqual([]);
  });

  it("SIGTERM cancels the application on the cluster: the ResourceManager shows it KILLED, exit 130", async () => {
    const child = startCli(["run", "endless", "--jobs-dir", jobsDir, "--run-id", "yarn-cancel", "--target", "yarn"], { root: hdfsRoot(), env: hadoopEnv() });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await until("the application runs", async () => ((await appsOf("yarn-cancel"))[0]?.state === "RUNNING" ? true : undefined), 180_000);
    child.kill("SIGTERM");
    expect(await exited).toBe(130);
    expect(stderr).toContain("SIGTERM: cancelling the run");
    const app = await until("the application is killed", async () => {
      const a = (await appsOf("yarn-cancel"))[0];
      return a?.state === "KILLED" ? a : undefined;
    }, 60_000);
    expect(app.finalStatus).toBe("KILLED");
  });

  it("a submit retried after the client died follows the live application; a NodeManager killed while tasks run does not stop it; outputs equal an undisturbed run's", async () => {
    // A NodeManager is killed: no other file's application may be on the cluster meanwhile. This
    // test's shared hold is given back first: a process waiting for the cluster alone while it
    // holds it shared would wait forever on another such process.
    releaseCluster?.();
    releaseCluster = undefined;
    const release = await holdMiniCluster("exclusive");
    try {
      const first: ChildProcess = startCli(["run", "slow", "--jobs-dir", jobsDir, "--run-id", "yarn-node", "--target", "yarn"], { root: hdfsRoot(), env: hadoopEnv() });
      const firstExit = new Promise((resolve) => first.on("exit", resolve));
      // Running, with its executors up (the application master and two executors).
      const app = await until("the application runs with its executors", async () => {
        const a = (await appsOf("yarn-node"))[0];
        return a?.state === "RUNNING" && (a.runningContainers ?? 0) >= 3 ? a : undefined;
      }, 240_000);
      first.kill("SIGKILL"); // the orchestrator's worker died after the submit
      await firstExit;
      // The node without the application master is lost: its NodeManager and its containers are killed.
      const nodes = ((await (await fetch(`${hadoop().resourceManager}/ws/v1/cluster/nodes`)).json()) as { nodes: { node: { id: string; nodeHTTPAddress: string; state: string }[] } }).nodes.node;
      const amNode = nodes.find((n) => n.nodeHTTPAddress === app.amHostHttpAddress)!;
      const managers = currentNodeManagers();
      const victim = managers.findIndex((m) => m.nodeId !== amNode.id);
      expect(victim).toBeGreaterThanOrEqual(0);
      process.kill(managers[victim]!.pid, "SIGKILL");
      try {
        execFileSync("pkill", ["-9", "-f", `${hadoop().dir}/nodemanager-${victim}/`]);
      } catch {
        /* no container left on that node */
      }
      const r = await onYarn("slow", "yarn-node");
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      expect(r.stderr).toContain(`run yarn-node is already running as YARN application ${app.id}`);
      const apps = await appsOf("yarn-node");
      expect(apps.map((a) => [a.id, a.state, a.finalStatus])).toEqual([[app.id, "FINISHED", "SUCCEEDED"]]);
      // The same job undisturbed, by the local Spark on the same HDFS input.
      const local = await cliAsync(["run", "slow", "--jobs-dir", jobsDir, "--run-id", "local-node", "--json"], { root: hdfsRoot(), env: hadoopEnv() });
      expect(local.code, local.stderr.slice(-3000)).toBe(0);
      const storage = storageFor();
      const rows = async (runId: string) => {
        const manifest = JSON.parse((await storage.readText(`${hdfsRoot()}/runs/${runId}/_manifest.json`))!);
        return (await readOutput(manifest.outputs.catalogue, storage)).map((row) => JSON.stringify(row)).sort();
      };
      const [disturbed, undisturbed] = [await rows("yarn-node"), await rows("local-node")];
      console.log(`yarn: ${app.id} survived the loss of node ${managers[victim]!.nodeId}; ${disturbed.length} rows, as the undisturbed run`);
      expect(undisturbed.length).toBeGreaterThan(0);
      expect(disturbed).toEqual(undisturbed);
    } finally {
      release();
    }
  });

  it("XGBoost on Spark, a package the nodes' Python lacks: the run's packed environment reaches the driver and executors; the AUC recounted from the outputs", async () => {
    // The nodes' own Python (the NodeManagers' PATH) cannot import xgboost, nor pandas.
    const nodePython = join(clusterPython(), "bin", "python3");
    for (const m of ["xgboost", "pandas"]) expect(spawnSync(nodePython, ["-c", `import ${m}`]).status, m).not.toBe(0);
    ensureSegmentation();
    await copyRun(GEN.runId, hdfsRoot(), ["campaigns", "customers", "offer_truth"]);
    await copyRun(SEG.runId, hdfsRoot(), ["customer_features", "customer_segments"]);
    // The shipped response job, its gradient-boosted trees XGBoost on Spark over two workers (barrier tasks).
    const dir = join(jobsDir, "..", `${jobsDir.split("/").pop()}-xgb`);
    mkdirSync(join(dir, "mllib-configs"), { recursive: true });
    const models = readFileSync(join(repo, "jobs", "mllib-configs", "response_models.yaml"), "utf8");
    const swapped = models.replace(/\n {2}gbt:\n {4}type: gbt\n {4}params: .*\n/, "\n  gbt:\n    type: xgboost\n    params: { n_estimators: 80, max_depth: 3, learning_rate: 0.1, num_workers: 2 }\n");
    expect(swapped).not.toBe(models);
    writeFileSync(join(dir, "mllib-configs", "response_models.yaml"), swapped);
    const r = await cliAsync(["run", "response", "--jobs-dir", dir, "--run-id", "yarn-xgb", "--param", `source=${GEN.runId}`, "--param", `segments=${SEG.runId}`, "--target", "yarn", "--log-wait", "90", "--json"], { root: hdfsRoot(), env: hadoopEnv() });
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    const storage = storageFor();
    // The environment went up, content-addressed, and the driver ran its Python.
    const staged = /the Python environment (\S+) included/.exec(r.stderr)?.[1];
    expect(staged).toMatch(new RegExp(`^${hdfsRoot()}/stage/python/[0-9a-f]{16}/environment\\.tar\\.gz$`));
    expect(await storage.size(staged!)).toBeGreaterThan(50 * 2 ** 20);
    const manifest = JSON.parse((await storage.readText(`${hdfsRoot()}/runs/yarn-xgb/_manifest.json`))!);
    expect(manifest.engine.master).toBe("yarn");
    expect(manifest.engine.python.executable).toMatch(/\/environment\/bin\/python3?$/);
    expect(manifest.models.response_gbt.type).toBe("xgboost");
    // The held-out AUC, recounted here (Mann-Whitney, ties half) from the scores and labels written.
    const rows = (await readOutput(manifest.outputs.response_scores, storage)).filter((x) => x.split === "test");
    const pos = rows.filter((x) => Number(x.label) === 1).map((x) => Number(x.p_gbt));
    const neg = rows.filter((x) => Number(x.label) === 0).map((x) => Number(x.p_gbt));
    let wins = 0;
    for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
    const auc = wins / (pos.length * neg.length);
    const reported = manifest.metrics.response.models.gbt;
    console.log(`yarn xgboost: run ${(r.ms / 1000).toFixed(0)} s wall, ${(manifest.durationMs / 1000).toFixed(0)} s inside the runner; ${rows.length} held-out rows, AUC ${auc.toFixed(4)} (reported ${reported.auc.toFixed(4)}, oracle ${reported.oracleAuc?.toFixed(4)}), fit ${reported.fitSeconds} s; driver Python ${manifest.engine.python.executable}`);
    expect(reported.auc).toBeCloseTo(auc, 9);
    expect(auc).toBeGreaterThan(0.6);
    expect(reported.oracleAuc - auc).toBeLessThan(0.05);
  });

  it("bad input: each case a clear error and a documented exit code, never 1", async () => {
    const closed = await freePort();
    const cases: [string, string[], Record<string, string>, number, RegExp][] = [
      ["ResourceManager unreachable", [], { SPARKJOBS_YARN_RM_URL: `http://127.0.0.1:${closed}` }, 12, /the YARN ResourceManager at http:\/\/127\.0\.0\.1:\d+ cannot be reached/],
      ["NameNode unreachable", [], { SPARKJOBS_WEBHDFS_URL: `http://127.0.0.1:${closed}` }, 12, /the NameNode's WebHDFS at http:\/\/127\.0\.0\.1:\d+ cannot be reached/],
      ["a queue that does not exist", ["--queue", "nightly"], {}, 2, /--queue nightly: the YARN scheduler has no such queue/],
      ["an hdfs:// input that does not exist", ["--jobs-dir", writeJobs(`${hadoop().defaultFS}/no/such/products`)], {}, 4, /does not exist/],
      ["no HADOOP_CONF_DIR", [], { HADOOP_CONF_DIR: "" }, 2, /the yarn target needs HADOOP_CONF_DIR/],
      ["a local root", ["--root", join(tmpdir(), "sparkjobs-yarn-local")], {}, 2, /the yarn target needs an hdfs:\/\/ or s3:\/\/ --root/],
    ];
    const table: string[] = [];
    for (const [name, extra, env, code, message] of cases) {
      const args = extra.includes("--jobs-dir") ? extra : ["--jobs-dir", jobsDir, ...extra];
      const r = await cliAsync(["run", "failing", "--run-id", `yarn-bad-${table.length}`, "--target", "yarn", ...args], { root: hdfsRoot(), env: { ...hadoopEnv(), ...env } });
      const first = r.stderr.split("\n").find((l) => l.startsWith("error:")) ?? r.stderr.split("\n")[0]!;
      table.push(`${name.padEnd(36)} ${String(r.code).padEnd(4)} ${first}`);
      expect(r.code, `${name}: ${r.stderr.slice(-2000)}`).toBe(code);
      expect(r.stderr, name).toMatch(message);
      expect(r.stderr, name).not.toMatch(/\n\s+at /);
    }
    console.log(`case                                 exit first line\n${table.join("\n")}`);
    // None of them started an application.
    for (let i = 0; i < cases.length; i++) expect(await appsOf(`yarn-bad-${i}`), cases[i]![0]).toEqual([]);
  });
});
