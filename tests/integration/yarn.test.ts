/**
 * The yarn target's lifecycle on the Hadoop mini cluster (HDFS + YARN on loopback), checked in the
 * ResourceManager's own REST API, not only in what the CLI prints: a failing job's own message
 * from the aggregated container logs; SIGTERM leaving the application KILLED; a submit retried
 * after the client died following the live application while a NodeManager (and its containers)
 * is killed, with outputs equal to an undisturbed run's; and bad input, each a documented exit code.
 */
import { execFileSync, type ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../servers/minio.js";
import { cliAsync, currentNodeManagers, ensureGenerated, GEN, hadoopEnv, manifestOf, readOutput, root, startCli, storageFor, writeProductJobs } from "./helpers.js";

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

/** Jobs on the products of the shared data set in HDFS: one that fails on purpose, one that runs until cancelled, one that runs long. */
const writeJobs = (productsUri: string) =>
  writeProductJobs(productsUri, "HDFS", {
    failing: "SELECT product_id, category, name, list_price FROM products WHERE CASE WHEN list_price > 0 THEN raise_error('invalid input: planted failure: a positive list_price; fix: give products with negative prices') END IS NULL",
    endless: "SELECT p.product_id, p.category, p.name, p.list_price FROM products p CROSS JOIN range(0, 2000000000) r WHERE hash(r.id, p.product_id) = 7",
    // About a minute of work on two executors, with a result that does not depend on where it ran.
    slow: "SELECT p.product_id, p.category, p.name, p.list_price FROM products p JOIN (SELECT CAST(pmod(hash(id), 1000) AS BIGINT) AS k, count(*) AS n FROM range(0, 60000000, 1, 24) GROUP BY 1) r ON pmod(hash(p.product_id), 1000) = r.k WHERE r.n % 2 = 0",
  });

describe("the yarn target on the Hadoop mini cluster", () => {
  let jobsDir: string;
  const onYarn = (job: string, runId: string, extra: string[] = [], env: Record<string, string> = {}) =>
    cliAsync(["run", job, "--jobs-dir", jobsDir, "--run-id", runId, "--target", "yarn", "--log-wait", "90", "--json", ...extra], { root: hdfsRoot(), env: { ...hadoopEnv(), ...env } });

  beforeAll(async () => {
    // The products of the shared generated data set, copied to HDFS through WebHDFS.
    ensureGenerated();
    const products = (await manifestOf(root(), GEN.runId)).outputs.products;
    const storage = storageFor();
    const { readFileSync } = await import("node:fs");
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
