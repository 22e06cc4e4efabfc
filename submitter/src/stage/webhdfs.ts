/**
 * Storage on HDFS through the NameNode's REST API (WebHDFS), so the submitter needs no Hadoop
 * client of its own: staging, manifests, locks and Parquet validation work on hdfs:// roots as
 * on s3://. Reads and writes of file bodies are redirected by the NameNode to a DataNode.
 *
 * Whole-file writes go to a hidden temporary name first and are renamed into place, so a reader
 * never sees half a file; putIfAbsent relies on HDFS's rename refusing an existing destination.
 * Authentication is Hadoop's simple one (user.name = HADOOP_USER_NAME or the login name); a
 * Kerberos-secured NameNode needs SPNEGO, which this client does not speak (see the README).
 */
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { userInfo } from "node:os";
import { cachedAsyncBuffer, type AsyncBuffer } from "hyparquet";
import { SparkjobsError } from "../errors.js";
import { hdfsAuthority, readHadoopConf, webHdfsUrl, type HadoopConf } from "./hadoop-conf.js";
import type { Storage, StoredFile } from "./storage.js";

interface FileStatus {
  pathSuffix: string;
  type: "FILE" | "DIRECTORY" | "SYMLINK";
  length: number;
}

const hidden = (name: string) => name.startsWith("_") || name.startsWith(".");

export function isHdfs(uri: string): boolean {
  return /^hdfs:\/\//i.test(uri);
}

/** The path part of an hdfs:// URI ("/a/b"), without a trailing slash. */
export function hdfsPath(uri: string): string {
  const m = /^hdfs:\/\/[^/]*(\/.*)?$/i.exec(uri);
  if (!m) throw new SparkjobsError("usage", `${uri} is not an hdfs:// URI`, { fix: "write HDFS locations as hdfs://namenode:port/path or hdfs:///path" });
  const path = (m[1] ?? "/").replace(/\/+$/, "");
  return path === "" ? "/" : path;
}

/**
 * PUTs a body to a DataNode with node:http: DataNodes answer "100 Continue" before the final
 * status whether or not it was asked for, which fetch (undici) takes for a broken response.
 */
function putBody(url: string, body: Buffer): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "PUT", headers: { "content-type": "application/octet-stream", "content-length": String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(new Response(Buffer.concat(chunks).toString("utf8"), { status: res.statusCode ?? 500 })));
      res.on("error", reject);
    });
    req.on("error", (e) => reject(Object.assign(new Error(e.message), { cause: e })));
    req.end(body);
  });
}

export interface WebHdfsOptions {
  conf?: HadoopConf;
  env?: NodeJS.ProcessEnv;
  /** The HTTP client (tests inject one); the global fetch by default. */
  fetch?: typeof fetch;
}

export class WebHdfsStorage implements Storage {
  private readonly conf: HadoopConf;
  private readonly env: NodeJS.ProcessEnv;
  private readonly fetch: typeof fetch;
  private readonly user: string;

  constructor(options: WebHdfsOptions = {}) {
    this.env = options.env ?? process.env;
    this.conf = options.conf ?? readHadoopConf(this.env);
    this.fetch = options.fetch ?? fetch;
    this.user = this.env.HADOOP_USER_NAME || userInfo().username;
  }

  /** The WebHDFS URL of an operation on a URI's path. */
  private url(uri: string, op: string, params: Record<string, string> = {}): { url: string; base: string } {
    const base = webHdfsUrl(hdfsAuthority(uri, this.conf), this.conf, this.env);
    const query = new URLSearchParams({ op, "user.name": this.user, ...params });
    const path = hdfsPath(uri).split("/").map(encodeURIComponent).join("/");
    return { url: `${base}/webhdfs/v1${path}?${query}`, base };
  }

  private async request(uri: string, method: string, op: string, params: Record<string, string> = {}, body?: Buffer | string): Promise<Response> {
    const { url, base } = this.url(uri, op, params);
    let response: Response;
    try {
      response = await this.toNameNode(url, method, op);
      if (body !== undefined && response.status === 200) {
        // noredirect=true: the NameNode answers with the DataNode's address, and the body goes there.
        const { Location } = (await response.json()) as { Location: string };
        response = await putBody(Location, typeof body === "string" ? Buffer.from(body) : body);
      }
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new SparkjobsError("unreachable", `the NameNode's WebHDFS at ${base} cannot be reached (${cause?.code ?? cause?.message ?? (e as Error).message}) for ${uri}`, {
        fix: "check that HDFS is up and that HADOOP_CONF_DIR's hdfs-site.xml gives dfs.namenode.http-address (or set SPARKJOBS_WEBHDFS_URL=http://namenode:9870)",
        cause: e,
      });
    }
    return response;
  }

  /**
   * One request to the NameNode. A connection the server closed under a request (a kept-alive
   * connection it had just dropped) is tried again, twice, for every operation but RENAME, the one
   * whose second attempt could answer differently; a CREATE here only asks where to write (the
   * body goes to a DataNode after), so asking again is safe.
   */
  private async toNameNode(url: string, method: string, op: string): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.fetch(url, { method, redirect: "follow" });
      } catch (e) {
        const code = (e as { cause?: { code?: string } }).cause?.code;
        if (op === "RENAME" || attempt >= 3 || !["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"].includes(code ?? "")) throw e;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  /** An error answer as a SparkjobsError naming the operation, the URI and HDFS's own message. */
  private async failure(response: Response, what: string, uri: string): Promise<SparkjobsError> {
    let exception = "";
    let message = "";
    try {
      const body = (await response.json()) as { RemoteException?: { exception?: string; message?: string } };
      exception = body.RemoteException?.exception ?? "";
      message = body.RemoteException?.message ?? "";
    } catch {
      message = response.statusText;
    }
    const text = `HDFS refused to ${what} ${uri}: ${exception ? `${exception}: ` : ""}${message} (HTTP ${response.status})`;
    if (response.status === 401 || response.status === 403 || exception === "AccessControlException" || exception === "SecurityException") {
      return new SparkjobsError("access", text, { fix: `give the user ${this.user} (HADOOP_USER_NAME) the rights on that path, or run as a user who has them` });
    }
    if (exception === "SafeModeException" || exception === "StandbyException" || response.status >= 500) {
      return new SparkjobsError("unreachable", text, { fix: "HDFS is not serving writes now (safe mode, a standby NameNode, or a server error): try again later" });
    }
    return new SparkjobsError("environment", text, { fix: "check the path and the HDFS permissions" });
  }

  private async status(uri: string): Promise<FileStatus | undefined> {
    const r = await this.request(uri, "GET", "GETFILESTATUS");
    if (r.status === 404) return undefined;
    if (!r.ok) throw await this.failure(r, "stat", uri);
    return ((await r.json()) as { FileStatus: FileStatus }).FileStatus;
  }

  async readBytes(uri: string): Promise<Buffer | undefined> {
    const r = await this.request(uri, "GET", "OPEN");
    if (r.status === 404) return undefined;
    if (!r.ok) {
      const e = await this.failure(r, "read", uri);
      if (/is not a file|FileNotFoundException/.test(e.message)) return undefined;
      throw e;
    }
    return Buffer.from(await r.arrayBuffer());
  }

  async readText(uri: string): Promise<string | undefined> {
    return (await this.readBytes(uri))?.toString("utf8");
  }

  private async create(uri: string, body: Buffer | string, overwrite: boolean): Promise<void> {
    const r = await this.request(uri, "PUT", "CREATE", { overwrite: String(overwrite), noredirect: "true" }, body);
    if (r.status !== 201 && r.status !== 200) throw await this.failure(r, "write", uri);
  }

  private async rename(from: string, to: string): Promise<boolean> {
    const r = await this.request(from, "PUT", "RENAME", { destination: hdfsPath(to) });
    if (!r.ok) throw await this.failure(r, "rename", from);
    return ((await r.json()) as { boolean: boolean }).boolean;
  }

  private tmpFor(uri: string): string {
    const slash = uri.lastIndexOf("/");
    return `${uri.slice(0, slash + 1)}._tmp-${process.pid}-${randomUUID()}-${uri.slice(slash + 1)}`;
  }

  async put(uri: string, body: Buffer | string): Promise<void> {
    const tmp = this.tmpFor(uri);
    try {
      await this.create(tmp, body, false);
      if (await this.rename(tmp, uri)) return;
      // HDFS's rename does not replace a file: remove the old one, then move the new one in.
      await this.delete(uri);
      if (!(await this.rename(tmp, uri))) throw new SparkjobsError("environment", `could not move ${tmp} to ${uri} on HDFS`, { fix: "check the HDFS permissions of the folder" });
    } finally {
      await this.delete(tmp).catch(() => undefined);
    }
  }

  async putIfAbsent(uri: string, body: Buffer | string): Promise<boolean> {
    const tmp = this.tmpFor(uri);
    try {
      await this.create(tmp, body, false);
      // The NameNode renames atomically and never over an existing file: exactly one writer wins.
      return await this.rename(tmp, uri);
    } finally {
      await this.delete(tmp).catch(() => undefined);
    }
  }

  async delete(uri: string): Promise<void> {
    const r = await this.request(uri, "DELETE", "DELETE", { recursive: "false" });
    if (r.status === 404) return;
    if (!r.ok) throw await this.failure(r, "delete", uri);
  }

  async size(uri: string): Promise<number | undefined> {
    const s = await this.status(uri);
    return s?.type === "FILE" ? s.length : undefined;
  }

  private async listStatus(uri: string): Promise<FileStatus[]> {
    const r = await this.request(uri, "GET", "LISTSTATUS");
    if (r.status === 404) return [];
    if (!r.ok) throw await this.failure(r, "list", uri);
    return ((await r.json()) as { FileStatuses: { FileStatus: FileStatus[] } }).FileStatuses.FileStatus;
  }

  async list(uri: string): Promise<string[]> {
    const s = await this.status(uri);
    if (s?.type !== "DIRECTORY") return [];
    return (await this.listStatus(uri)).map((f) => f.pathSuffix).sort();
  }

  async listFiles(uri: string): Promise<StoredFile[]> {
    const s = await this.status(uri);
    if (!s) return [];
    if (s.type === "FILE") return [{ uri, bytes: s.length }];
    const out: StoredFile[] = [];
    const walk = async (dir: string) => {
      const entries = (await this.listStatus(dir)).filter((f) => !hidden(f.pathSuffix)).sort((a, b) => a.pathSuffix.localeCompare(b.pathSuffix));
      for (const f of entries) {
        const child = `${dir.replace(/\/+$/, "")}/${f.pathSuffix}`;
        if (f.type === "DIRECTORY") await walk(child);
        else out.push({ uri: child, bytes: f.length });
      }
    };
    await walk(uri);
    return out;
  }

  async open(uri: string): Promise<AsyncBuffer> {
    const size = await this.size(uri);
    if (size === undefined) throw new SparkjobsError("output", `${uri} does not exist on HDFS`, { fix: "check the run's manifest and outputs (sparkjobs validate)" });
    const slice = async (start: number, end?: number): Promise<ArrayBuffer> => {
      const stop = end ?? size;
      const r = await this.request(uri, "GET", "OPEN", { offset: String(start), length: String(stop - start) });
      if (!r.ok) throw await this.failure(r, "read", uri);
      return r.arrayBuffer();
    };
    return cachedAsyncBuffer({ byteLength: size, slice });
  }
}
