/**
 * Storage on S3 (and S3-compatible servers) through @aws-sdk/client-s3. s3://, s3a:// and s3n://
 * name the same objects. Large files go up in parts, so a failed upload leaves nothing behind
 * (the upload is aborted) and a finished one appears whole. Throttling, 5xx and network errors
 * are retried by the SDK's standard retry mode with backoff and jitter (aws/config.ts).
 * putIfAbsent is a conditional write (If-None-Match: *): S3 itself decides which writer wins.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { cachedAsyncBuffer, type AsyncBuffer } from "hyparquet";
import { awsClientConfig } from "../aws/config.js";
import { fromAwsError, httpStatus } from "../aws/errors.js";
import { SparkjobsError } from "../errors.js";
import type { Storage, StoredFile } from "./storage.js";

export interface S3Location {
  scheme: string;
  bucket: string;
  key: string;
}

export function parseS3Uri(uri: string): S3Location {
  const m = /^(s3[an]?):\/\/([^/]+)\/?(.*)$/i.exec(uri);
  if (!m) throw new SparkjobsError("usage", `${uri} is not an s3:// URI`, { fix: "write S3 locations as s3://bucket/prefix" });
  return { scheme: m[1]!.toLowerCase(), bucket: m[2]!, key: m[3]! };
}

export interface S3StorageOptions {
  /** Files larger than this go up as a multipart upload. */
  multipartThreshold?: number;
  /** Size of each part (S3's minimum is 5 MiB, except the last part). */
  partSize?: number;
  /** Parts uploaded at once. */
  partConcurrency?: number;
  /** The endpoint, for messages (the client's own may be the region default). */
  endpoint?: string;
}

const MiB = 1024 * 1024;
const hidden = (segment: string) => segment.startsWith("_") || segment.startsWith(".");

export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  const config = awsClientConfig("S3", env);
  // A custom endpoint (MinIO, a VPC endpoint by IP) rarely serves virtual-hosted buckets.
  return new S3Client({ ...config, ...(config.endpoint ? { forcePathStyle: true } : {}) });
}

export class S3Storage implements Storage {
  private readonly checkedBuckets = new Map<string, Promise<void>>();
  private readonly threshold: number;
  private readonly partSize: number;
  private readonly concurrency: number;
  /** Objects written by this storage (parts count once per file), for tests and run output. */
  uploads = 0;

  constructor(
    private readonly client: S3Client,
    private readonly options: S3StorageOptions = {},
  ) {
    this.partSize = Math.max(5 * MiB, options.partSize ?? 8 * MiB);
    this.threshold = Math.max(this.partSize, options.multipartThreshold ?? 16 * MiB);
    this.concurrency = Math.max(1, options.partConcurrency ?? 4);
  }

  private error(e: unknown, what: string): SparkjobsError {
    return fromAwsError(e, "S3", what, this.options.endpoint);
  }

  /** The first call on a bucket checks that it exists, so a typo gets a clear answer, not a 404 per object. */
  private bucket(loc: S3Location): Promise<void> {
    let check = this.checkedBuckets.get(loc.bucket);
    if (!check) {
      check = this.client.send(new HeadBucketCommand({ Bucket: loc.bucket })).then(
        () => undefined,
        (e) => {
          if (httpStatus(e) === 404 || (e as Error).name === "NotFound" || (e as Error).name === "NoSuchBucket") {
            throw new SparkjobsError("environment", `the S3 bucket ${loc.bucket} does not exist${this.options.endpoint ? ` at ${this.options.endpoint}` : ""}`, {
              problems: [{ path: "--root / input URI", message: `${loc.scheme}://${loc.bucket}/${loc.key}` }],
              fix: `create the bucket (infra/terraform makes one), or fix the bucket name in --root or the input URI; check AWS_REGION`,
            });
          }
          throw this.error(e, `checking bucket ${loc.bucket}`);
        },
      );
      this.checkedBuckets.set(loc.bucket, check);
    }
    return check;
  }

  async readBytes(uri: string): Promise<Buffer | undefined> {
    const loc = parseS3Uri(uri);
    await this.bucket(loc);
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (e) {
      if ((e as Error).name === "NoSuchKey" || httpStatus(e) === 404) return undefined;
      throw this.error(e, `reading ${uri}`);
    }
  }

  async readText(uri: string): Promise<string | undefined> {
    return (await this.readBytes(uri))?.toString("utf8");
  }

  async size(uri: string): Promise<number | undefined> {
    const loc = parseS3Uri(uri);
    await this.bucket(loc);
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return r.ContentLength;
    } catch (e) {
      if (httpStatus(e) === 404 || (e as Error).name === "NotFound") return undefined;
      throw this.error(e, `looking up ${uri}`);
    }
  }

  async put(uri: string, body: Buffer | string): Promise<void> {
    const loc = parseS3Uri(uri);
    await this.bucket(loc);
    const data = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    if (data.length <= this.threshold) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: loc.bucket, Key: loc.key, Body: data }));
      } catch (e) {
        throw this.error(e, `writing ${uri}`);
      }
    } else {
      await this.putMultipart(loc, uri, data);
    }
    this.uploads++;
  }

  async putIfAbsent(uri: string, body: Buffer | string): Promise<boolean> {
    const loc = parseS3Uri(uri);
    await this.bucket(loc);
    const data = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: loc.bucket, Key: loc.key, Body: data, IfNoneMatch: "*" }));
        this.uploads++;
        return true;
      } catch (e) {
        const status = httpStatus(e);
        const name = (e as Error).name;
        if (status === 412 || name === "PreconditionFailed") return false;
        // 409 ConditionalRequestConflict: another conditional write of the key is under way; S3 asks to try again.
        if ((status === 409 || name === "ConditionalRequestConflict") && attempt < 5) {
          await new Promise((r) => setTimeout(r, 50 * attempt + Math.random() * 50));
          continue;
        }
        throw this.error(e, `creating ${uri}`);
      }
    }
  }

  async delete(uri: string): Promise<void> {
    const loc = parseS3Uri(uri);
    await this.bucket(loc);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
    } catch (e) {
      if (httpStatus(e) === 404 || (e as Error).name === "NoSuchKey") return;
      throw this.error(e, `deleting ${uri}`);
    }
  }

  private async putMultipart(loc: S3Location, uri: string, data: Buffer): Promise<void> {
    let uploadId: string | undefined;
    try {
      const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: loc.bucket, Key: loc.key }));
      uploadId = created.UploadId!;
      const count = Math.ceil(data.length / this.partSize);
      const etags: string[] = new Array(count);
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const index = next++;
          const part = data.subarray(index * this.partSize, Math.min(data.length, (index + 1) * this.partSize));
          const r = await this.client.send(
            new UploadPartCommand({ Bucket: loc.bucket, Key: loc.key, UploadId: uploadId, PartNumber: index + 1, Body: part }),
          );
          etags[index] = r.ETag!;
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.concurrency, count) }, worker));
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: loc.bucket,
          Key: loc.key,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
    } catch (e) {
      if (uploadId) {
        // Parts of an upload that is not completed are invisible; aborting frees them.
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: loc.bucket, Key: loc.key, UploadId: uploadId })).catch(() => undefined);
      }
      throw this.error(e, `uploading ${uri} in parts`);
    }
  }

  private async *objects(loc: S3Location, delimiter?: string) {
    let token: string | undefined;
    do {
      const r = await this.client
        .send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: loc.key, ContinuationToken: token, ...(delimiter ? { Delimiter: delimiter } : {}) }))
        .catch((e) => {
          throw this.error(e, `listing s3://${loc.bucket}/${loc.key}`);
        });
      yield r;
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  }

  async list(uri: string): Promise<string[]> {
    const loc = parseS3Uri(uri);
    await this.bucket(loc);
    const prefix = loc.key === "" || loc.key.endsWith("/") ? loc.key : `${loc.key}/`;
    const names = new Set<string>();
    for await (const page of this.objects({ ...loc, key: prefix }, "/")) {
      for (const p of page.CommonPrefixes ?? []) names.add(p.Prefix!.slice(prefix.length).replace(/\/$/, ""));
      for (const o of page.Contents ?? []) if (o.Key !== prefix) names.add(o.Key!.slice(prefix.length));
    }
    return [...names].filter(Boolean).sort();
  }

  async listFiles(uri: string): Promise<StoredFile[]> {
    const loc = parseS3Uri(uri);
    await this.bucket(loc);
    const base = `${loc.scheme}://${loc.bucket}/`;
    const exact = await this.size(uri);
    if (exact !== undefined && !loc.key.endsWith("/") && loc.key !== "") return [{ uri, bytes: exact }];
    const prefix = loc.key === "" || loc.key.endsWith("/") ? loc.key : `${loc.key}/`;
    const files: StoredFile[] = [];
    for await (const page of this.objects({ ...loc, key: prefix })) {
      for (const o of page.Contents ?? []) {
        const rest = o.Key!.slice(prefix.length);
        // Folder markers (key/) and hidden names (_SUCCESS, .crc, _temporary/) are not data.
        if (!rest || rest.endsWith("/") || rest.split("/").some(hidden)) continue;
        files.push({ uri: `${base}${o.Key}`, bytes: o.Size ?? 0 });
      }
    }
    return files.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async open(uri: string): Promise<AsyncBuffer> {
    const loc = parseS3Uri(uri);
    const byteLength = await this.size(uri);
    if (byteLength === undefined) throw new SparkjobsError("input", `${uri} does not exist`, { fix: "check the URI" });
    const slice = async (start: number, end?: number): Promise<ArrayBuffer> => {
      const last = (end ?? byteLength) - 1;
      if (last < start) return new ArrayBuffer(0);
      try {
        const r = await this.client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key, Range: `bytes=${start}-${last}` }));
        const bytes = await r.Body!.transformToByteArray();
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      } catch (e) {
        throw this.error(e, `reading bytes ${start}-${last} of ${uri}`);
      }
    };
    return cachedAsyncBuffer({ byteLength, slice });
  }
}
