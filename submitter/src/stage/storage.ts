/**
 * Storage behind one small interface, so staging, input checks and result reading do not care
 * where a run lives. LocalStorage covers plain paths and file:// URIs, S3Storage (s3.ts) covers
 * s3://, s3a:// and s3n://, WebHdfsStorage (webhdfs.ts) covers hdfs://, and RoutedStorage picks one by the URI's scheme.
 */
import { randomUUID } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { asyncBufferFromFile, type AsyncBuffer } from "hyparquet";
import { SparkjobsError } from "../errors.js";

export interface StoredFile {
  uri: string;
  bytes: number;
}

export interface Storage {
  /** The text of a file, or undefined when it does not exist. */
  readText(uri: string): Promise<string | undefined>;
  /** The bytes of a file, or undefined when it does not exist. */
  readBytes(uri: string): Promise<Buffer | undefined>;
  /** Writes a whole file so that readers see all of it or nothing. */
  put(uri: string, body: Buffer | string): Promise<void>;
  /**
   * Creates a file only when nothing is there, atomically: of several writers at once exactly one
   * gets true and readers see its whole body; false means the file already existed.
   */
  putIfAbsent(uri: string, body: Buffer | string): Promise<boolean>;
  /** Removes a file; a file that is not there is no error. */
  delete(uri: string): Promise<void>;
  /** Size of a file, or undefined when it does not exist. */
  size(uri: string): Promise<number | undefined>;
  /** Names directly under a folder (files and sub-folders). */
  list(uri: string): Promise<string[]>;
  /**
   * The data files under a folder, recursively, sorted by URI, leaving out names that start with
   * _ or . (Spark's _SUCCESS, .crc files); a URI naming one file gives that file.
   */
  listFiles(uri: string): Promise<StoredFile[]>;
  /** Random access to a file, for reading Parquet footers and row groups without reading it all. */
  open(uri: string): Promise<AsyncBuffer>;
}

export function toLocalPath(uri: string): string {
  return uri.startsWith("file:") ? fileURLToPath(uri) : uri;
}

const hidden = (name: string) => name.startsWith("_") || name.startsWith(".");

/** A failed local write as the user can act on it: which path, why, and what to do (exit 9). */
export function localWriteError(path: string, e: NodeJS.ErrnoException): Error {
  const fix = "give --root (or SPARKJOBS_ROOT) a folder this user can write, on a disk with room";
  switch (e.code) {
    case "ENOTDIR":
    case "EEXIST": {
      let file = dirname(path);
      while (file !== dirname(file) && !(existsSync(file) && statSync(file).isFile())) file = dirname(file);
      return new SparkjobsError("environment", `cannot write ${path}: ${file} is a file, not a folder`, { fix });
    }
    case "EACCES":
    case "EPERM":
      return new SparkjobsError("environment", `cannot write ${path}: permission denied`, { fix });
    case "EROFS":
      return new SparkjobsError("environment", `cannot write ${path}: the file system is read-only`, { fix });
    case "ENOSPC":
    case "EDQUOT":
      return new SparkjobsError("environment", `cannot write ${path}: no space left on the device`, { fix: "free some space, or give --root a folder on another disk" });
    default:
      return e;
  }
}

export class LocalStorage implements Storage {
  async readText(uri: string) {
    return (await this.readBytes(uri))?.toString("utf8");
  }
  async readBytes(uri: string) {
    const p = toLocalPath(uri);
    return existsSync(p) && statSync(p).isFile() ? readFileSync(p) : undefined;
  }
  async put(uri: string, body: Buffer | string) {
    const p = toLocalPath(uri);
    const tmp = `${p}.tmp-${process.pid}`;
    try {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(tmp, body);
      renameSync(tmp, p);
    } catch (e) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // nothing was written there
      }
      throw localWriteError(p, e as NodeJS.ErrnoException);
    }
  }
  async putIfAbsent(uri: string, body: Buffer | string) {
    const p = toLocalPath(uri);
    // The body goes to a private file first and is hard-linked into place: link() fails when the
    // name exists, so creation is exclusive and the file never appears half-written.
    const tmp = `${p}.tmp-${process.pid}-${randomUUID()}`;
    try {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(tmp, body, { flag: "wx" });
      try {
        linkSync(tmp, p);
        return true;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EEXIST") return false;
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw e;
      }
      // A file system without hard links: an exclusive create, written right after.
      try {
        writeFileSync(p, body, { flag: "wx" });
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw e;
      }
    } catch (e) {
      throw localWriteError(p, e as NodeJS.ErrnoException);
    } finally {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // nothing was written there
      }
    }
  }
  async delete(uri: string) {
    const p = toLocalPath(uri);
    try {
      rmSync(p, { force: true });
    } catch (e) {
      throw localWriteError(p, e as NodeJS.ErrnoException);
    }
  }
  async size(uri: string) {
    const p = toLocalPath(uri);
    return existsSync(p) && statSync(p).isFile() ? statSync(p).size : undefined;
  }
  async list(uri: string) {
    const p = toLocalPath(uri);
    return existsSync(p) && statSync(p).isDirectory() ? readdirSync(p).sort() : [];
  }
  async listFiles(uri: string) {
    const base = toLocalPath(uri);
    if (!existsSync(base)) return [];
    if (statSync(base).isFile()) return [{ uri, bytes: statSync(base).size }];
    const out: StoredFile[] = [];
    const walk = (dir: string, prefix: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (hidden(entry.name)) continue;
        const full = join(dir, entry.name);
        if (entry.isDirectory()) walk(full, `${prefix}${entry.name}/`);
        else out.push({ uri: `${uri.replace(/\/+$/, "")}/${prefix}${entry.name}`, bytes: statSync(full).size });
      }
    };
    walk(base, "");
    return out;
  }
  async open(uri: string) {
    return asyncBufferFromFile(toLocalPath(uri));
  }
}

/** True for URIs served by an object store rather than the local file system. */
export function isRemote(uri: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith("file:");
}

export function isS3(uri: string): boolean {
  return /^s3[an]?:\/\//i.test(uri);
}

/** Dispatches each call by the URI's scheme; the S3 side is built only when an s3 URI is used. */
export class RoutedStorage implements Storage {
  private s3?: Storage;
  private hdfs?: Storage;
  constructor(
    private readonly local: Storage,
    private readonly makeS3: () => Storage,
    private readonly makeHdfs?: () => Storage,
  ) {}
  private pick(uri: string): Storage {
    if (isS3(uri)) return (this.s3 ??= this.makeS3());
    if (this.makeHdfs && /^hdfs:\/\//i.test(uri)) return (this.hdfs ??= this.makeHdfs());
    if (isRemote(uri)) throw new UnsupportedSchemeError(uri);
    return this.local;
  }
  readText(uri: string) {
    return this.pick(uri).readText(uri);
  }
  readBytes(uri: string) {
    return this.pick(uri).readBytes(uri);
  }
  put(uri: string, body: Buffer | string) {
    return this.pick(uri).put(uri, body);
  }
  putIfAbsent(uri: string, body: Buffer | string) {
    return this.pick(uri).putIfAbsent(uri, body);
  }
  delete(uri: string) {
    return this.pick(uri).delete(uri);
  }
  size(uri: string) {
    return this.pick(uri).size(uri);
  }
  list(uri: string) {
    return this.pick(uri).list(uri);
  }
  listFiles(uri: string) {
    return this.pick(uri).listFiles(uri);
  }
  open(uri: string) {
    return this.pick(uri).open(uri);
  }
}

export class UnsupportedSchemeError extends Error {
  constructor(readonly uri: string) {
    super(`${uri}: only local paths, file://, s3:// (s3a://, s3n://) and hdfs:// URIs are supported`);
  }
}
