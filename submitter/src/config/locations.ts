/**
 * Where runs live and what they are called, checked before anything is read, written or started:
 * a run id becomes a folder name, an EMR step name and a client token, and a root is the one place
 * sparkjobs writes to. Pure functions; the CLI turns their errors into exit code 2.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RUN_ID_PATTERN } from "../../../schemas/src/index.js";
import { SparkjobsError } from "../errors.js";

const RUN_ID_RULE = "1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit";

/** A run id as given to a flag: an error names the flag, the value and the rule. */
export function checkRunId(id: string, flag = "--run-id"): string {
  if (!RUN_ID_PATTERN.test(id)) {
    const why = id === "" ? "is empty" : id.length > 64 ? `is ${id.length} characters long` : /[/\\]/.test(id) ? "contains a path separator" : "is not a run id";
    throw new SparkjobsError("usage", `${flag} ${JSON.stringify(id)} ${why}`, {
      fix: `a run id is ${RUN_ID_RULE} (it names a folder under the root); leave ${flag} out for a fresh one`,
    });
  }
  return id;
}

/** A history series names a folder under <root>/history/<job>/: the same rule as a run id. */
export function checkSeries(name: string, flag = "--series"): string {
  if (!RUN_ID_PATTERN.test(name)) {
    throw new SparkjobsError("usage", `${flag} ${JSON.stringify(name)} is not a series name`, {
      fix: `a series is ${RUN_ID_RULE}, e.g. daily or brand-a (it names a folder of the history)`,
    });
  }
  return name;
}

/** S3's rules for a bucket name (general purpose buckets): 3-63 of a-z 0-9 . -, a letter or digit at each end, not an IP address. */
export function bucketProblem(bucket: string): string | undefined {
  if (bucket.length < 3 || bucket.length > 63) return `is ${bucket.length} characters long (S3 allows 3-63)`;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket)) return "may only hold lower-case letters, digits, dots and hyphens, and must begin and end with a letter or digit";
  if (/\.\.|\.-|-\./.test(bucket)) return "has two dots, or a dot beside a hyphen";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return "is an IP address";
  return undefined;
}

const SCHEMES = "a local folder, file:///absolute/path, s3://bucket/prefix (s3a:// and s3n:// name the same), or hdfs://namenode:port/path (hdfs:///path on the default file system)";

/**
 * The storage root as sparkjobs uses it: an absolute local path, or s3://bucket[/prefix] without a
 * trailing slash. Anything else is an error naming the flag: another scheme (gs://, hdfs://), an
 * S3 URI without a bucket or with one S3 would refuse, or an s3: that is not s3://. hdfs:// roots
 * keep their NameNode (or none: hdfs:///path is on the cluster's default file system).
 */
export function resolveRoot(root: string, flag = "--root"): string {
  const shown = `${flag} ${JSON.stringify(root)}`;
  if (root.trim() === "") throw new SparkjobsError("usage", `${shown} is empty`, { fix: `give ${SCHEMES}` });
  if (/[\0\n\r]/.test(root)) throw new SparkjobsError("usage", `${shown} contains a control character`, { fix: `give ${SCHEMES}` });
  // A scheme is a word before ":/" (a folder may have a colon in its name); "s3:" always means S3.
  const scheme = (/^([a-z][a-z0-9+.-]+):\//i.exec(root) ?? /^(s3[an]?):/i.exec(root))?.[1]?.toLowerCase();
  if (scheme === undefined) return resolve(root);
  if (scheme === "file") {
    let path: string;
    try {
      path = fileURLToPath(root);
    } catch (e) {
      throw new SparkjobsError("usage", `${shown} is not a file URL: ${(e as Error).message}`, { fix: "write file:///absolute/path (three slashes), or just the path" });
    }
    if (!isAbsolute(path)) throw new SparkjobsError("usage", `${shown} is not an absolute file URL`, { fix: "write file:///absolute/path, or just the path" });
    return resolve(path);
  }
  if (scheme === "s3" || scheme === "s3a" || scheme === "s3n") {
    const m = /^[a-z0-9]+:\/\/([^/]*)(\/.*)?$/i.exec(root);
    if (!m) throw new SparkjobsError("usage", `${shown} is not an S3 URI`, { fix: "write s3://bucket/prefix (two slashes after the colon)" });
    const bucket = m[1]!;
    if (bucket === "") throw new SparkjobsError("usage", `${shown} names no bucket`, { fix: "write s3://bucket/prefix" });
    const problem = bucketProblem(bucket);
    if (problem) throw new SparkjobsError("usage", `${shown}: the bucket name ${JSON.stringify(bucket)} ${problem}`, { fix: "give the name of an existing S3 bucket (s3://bucket/prefix)" });
    const prefix = (m[2] ?? "").replace(/\/+$/, "");
    if (prefix.split("/").some((part) => part === "." || part === "..")) {
      throw new SparkjobsError("usage", `${shown} has a . or .. in its prefix`, { fix: "write the prefix without . and .. (s3://bucket/a/b)" });
    }
    return `${root.slice(0, root.indexOf("://") + 3)}${bucket}${prefix}`;
  }
  if (scheme === "hdfs") {
    const m = /^hdfs:\/\/([^/]*)(\/.*)?$/i.exec(root);
    if (!m) throw new SparkjobsError("usage", `${shown} is not an HDFS URI`, { fix: "write hdfs://namenode:port/path, or hdfs:///path on the default file system" });
    const authority = m[1]!;
    if (authority && !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(authority)) {
      throw new SparkjobsError("usage", `${shown}: ${JSON.stringify(authority)} is not a NameNode host[:port] or nameservice`, { fix: "write hdfs://namenode:8020/path, or hdfs:///path on the default file system" });
    }
    const path = (m[2] ?? "").replace(/\/+$/, "");
    if (path === "") throw new SparkjobsError("usage", `${shown} names no folder`, { fix: "write hdfs:///sparkjobs (a folder, not the file system's root)" });
    if (path.split("/").some((part) => part === "." || part === "..")) {
      throw new SparkjobsError("usage", `${shown} has a . or .. in its path`, { fix: "write the path without . and .. (hdfs:///a/b)" });
    }
    return `hdfs://${authority}${path}`;
  }
  throw new SparkjobsError("usage", `${shown}: ${scheme}:// is not a storage sparkjobs can use`, { fix: `give ${SCHEMES}` });
}
