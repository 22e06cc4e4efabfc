/**
 * Run ids and roots are checked before anything is read, written or started: a run id never
 * leaves the root, a root is a local folder or an S3 bucket S3 would accept, never a folder named
 * "s3:" by mistake. Definition files too large or with aliases that expand too far are refused.
 */
import { describe, expect, test } from "vitest";
import { checkRunId, resolveRoot } from "../../submitter/src/config/locations.js";
import { parseYaml } from "../../submitter/src/config/yaml-file.js";
import { LocalStorage } from "../../submitter/src/stage/storage.js";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SparkjobsError } from "../../submitter/src/errors.js";

function refused(f: () => unknown): SparkjobsError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SparkjobsError);
    return e as SparkjobsError;
  }
  throw new Error("expected an error");
}

describe("run ids", () => {
  test.each(["a", "pm-2024.01_x", "A".repeat(64), "0abc"])("%s is a run id", (id) => {
    expect(checkRunId(id)).toBe(id);
  });

  test.each([
    ["../../../x", "contains a path separator"],
    ["a/b", "contains a path separator"],
    ["", "is empty"],
    ["a".repeat(65), "is 65 characters long"],
    ["with space", "is not a run id"],
    ["café", "is not a run id"],
    [".hidden", "is not a run id"],
    ["-x", "is not a run id"],
  ])("%j is refused: %s", (id, why) => {
    const e = refused(() => checkRunId(id));
    expect(e.kind).toBe("usage");
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(`--run-id ${JSON.stringify(id)} ${why}`);
    expect(e.fix).toContain("1-64 characters of A-Z a-z 0-9 . _ -");
  });
});

describe("roots", () => {
  test.each([
    ["/data/sj", "/data/sj"],
    ["/data/sj/", "/data/sj"],
    ["file:///data/sj", "/data/sj"],
    ["s3://bucket", "s3://bucket"],
    ["s3://my.bucket-1/runs/", "s3://my.bucket-1/runs"],
    ["s3a://bucket/a/b", "s3a://bucket/a/b"],
    ["hdfs://namenode:8020/x/", "hdfs://namenode:8020/x"],
    ["hdfs:///sparkjobs", "hdfs:///sparkjobs"],
    ["hdfs://nameservice1/data/runs", "hdfs://nameservice1/data/runs"],
  ])("%s is the root %s", (given, root) => {
    expect(resolveRoot(given)).toBe(root);
  });

  test("a relative folder is made absolute, and a colon inside a folder name is a folder", () => {
    expect(resolveRoot("sparkjobs-data")).toBe(`${process.cwd()}/sparkjobs-data`);
    expect(resolveRoot("data:2024")).toBe(`${process.cwd()}/data:2024`);
  });

  test.each([
    ["s3://", "names no bucket"],
    ["s3:///x", "names no bucket"],
    ["s3:/x", "is not an S3 URI"],
    ["s3:x", "is not an S3 URI"],
    ["s3://Bad_Bucket!/x", 'the bucket name "Bad_Bucket!" may only hold lower-case letters'],
    ["s3://ab/x", 'the bucket name "ab" is 2 characters long'],
    ["s3://a..b/x", "has two dots"],
    ["s3://192.168.1.1/x", "is an IP address"],
    ["s3://bucket/a/../b", "has a . or .. in its prefix"],
    ["gs://bucket/x", "gs:// is not a storage sparkjobs can use"],
    ["abfs://c@account.dfs.core.windows.net/x", "abfs:// is not a storage sparkjobs can use"],
    ["hdfs://namenode:8020", "names no folder"],
    ["hdfs:///", "names no folder"],
    ["hdfs://name node/x", "is not a NameNode host[:port] or nameservice"],
    ["hdfs:///a/../b", "has a . or .. in its path"],
    ["file://relative/x", "is not a file URL"],
    ["", "is empty"],
  ])("%j is refused: %s", (given, why) => {
    const e = refused(() => resolveRoot(given));
    expect(e.kind).toBe("usage");
    expect(e.message).toContain(`--root ${JSON.stringify(given)}`);
    expect(e.message).toContain(why);
    expect(e.fix).toBeTruthy();
  });
});

describe("definition files", () => {
  test("a file over 256 KiB is refused before it is parsed", () => {
    const text = `name: many\nparams:\n${Array.from({ length: 12000 }, (_, i) => `  p${i}: { type: int, default: ${i} }`).join("\n")}\n`;
    const started = Date.now();
    const parsed = parseYaml("jobs/many.yaml", text);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(parsed.value).toBeUndefined();
    expect(parsed.problems).toEqual([{ file: "jobs/many.yaml", message: expect.stringMatching(/^the file is \d\.\d MiB; a definition may have at most 256 KiB/) }]);
  });

  test("aliases that expand too far (a billion laughs) are a problem in the file, not a crash", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (const [i, name] of ["b", "c", "d", "e", "f", "g"].entries()) levels.push(`${name}: &${name} [${Array(9).fill(`*${"abcdefg"[i]}`).join(", ")}]`);
    const parsed = parseYaml("jobs/laughs.yaml", `${levels.join("\n")}\n`);
    expect(parsed.value).toBeUndefined();
    expect(parsed.problems).toEqual([{ file: "jobs/laughs.yaml", message: "YAML: its aliases (*name) expand too far: write the values out, or use fewer aliases" }]);
  });

  test("a few aliases are fine", () => {
    expect(parseYaml("jobs/ok.yaml", "base: &b { type: int }\nx: *b\ny: *b\n").value).toEqual({ base: { type: "int" }, x: { type: "int" }, y: { type: "int" } });
  });
});

describe("a local root that cannot be written", () => {
  test("a root that is a file: exit 9 naming the file, and no temporary file left", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sparkjobs-root-"));
    writeFileSync(join(dir, "root"), "not a folder");
    const e = await new LocalStorage().put(join(dir, "root", "stage", "plans", "p.json"), "{}").then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(SparkjobsError);
    expect((e as SparkjobsError).exitCode).toBe(9);
    expect((e as SparkjobsError).message).toBe(`cannot write ${join(dir, "root", "stage", "plans", "p.json")}: ${join(dir, "root")} is a file, not a folder`);
    expect(readdirSync(dir)).toEqual(["root"]);
  });
});
