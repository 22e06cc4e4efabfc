/**
 * The run lock on a real S3 server (MinIO on loopback): putIfAbsent is a conditional PUT that the
 * server decides (If-None-Match: *), so of concurrent writers exactly one creates the object, and
 * the lock's acquire, refusal, takeover and release work on an s3:// root. No Spark runs here.
 */
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { SparkjobsError } from "../../submitter/src/errors.js";
import { httpStatus } from "../../submitter/src/aws/errors.js";
import { acquireRunLock, LEASE_MARGIN_MS, lockUri } from "../../submitter/src/stage/lock.js";
import { S3Storage, s3ClientFromEnv } from "../../submitter/src/stage/s3.js";
import { LocalStorage, RoutedStorage } from "../../submitter/src/stage/storage.js";

describe("run lock on a real S3 server", () => {
  let client: S3Client;
  let s3: S3Storage;
  const bucket = () => inject("s3Bucket");
  const prefix = () => `s3://${bucket()}/lock-test/${randomUUID()}`;

  beforeAll(() => {
    client = s3ClientFromEnv({ ...process.env, ...inject("s3Env") });
    s3 = new S3Storage(client);
  });

  it("the server refuses a conditional PUT of an existing key with 412 and keeps the first body", async () => {
    const key = `lock-test/${randomUUID()}/raw.json`;
    await client.send(new PutObjectCommand({ Bucket: bucket(), Key: key, Body: "first", IfNoneMatch: "*" }));
    const error = await client.send(new PutObjectCommand({ Bucket: bucket(), Key: key, Body: "second", IfNoneMatch: "*" })).then(() => undefined, (e: unknown) => e);
    expect(error, "the server accepted If-None-Match: * on an existing key").toBeDefined();
    expect([httpStatus(error), (error as Error).name]).toEqual([412, "PreconditionFailed"]);
    expect(await s3.readText(`s3://${bucket()}/${key}`)).toBe("first");
  });

  it("putIfAbsent creates a missing object once: true, then false, and the first body stays", async () => {
    const uri = `${prefix()}/once.json`;
    expect(await s3.putIfAbsent(uri, "one")).toBe(true);
    expect(await s3.putIfAbsent(uri, "two")).toBe(false);
    expect(await s3.readText(uri)).toBe("one");
    await s3.delete(uri);
    expect(await s3.readText(uri)).toBeUndefined();
    await s3.delete(uri);
  });

  it("of ten concurrent putIfAbsent on one key exactly one is true, and its body is the object's", async () => {
    const uri = `${prefix()}/race.json`;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => s3.putIfAbsent(uri, `writer ${i}`)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await s3.readText(uri)).toBe(`writer ${results.indexOf(true)}`);
  });

  it("a run lock on an s3:// root is acquired, refuses a second submit with exit 11 and the aws s3 rm fix, is taken over when stale, and released", async () => {
    const storage = new RoutedStorage(new LocalStorage(), () => s3);
    const root = prefix();
    const request = { root, runId: "r1", planSha256: "a".repeat(64), target: "emr", timeoutMs: 60_000 };
    const t0 = Date.now();
    const first = await acquireRunLock(storage, request, { now: () => t0, host: "host-a", pid: 1, isAlive: () => true });
    expect(JSON.parse((await storage.readText(lockUri(root, "r1")))!)).toEqual(first.content);

    const refused = await acquireRunLock(storage, request, { now: () => t0, host: "host-b", pid: 2, isAlive: () => true }).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(SparkjobsError);
    expect((refused as SparkjobsError).exitCode).toBe(11);
    expect((refused as SparkjobsError).message).toContain(`by host-a pid 1 (target emr, since ${first.content.acquiredAt}); lock ${root}/locks/r1.json`);
    expect((refused as SparkjobsError).fix).toContain(`aws s3 rm ${root}/locks/r1.json`);

    const later = t0 + 60_000 + LEASE_MARGIN_MS;
    const second = await acquireRunLock(storage, request, { now: () => later, host: "host-b", pid: 2, isAlive: () => true });
    await first.release();
    expect(JSON.parse((await storage.readText(lockUri(root, "r1")))!)).toEqual(second.content);
    await second.release();
    expect(await storage.readText(lockUri(root, "r1"))).toBeUndefined();
    const third = await acquireRunLock(storage, request, { now: () => later, host: "host-c", pid: 3, isAlive: () => true });
    await third.release();
  });
});
