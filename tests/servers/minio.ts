/**
 * A real MinIO server on a free loopback port with its own data folder, for tests that touch S3.
 * The binary is built by `bash scripts/bootstrap.sh --with-s3` (npm test runs it).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { minioPath } from "../../submitter/src/env/where.js";

export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  dataDir: string;
  /** Environment for a process that should talk to this server (the CLI, spark-submit). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function waitHealthy(endpoint: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`minio exited with ${child.exitCode}:\n${output()}`);
    try {
      const r = await fetch(`${endpoint}/minio/health/ready`);
      if (r.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`minio at ${endpoint} was not ready after ${timeoutMs} ms:\n${output()}`);
}

export async function startMinio(options: { dataDir?: string; accessKeyId?: string; secretAccessKey?: string } = {}): Promise<S3Server> {
  const binary = minioPath();
  if (!existsSync(binary)) throw new Error(`MinIO is missing at ${binary}: run bash scripts/bootstrap.sh --with-s3 (npm test does)`);
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "sparkjobs-minio-"));
  mkdirSync(dataDir, { recursive: true });
  const accessKeyId = options.accessKeyId ?? "sparkjobs-test";
  const secretAccessKey = options.secretAccessKey ?? "sparkjobs-test-secret";
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const consolePort = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    let out = "";
    const child = spawn(binary, ["server", "--quiet", "--address", `127.0.0.1:${port}`, "--console-address", `127.0.0.1:${consolePort}`, dataDir], {
      env: { ...process.env, MINIO_ROOT_USER: accessKeyId, MINIO_ROOT_PASSWORD: secretAccessKey, MINIO_BROWSER: "off", MINIO_UPDATE: "off" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    try {
      await waitHealthy(endpoint, child, () => out, 30_000);
    } catch (e) {
      lastError = e;
      child.kill("SIGKILL");
      continue;
    }
    const region = "us-east-1";
    return {
      endpoint,
      accessKeyId,
      secretAccessKey,
      region,
      dataDir,
      env: {
        AWS_ENDPOINT_URL_S3: endpoint,
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: secretAccessKey,
        AWS_REGION: region,
      },
      stop: async () => {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once("exit", r));
          child.kill("SIGTERM");
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
          if (child.exitCode === null) child.kill("SIGKILL");
        }
        if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  throw lastError;
}
