/**
 * Faults survived: a full disk under a local root, S3 throttling and 5xx during Spark's own S3A
 * reads and writes (a fault proxy in front of the real S3 server), the submitter killed while
 * it uploads, and two submits of one run id at once. Each either completes with the right outputs, or fails clearly with nothing written
 * that could be read as a result.
 */
import { GetObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { s3ClientFromEnv } from "../../submitter/src/stage/s3.js";
import { startFaultProxy, type FaultProxy } from "../servers/fault-proxy.js";
import { cliAsync, cliJson, cliPath, python, readOutput, repo, root, startCli } from "./helpers.js";

let jobsDir: string;
let data: string;

/** A team's job that copies a segments table: small, so the faults are what the test is about. */
function writeJob() {
  jobsDir = mkdtempSync(join(tmpdir(), "sparkjobs-faults-jobs-"));
  mkdirSync(join(jobsDir, "spark-sql"));
  writeFileSync(join(jobsDir, "spark-sql", "copy.sql"), "SELECT * FROM segments_in\n");
  writeFileSync(
    join(jobsDir, "copy-segments.yaml"),
    `name: copy-segments
version: 1
description: a team's segments, copied as they are
params:
  segments: { type: path }
inputs:
  segments_in: { uri: "{segments}", schema: customer_segments }
stages:
  - { kind: sql, name: customer_segments, file: copy.sql }
outputs:
  customer_segments: { from: customer_segments, schema: customer_segments, files: 2 }
`,
  );
}

function makeSegments(name: string, customers: number): string {
  const dir = join(data, name);
  execFileSync(python(), [join(repo, "tests", "integration", "make_segments.py"), dir, JSON.stringify({ loyal: 0.5, churning: 0.5 }), String(customers), "0", "3"]);
  return join(dir, "segments");
}

/** Runs a shell script in a mount namespace of its own, where `root` is a tmpfs of `size`: a small disk that fills up. */
function onSmallDisk(root: string, size: string, command: string[]): { code: number; out: string; manifests: string } {
  mkdirSync(root, { recursive: true });
  const script = `mount -t tmpfs -o size=${size} tmpfs "$ROOT" || exit 99
"$@" > "$ROOT.out" 2>&1; code=$?
echo "EXIT $code" >> "$ROOT.out"
find "$ROOT" -name _manifest.json >> "$ROOT.out"
exit 0`;
  const r = spawnSync("unshare", ["--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", ...command], {
    env: { ...process.env, ROOT: root, SPARKJOBS_ROOT: root },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`a tmpfs could not be mounted in a mount namespace (unshare exit ${r.status}): ${r.stderr}`);
  const out = readFileSync(`${root}.out`, "utf8");
  const code = Number(out.match(/^EXIT (\d+)$/m)![1]);
  return { code, out: out.slice(0, out.lastIndexOf("EXIT ")), manifests: out.slice(out.lastIndexOf("EXIT ")).split("\n").slice(1).join("\n").trim() };
}

beforeAll(() => {
  data = mkdtempSync(join(tmpdir(), "sparkjobs-faults-data-"));
  writeJob();
});

describe("a full disk under a local root", () => {
  it("staging into a full disk is exit 9 naming the file and the fix; Spark's writes into it are exit 9 too, and no manifest is written", () => {
    const small = makeSegments("small", 1000);
    const staging = onSmallDisk(join(data, "disk-16k"), "16k", [process.execPath, cliPath, "run", "copy-segments", "--jobs-dir", jobsDir, "--param", `segments=${small}`, "--run-id", "it-full-1"]);
    expect(staging.code, staging.out).toBe(9);
    expect(staging.out).toMatch(/^error: .*(no space left|full)/im);
    expect(staging.out).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
    expect(staging.manifests).toBe("");

    // The code and the plan fit; the output (about 3 MB of random numbers) does not.
    const big = makeSegments("big", 100_000);
    const writing = onSmallDisk(join(data, "disk-1m"), "1m", [process.execPath, cliPath, "run", "copy-segments", "--jobs-dir", jobsDir, "--param", `segments=${big}`, "--run-id", "it-full-2"]);
    expect(writing.code, writing.out.slice(-3000)).toBe(9);
    expect(writing.out).toMatch(/^error: run it-full-2 failed: the disk is full where the run writes \(.*it-full-2\/customer_segments\): .*No space left on device/m);
    expect(writing.out).toContain("fix: free space under the root, or give a --root with room; then rerun the same --run-id");
    expect(writing.manifests).toBe("");
  });
});

describe("S3 faults during Spark's own reads and writes (S3A through a fault proxy)", () => {
  let proxy: FaultProxy;
  const bucket = () => inject("s3Bucket");
  const s3 = () => s3ClientFromEnv({ ...process.env, ...inject("s3Env") });
  const viaProxy = () => ({ ...inject("s3Env"), AWS_ENDPOINT_URL_S3: proxy.endpoint, SPARKJOBS_ROOT: `s3://${bucket()}/faults` });
  let input: string;
  let inputRows: Record<string, unknown>[];

  beforeAll(async () => {
    proxy = await startFaultProxy(inject("s3Env").AWS_ENDPOINT_URL_S3!);
    const local = makeSegments("s3", 2000);
    await s3().send(new PutObjectCommand({ Bucket: bucket(), Key: "faults-in/segments/part-0.parquet", Body: readFileSync(join(local, "part-0.parquet")) }));
    input = `s3://${bucket()}/faults-in/segments`;
    inputRows = await readOutput({ uri: local, files: [{ path: "part-0.parquet" }] });
  });
  afterAll(() => proxy?.stop());

  /** The CLI runs as a child that does not block this process: the proxy answers it from here. */
  const viaProxyCli = async (args: string[], env: Record<string, string> = viaProxy()) => {
    const result = await cliAsync(args, { env });
    let json: any;
    try {
      json = JSON.parse(result.stdout);
    } catch {
      json = undefined;
    }
    return { result, json };
  };
  const sortedRows = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify([r.customer_id, r.segment, r.monetary])).sort();

  it("throttling (503 SlowDown) and 500s on S3A's reads and writes are retried: the run completes with every row", async () => {
    proxy.clear();
    proxy.inject({ method: "PUT", match: (p) => p.includes("/faults/runs/it-s3fault-1/"), times: 4, status: 503, agent: /hadoop/i });
    proxy.inject({ method: "GET", match: (p) => p.includes("/faults-in/segments/part-0.parquet"), times: 3, status: 500, agent: /hadoop/i });
    const r = await viaProxyCli(["run", "copy-segments", "--jobs-dir", jobsDir, "--param", `segments=${input}`, "--run-id", "it-s3fault-1", "--json"]);
    expect(r.result.code, r.result.stderr.slice(-3000)).toBe(0);
    const faulted = proxy.seen.filter((s) => s.status === 503 || s.status === 500);
    expect(faulted.map((s) => `${s.method} ${s.status}`).sort()).toEqual(["GET 500", "GET 500", "GET 500", "PUT 503", "PUT 503", "PUT 503", "PUT 503"]);
    // they were Spark's own requests (Hadoop S3A), not the submitter's, and S3A sent them again
    expect(faulted.every((s) => /hadoop/i.test(s.agent)), faulted.map((s) => s.agent).join("\n")).toBe(true);
    expect(proxy.seen.some((s) => s.method === "PUT" && s.status === 200 && /hadoop/i.test(s.agent) && s.path.includes("/faults/runs/it-s3fault-1/customer_segments/"))).toBe(true);
    const manifest = JSON.parse(await (await s3().send(new GetObjectCommand({ Bucket: bucket(), Key: "faults/runs/it-s3fault-1/_manifest.json" }))).Body!.transformToString());
    const out = manifest.outputs.customer_segments;
    const rows: Record<string, unknown>[] = [];
    for (const f of out.files) {
      const bytes = await (await s3().send(new GetObjectCommand({ Bucket: bucket(), Key: `faults/runs/it-s3fault-1/customer_segments/${f.path}` }))).Body!.transformToByteArray();
      const file = join(data, `it-s3fault-1-${f.path}`);
      writeFileSync(file, bytes);
      rows.push(...(await readOutput({ uri: data, files: [{ path: `it-s3fault-1-${f.path}` }] })));
    }
    expect(rows).toHaveLength(inputRows.length);
    expect(sortedRows(rows)).toEqual(sortedRows(inputRows));
  });

  it("writes that keep failing end the run with exit 5 and no manifest: the run is incomplete, never a result", async () => {
    proxy.clear();
    proxy.inject({ method: "PUT", match: (p) => p.includes("/faults/runs/it-s3fault-2/"), times: Infinity, status: 500, agent: /hadoop/i });
    const fewRetries = ["-c", "spark.hadoop.fs.s3a.retry.limit=1", "-c", "spark.hadoop.fs.s3a.retry.interval=50ms", "-c", "spark.hadoop.fs.s3a.attempts.maximum=1", "-c", "spark.task.maxFailures=1"];
    const { result: r } = await viaProxyCli(["run", "copy-segments", "--jobs-dir", jobsDir, "--param", `segments=${input}`, "--run-id", "it-s3fault-2", ...fewRetries]);
    expect(r.code, r.stderr.slice(-3000)).toBe(5);
    expect(r.stderr).toMatch(/^error: run it-s3fault-2 failed: writing output customer_segments .*failed/m);
    expect(proxy.seen.some((s) => s.method === "PUT" && s.status === 500 && /hadoop/i.test(s.agent))).toBe(true);
    const manifest = await s3().send(new GetObjectCommand({ Bucket: bucket(), Key: "faults/runs/it-s3fault-2/_manifest.json" })).catch((e) => e.name);
    expect(manifest).toBe("NoSuchKey");
    proxy.clear();
    const { result: v } = await viaProxyCli(["validate", "it-s3fault-2"]);
    expect(v.code).toBe(8);
  });

  it("the submitter killed while it uploads leaves no object and no unfinished upload; the next stage uploads it whole", async () => {
    proxy.clear();
    proxy.inject({ method: "PUT", match: (p) => p.includes("sparkjobs_runner.zip"), times: 1, status: "hang" });
    const env = { ...viaProxy(), SPARKJOBS_ROOT: `s3://${bucket()}/upload-kill` };
    const args = ["stage", "copy-segments", "--jobs-dir", jobsDir, "--param", `segments=${input}`, "--run-id", "it-upload-kill"];
    const child = startCli(args, { env });
    const started = Date.now();
    while (!proxy.seen.some((s) => s.status === "hung")) {
      if (Date.now() - started > 60_000) throw new Error("the upload of the runner code never started");
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    const key = proxy.seen.find((s) => s.status === "hung")!.path.split("?")[0]!.replace(`/${bucket()}/`, "");
    const there = await s3().send(new GetObjectCommand({ Bucket: bucket(), Key: key })).catch((e) => e.name);
    expect(there).toBe("NoSuchKey");
    const uploads = await s3().send(new ListMultipartUploadsCommand({ Bucket: bucket(), Prefix: "upload-kill/" }));
    expect(uploads.Uploads ?? []).toEqual([]);

    proxy.clear();
    const again = await viaProxyCli([...args, "--json"], env);
    expect(again.result.code, again.result.stderr).toBe(0);
    expect(again.json.uploaded).toContain(`s3://${bucket()}/${key}`);
    const local = mkdtempSync(join(tmpdir(), "sparkjobs-faults-local-"));
    const here = cliJson<any>([...args.slice(0, -2), "--run-id", "it-upload-local"], { env: { ...inject("s3Env"), SPARKJOBS_ROOT: local } });
    const localZip = readFileSync(here.json.emrStep.HadoopJarStep.Args[here.json.emrStep.HadoopJarStep.Args.indexOf("--py-files") + 1]);
    const uploaded = Buffer.from(await (await s3().send(new GetObjectCommand({ Bucket: bucket(), Key: key }))).Body!.transformToByteArray());
    expect(uploaded.equals(localZip)).toBe(true);
  });
});

describe("two runs of one run id at once", () => {
  it("exactly one runs; the other is refused with exit 11 naming the lock and its holder; a rerun then reads the result", async () => {
    const small = makeSegments("twice", 1000);
    const args = ["run", "copy-segments", "--jobs-dir", jobsDir, "--param", `segments=${small}`, "--run-id", "it-twice"];
    const both = await Promise.all([cliAsync(args), cliAsync(args)]);
    expect(both.map((r) => r.code).sort(), both.map((r) => r.stderr.slice(-1500)).join("\n----\n")).toEqual([0, 11]);
    const winner = both.find((r) => r.code === 0)!;
    const loser = both.find((r) => r.code === 11)!;
    expect(loser.stderr).toMatch(/^error: .*it-twice/m);
    expect(loser.stderr).toContain(join(root(), "locks", "it-twice.json"));
    expect(loser.stderr).toMatch(/pid \d+/);
    // the refused submit staged and submitted nothing: one Spark application ran
    expect(loser.stderr).not.toMatch(/submitted run|staged plan/);
    expect(winner.stderr.match(/submitted run it-twice/g)).toHaveLength(1);
    expect(existsSync(join(root(), "locks", "it-twice.json"))).toBe(false);
    const again = cliJson<any>(args);
    expect(again.result.code).toBe(0);
    expect(again.json.reused).toBe(true);
  });
});
