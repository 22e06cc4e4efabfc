/**
 * Storage behind one small interface, so staging and result reading do not care where a run
 * lives. LocalStorage covers plain paths and file:// URIs.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

export interface Storage {
  exists(uri: string): Promise<boolean>;
  /** The text of a file, or undefined when it does not exist. */
  readText(uri: string): Promise<string | undefined>;
  /** Writes a whole file so that readers see all of it or nothing. */
  put(uri: string, body: Buffer | string): Promise<void>;
  /** Size of a file, or undefined when it does not exist. */
  size(uri: string): Promise<number | undefined>;
  /** Names directly under a folder. */
  list(uri: string): Promise<string[]>;
  /** A local path for the uri when there is one (Parquet readers use it directly). */
  localPath(uri: string): string | undefined;
}

export function toLocalPath(uri: string): string {
  return uri.startsWith("file:") ? fileURLToPath(uri) : uri;
}

export class LocalStorage implements Storage {
  async exists(uri: string) {
    return existsSync(toLocalPath(uri));
  }
  async readText(uri: string) {
    const p = toLocalPath(uri);
    return existsSync(p) ? readFileSync(p, "utf8") : undefined;
  }
  async put(uri: string, body: Buffer | string) {
    const p = toLocalPath(uri);
    mkdirSync(dirname(p), { recursive: true });
    const tmp = `${p}.tmp-${process.pid}`;
    writeFileSync(tmp, body);
    renameSync(tmp, p);
  }
  async size(uri: string) {
    const p = toLocalPath(uri);
    return existsSync(p) ? statSync(p).size : undefined;
  }
  async list(uri: string) {
    const p = toLocalPath(uri);
    return existsSync(p) ? readdirSync(p).sort() : [];
  }
  localPath(uri: string) {
    return toLocalPath(uri);
  }
}

export function isRemote(uri: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith("file:");
}
