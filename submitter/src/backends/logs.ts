/**
 * Reading logs that services copy to S3 some time after the fact (EMR step logs every few
 * minutes, EMR Serverless driver logs while the job runs): wait for them, bounded, then gunzip.
 */
import { gunzipSync } from "node:zlib";
import type { Storage } from "../stage/storage.js";
import type { Clock } from "../wait/poll.js";

/** EMR gives its LogUri as s3n://; the objects are the same under s3://. */
export function s3LogUri(uri: string): string {
  return uri.replace(/^s3[an]:\/\//i, "s3://").replace(/\/+$/, "");
}

/** The text of a (possibly gzipped) log, waiting up to waitMs for it to appear; undefined if it never does. */
export async function readLogWhenThere(storage: Storage, uri: string, clock: Clock, waitMs: number, everyMs = 5000): Promise<string | undefined> {
  const deadline = clock.now() + waitMs;
  for (;;) {
    const bytes = await storage.readBytes(uri);
    if (bytes) return (uri.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
    const left = deadline - clock.now();
    if (left <= 0) return undefined;
    await clock.sleep(Math.min(everyMs, left));
  }
}

export function tail(text: string, lines: number): string {
  return text.replace(/\n+$/, "").split("\n").slice(-lines).join("\n");
}
