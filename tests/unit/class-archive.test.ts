// The JVM class archive of local drivers: when one can be used, and which file is whose.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { classArchiveOption, driverClassArchive } from "../../submitter/src/env/class-archive.js";

/** A venv with a pinned Spark's layout (spark-submit, pyspark/jars), a java, and a cache, all in a temporary folder. */
function machine() {
  const dir = mkdtempSync(join(tmpdir(), "archive-"));
  const venv = join(dir, "venv");
  mkdirSync(join(venv, "bin"), { recursive: true });
  writeFileSync(join(venv, "bin", "spark-submit"), "");
  mkdirSync(join(venv, "lib", "python3.11", "site-packages", "pyspark", "jars"), { recursive: true });
  mkdirSync(join(dir, "jdk", "bin"), { recursive: true });
  writeFileSync(join(dir, "jdk", "bin", "java"), "");
  const env: NodeJS.ProcessEnv = { SPARKJOBS_VENV: venv, JAVA_HOME: join(dir, "jdk"), XDG_CACHE_HOME: join(dir, "cache"), PATH: "" };
  return { dir, env };
}

describe("the class archive of local drivers", () => {
  test("one file per class path under the cache; the option only once the file is there", () => {
    const { dir, env } = machine();
    const plain = driverClassArchive(env);
    const withS3a = driverClassArchive(env, ["/jars/hadoop-aws.jar"]);
    expect("path" in plain && plain.path.startsWith(join(dir, "cache", "sparkjobs", "jvm", "spark-driver-"))).toBe(true);
    expect("path" in withS3a && "path" in plain && withS3a.path !== plain.path).toBe(true);
    expect(classArchiveOption(env)).toBeUndefined();
    const path = (plain as { path: string }).path;
    mkdirSync(join(dir, "cache", "sparkjobs", "jvm"), { recursive: true });
    writeFileSync(path, "");
    expect(classArchiveOption(env)).toBe(`-XX:SharedArchiveFile=${path}`);
    expect(classArchiveOption(env, ["/jars/hadoop-aws.jar"])).toBeUndefined();
  });

  test("none when a folder on the class path holds files, or when turned off or another Spark is named", () => {
    const { dir, env } = machine();
    const conf = join(dir, "conf");
    mkdirSync(conf);
    expect("path" in driverClassArchive({ ...env, SPARK_CONF_DIR: conf })).toBe(true);
    writeFileSync(join(conf, "spark-defaults.conf"), "spark.ui.enabled false\n");
    for (const over of [{ SPARK_CONF_DIR: conf }, { HADOOP_CONF_DIR: conf }, { YARN_CONF_DIR: conf }]) {
      const answer = driverClassArchive({ ...env, ...over });
      expect(answer).toEqual({ unusable: expect.stringContaining(`${Object.keys(over)[0]} (${conf}) holds files`) });
    }
    expect(driverClassArchive({ ...env, SPARKJOBS_CLASS_ARCHIVE: "off" })).toEqual({ unusable: "SPARKJOBS_CLASS_ARCHIVE=off" });
    expect("unusable" in driverClassArchive({ ...env, SPARKJOBS_SPARK_SUBMIT: "/opt/spark/bin/spark-submit" })).toBe(true);
    expect("unusable" in driverClassArchive({ ...env, SPARK_DIST_CLASSPATH: "/opt/hadoop/*" })).toBe(true);
    expect("unusable" in driverClassArchive({ ...env, JAVA_HOME: join(dir, "nowhere") })).toBe(true);
  });
});
