/**
 * S3Storage against the real S3 server (MinIO on loopback), with a fault-injecting proxy in front
 * of it for throttling, 5xx and failures halfway through a multipart upload.
 */
import { ListMultipartUploadsCommand, S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SparkjobsError } from "../../submitter/src/errors.js";
import { S3Storage, s3ClientFromEnv } from "../../submitter/src/stage/s3.js";
import { freePort } from "../servers/minio.js";
import { startFaultProxy, type FaultProxy } from "../servers/fault-proxy.js";

const MiB = 1024 * 1024;

describe("S3Storage on a real S3 server", () => {
  let proxy: FaultProxy;
  let direct: S3Storage;
  let client: S3Client;
  const bucket = () => inject("s3Bucket");
  const env = (over: Record<string, string> = {}) => ({ ...process.env, ...inject("s3Env"), ...over });
  const viaProxy = (attempts = 4) =>
    new S3Storage(s3ClientFromEnv(env({ AWS_ENDPOINT_URL_S3: proxy.endpoint, SPARKJOBS_AWS_MAX_ATTEMPTS: String(attempts) })), {
      multipartThreshold: 5 * MiB,
      partSize: 5 * MiB,
      partConcurrency: 2,
      endpoint: proxy.endpoint,
    });

  beforeAll(async () => {
    proxy = await startFaultProxy(inject("s3Env").AWS_ENDPOINT_URL_S3!);
    client = s3ClientFromEnv(env());
    direct = new S3Storage(client);
  });
  afterAll(() => proxy?.stop());

  it("writes, reads, sizes and lists objects; listFiles leaves out _SUCCESS and hidden files", async () => {
    const base = `s3://${bucket()}/storage-test/out`;
    await direct.put(`${base}/part-0.parquet`, "a");
    await direct.put(`${base}/sub/part-1.parquet`, "bb");
    await direct.put(`${base}/_SUCCESS`, "");
    await direct.put(`${base}/.part-0.crc`, "x");
    expect(await direct.readText(`${base}/part-0.parquet`)).toBe("a");
    expect(await direct.readText(`${base}/nope`)).toBeUndefined();
    expect(await direct.size(`${base}/sub/part-1.parquet`)).toBe(2);
    expect(await direct.size(`${base}/nope`)).toBeUndefined();
    expect(await direct.list(base)).toEqual([".part-0.crc", "_SUCCESS", "part-0.parquet", "sub"]);
    expect(await direct.listFiles(base)).toEqual([
      { uri: `${base}/part-0.parquet`, bytes: 1 },
      { uri: `${base}/sub/part-1.parquet`, bytes: 2 },
    ]);
    // s3a:// and s3n:// name the same objects.
    expect(await direct.readText(`s3a://${bucket()}/storage-test/out/part-0.parquet`)).toBe("a");
  });

  it("uploads a large file in parts and reads back the same bytes, ranges included", async () => {
    proxy.clear();
    const data = randomBytes(12 * MiB + 123);
    const uri = `s3://${bucket()}/storage-test/big.bin`;
    await viaProxy().put(uri, data);
    const parts = proxy.seen.filter((r) => r.method === "PUT" && r.path.includes("partNumber="));
    expect(parts.map((p) => p.status)).toEqual([200, 200, 200]);
    expect(proxy.seen.some((r) => r.method === "POST" && r.path.includes("uploads"))).toBe(true);
    expect((await direct.readBytes(uri))!.equals(data)).toBe(true);
    const file = await direct.open(uri);
    expect(file.byteLength).toBe(data.length);
    expect(Buffer.from(await file.slice(5 * MiB - 2, 5 * MiB + 2)).equals(data.subarray(5 * MiB - 2, 5 * MiB + 2))).toBe(true);
  });

  it("retries throttling (503 SlowDown) and 500s with backoff, and then succeeds", async () => {
    proxy.clear();
    proxy.inject({ method: "PUT", times: 2, status: 503 });
    proxy.inject({ method: "GET", match: (p) => p.includes("throttled.txt"), times: 2, status: 500 });
    const storage = viaProxy();
    const uri = `s3://${bucket()}/storage-test/throttled.txt`;
    await storage.put(uri, "kept");
    expect(await storage.readText(uri)).toBe("kept");
    const puts = proxy.seen.filter((r) => r.method === "PUT").map((r) => r.status);
    const gets = proxy.seen.filter((r) => r.method === "GET" && r.path.includes("throttled.txt")).map((r) => r.status);
    console.log(`PUT answers ${puts.join(",")}; GET answers ${gets.join(",")}`);
    expect(puts).toEqual([503, 503, 200]);
    expect(gets).toEqual([500, 500, 200]);
  });

  it("a multipart upload that keeps failing is aborted: no object, no parts left behind (exit 12)", async () => {
    proxy.clear();
    proxy.inject({ method: "PUT", match: (p) => p.includes("partNumber=2"), times: Infinity, status: 500 });
    const uri = `s3://${bucket()}/storage-test/half.bin`;
    const error = await viaProxy(2).put(uri, randomBytes(11 * MiB)).then(() => undefined, (e) => e);
    proxy.clear();
    expect(error).toBeInstanceOf(SparkjobsError);
    expect(error.kind).toBe("unreachable");
    expect(error.exitCode).toBe(12);
    expect(error.message).toMatch(/S3 at http:\/\/127\.0\.0\.1:\d+ kept failing while uploading s3:\/\/.*half\.bin in parts \(2 attempts, with backoff\)/);
    expect(await direct.size(uri)).toBeUndefined();
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket(), Prefix: "storage-test/half.bin" }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it("a bucket that does not exist is named, with the fix (exit 9)", async () => {
    const error = await direct.readText("s3://no-such-bucket-sparkjobs/x").then(() => undefined, (e) => e);
    expect(error.exitCode).toBe(9);
    expect(error.message).toBe("the S3 bucket no-such-bucket-sparkjobs does not exist");
    expect(error.fix).toContain("create the bucket");
  });

  it("wrong credentials are an access error (exit 13), not retried", async () => {
    const storage = new S3Storage(s3ClientFromEnv(env({ AWS_SECRET_ACCESS_KEY: "wrong-secret" })));
    const error = await storage.readText(`s3://${bucket()}/storage-test/throttled.txt`).then(() => undefined, (e) => e);
    expect(error.exitCode).toBe(13);
    expect(error.message).toMatch(/refused the credentials/);
    expect(error.fix).toMatch(/AWS_ACCESS_KEY_ID/);
  });

  it("an endpoint that accepts connections and never answers times out: exit 12, not a hang", async () => {
    const { createServer } = await import("node:net");
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const endpoint = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const storage = new S3Storage(s3ClientFromEnv(env({ AWS_ENDPOINT_URL_S3: endpoint, SPARKJOBS_AWS_MAX_ATTEMPTS: "2", SPARKJOBS_AWS_TIMEOUT_SECONDS: "1" })), { endpoint });
      const started = Date.now();
      const error = await storage.readText(`s3://${bucket()}/x`).then(() => undefined, (e) => e);
      expect(error?.exitCode, String(error)).toBe(12);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      silent.close();
    }
  });

  it("an endpoint nobody listens on is unreachable (exit 12) after a bounded number of attempts", async () => {
    const port = await freePort();
    const storage = new S3Storage(s3ClientFromEnv(env({ AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, SPARKJOBS_AWS_MAX_ATTEMPTS: "2" })), { endpoint: `http://127.0.0.1:${port}` });
    const error = await storage.readText(`s3://${bucket()}/x`).then(() => undefined, (e) => e);
    expect(error.exitCode).toBe(12);
    expect(error.message).toMatch(new RegExp(`S3 at http://127.0.0.1:${port} could not be reached`));
  });
});
