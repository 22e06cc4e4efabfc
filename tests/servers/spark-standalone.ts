/**
 * A real Spark standalone cluster on loopback from the pinned pyspark: one master and two
 * workers (1 core each), each on free ports, with their own work folders. Spark's own JSON status
 * pages (master /json/, worker /json/) tell which worker ran which application's executors.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pythonPath, venvDir } from "../../submitter/src/env/where.js";
import { freePort } from "./minio.js";

export interface WorkerInfo {
  id: string;
  webUi: string;
  /** Kills the worker and the executors it launched at once (SIGKILL to its process group): a machine lost. */
  kill(): void;
}

export interface StandaloneCluster {
  masterUrl: string;
  masterWebUi: string;
  workers: WorkerInfo[];
  /** The master's /json/ status page. */
  masterStatus(): Promise<MasterStatus>;
  /** A worker's /json/ status page. */
  workerStatus(webUi: string): Promise<WorkerStatus>;
  stop(): Promise<void>;
}

export interface MasterStatus {
  status: string;
  workers: { id: string; host: string; port: number; webuiaddress: string; state: string; cores: number }[];
  activeapps: { id: string; name: string }[];
  completedapps: { id: string; name: string; state: string }[];
}

export interface WorkerStatus {
  id: string;
  executors: { appid: string; id: number }[];
  finishedexecutors: { appid: string; id: number }[];
}

function sparkClass(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  let out = "";
  const child = spawn(join(venvDir(), "bin", "spark-class"), args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return { child, output: () => out };
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, output: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${what} after ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }, 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      resolve();
    }
  });
}

/** `env` is added to the workers' environment (their executors inherit it): e.g. the S3 credentials cluster machines would have. */
export async function startStandaloneCluster(options: { workers?: number; workerMemory?: string; env?: Record<string, string> } = {}): Promise<StandaloneCluster> {
  const dir = mkdtempSync(join(tmpdir(), "sparkjobs-standalone-"));
  const python = pythonPath();
  const env = { ...process.env, SPARK_LOCAL_IP: "127.0.0.1", SPARK_LOG_DIR: join(dir, "logs"), PYSPARK_PYTHON: python, SPARK_NO_DAEMONIZE: "1" };
  const [port, webPort] = [await freePort(), await freePort()];
  const masterUrl = `spark://127.0.0.1:${port}`;
  const masterWebUi = `http://127.0.0.1:${webPort}`;
  const master = sparkClass(["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", String(port), "--webui-port", String(webPort)], env);
  const processes = [master.child];
  const stop = async () => {
    await Promise.all(processes.map(stopProcess));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until("the master did not come up", 60_000, async () => ((await getJson<MasterStatus>(`${masterWebUi}/json/`)).status === "ALIVE" ? true : undefined), master.output);
    const workers: WorkerInfo[] = [];
    for (let i = 0; i < (options.workers ?? 2); i++) {
      const webUi = await freePort();
      const worker = sparkClass(
        [
          "org.apache.spark.deploy.worker.Worker",
          masterUrl,
          "--host", "127.0.0.1",
          "--cores", "1",
          "--memory", options.workerMemory ?? "1500m",
          "--webui-port", String(webUi),
          "--work-dir", join(dir, `worker-${i + 1}`),
        ],
        { ...env, ...options.env },
      );
      processes.push(worker.child);
      const id = await until(`worker ${i + 1} did not come up`, 60_000, async () => (await getJson<WorkerStatus>(`http://127.0.0.1:${webUi}/json/`)).id || undefined, worker.output);
      const pid = worker.child.pid!;
      workers.push({ id, webUi: `http://127.0.0.1:${webUi}`, kill: () => process.kill(-pid, "SIGKILL") });
    }
    await until("the master does not list every worker as ALIVE", 60_000, async () => {
      const s = await getJson<MasterStatus>(`${masterWebUi}/json/`);
      return s.workers.filter((w) => w.state === "ALIVE").length === workers.length ? true : undefined;
    }, master.output);
    return {
      masterUrl,
      masterWebUi,
      workers,
      masterStatus: () => getJson<MasterStatus>(`${masterWebUi}/json/`),
      workerStatus: (webUi) => getJson<WorkerStatus>(`${webUi}/json/`),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
