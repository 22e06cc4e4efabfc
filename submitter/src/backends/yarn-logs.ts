/**
 * YARN's aggregated container logs, read without a Hadoop client. When an application ends, each
 * NodeManager writes one file per application to
 * {yarn.nodemanager.remote-app-log-dir}/{user}/bucket-logs-tfile/{bucket}/{application}/{node}
 * (Hadoop 3.3; older releases: .../{user}/logs/{application}/{node}), in Hadoop's TFile format.
 * Each record's key is a container id (written as a Java UTF string) and its value a
 * chunk-encoded stream of (file name, length as text, bytes) for every log file of the container.
 * Only uncompressed files are read (yarn.nodemanager.log-aggregation.compression-type=none, the
 * default); for others the caller says where the logs are and to use `yarn logs`.
 */

export interface ContainerLog {
  container: string;
  /** stdout, stderr, prelaunch.err, launch_container.sh, directory.info, ... */
  file: string;
  text: string;
}

/** Hadoop TFile's variable-length integer (org.apache.hadoop.io.file.tfile.Utils.readVLong). */
export function readVLong(b: Buffer, at: number): { value: number; next: number } {
  const first = b.readInt8(at);
  if (first >= -32) return { value: first, next: at + 1 };
  const group = Math.trunc((first + 128) / 8);
  if (group >= 7) return { value: ((first + 52) << 8) | b[at + 1]!, next: at + 2 };
  if (group >= 3) return { value: (first + 88) * 65536 + b.readUInt16BE(at + 1), next: at + 3 };
  if (group >= 1) return { value: (first + 112) * 16777216 + b.readUInt16BE(at + 1) * 256 + b[at + 3]!, next: at + 4 };
  const len = first + 129;
  if (len < 4 || len > 8) throw new Error("corrupted VLong");
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(b[at + 1 + i]!);
  if (v >= 1n << BigInt(8 * len - 1)) v -= 1n << BigInt(8 * len); // signed, big-endian
  return { value: Number(v), next: at + 1 + len };
}

const CONTAINER = /container_(e\d+_)?\d+_\d+_\d+_\d+/g;

/** Every container log in one aggregated log file (uncompressed TFile). */
export function parseAggregatedLog(file: Buffer): ContainerLog[] {
  const out: ContainerLog[] = [];
  const text = file.toString("latin1");
  for (const m of text.matchAll(CONTAINER)) {
    const start = m.index!;
    const id = m[0];
    // The key: vint(length of the UTF string + 2), then the UTF string (2-byte length, bytes).
    if (start < 3 || file.readUInt16BE(start - 2) !== id.length || file.readInt8(start - 3) !== id.length + 2) continue;
    // The value: chunks; a negative length means more chunks follow.
    let at = start + id.length;
    const chunks: Buffer[] = [];
    try {
      for (;;) {
        const { value, next } = readVLong(file, at);
        const n = Math.abs(value);
        chunks.push(file.subarray(next, next + n));
        at = next + n;
        if (value >= 0) break;
      }
    } catch {
      continue;
    }
    const body = Buffer.concat(chunks);
    let p = 0;
    while (p + 4 <= body.length) {
      const nameLength = body.readUInt16BE(p);
      const name = body.toString("utf8", p + 2, p + 2 + nameLength);
      p += 2 + nameLength;
      if (p + 2 > body.length) break;
      const lengthLength = body.readUInt16BE(p);
      const length = Number(body.toString("utf8", p + 2, p + 2 + lengthLength));
      p += 2 + lengthLength;
      if (!Number.isFinite(length) || length < 0 || p + length > body.length) break;
      out.push({ container: id, file: name, text: body.toString("utf8", p, p + length) });
      p += length;
    }
  }
  return out;
}

/** The folders where a finished application's logs may be, newest layout first. */
export function aggregatedLogDirs(remoteDir: string, user: string, applicationId: string, suffix = "logs"): string[] {
  const seq = /_(\d+)$/.exec(applicationId)?.[1] ?? "0";
  const bucket = String(Number(seq) % 10000).padStart(4, "0");
  const base = remoteDir.replace(/\/+$/, "");
  return [`${base}/${user}/bucket-${suffix}-tfile/${bucket}/${applicationId}`, `${base}/${user}/${suffix}-tfile/${applicationId}`, `${base}/${user}/${suffix}/${applicationId}`];
}

/** The ApplicationMaster's container (attempt 1's first container), where a cluster-mode driver runs. */
export function isFirstContainer(container: string): boolean {
  return /_\d+_000001$/.test(container);
}
