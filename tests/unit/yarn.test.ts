/**
 * The pure parts of the yarn target: Hadoop client configuration, YARN's states, spark-submit's
 * arguments, and aggregated container logs (TFile records built here byte by byte, as Hadoop
 * writes them).
 */
import { describe, expect, it } from "vitest";
import { aggregatedLogDirs, isFirstContainer, parseAggregatedLog, readVLong } from "../../submitter/src/backends/yarn-logs.js";
import { appName, sessionName, runTag, yarnState, yarnSubmitArgs } from "../../submitter/src/backends/yarn.js";
import { hdfsAuthority, parseSiteXml, resourceManagerUrl, webHdfsUrl } from "../../submitter/src/stage/hadoop-conf.js";
import { hdfsPath, WebHdfsStorage } from "../../submitter/src/stage/webhdfs.js";
import type { RunPlan } from "../../schemas/src/index.js";

/** Hadoop TFile's writeVLong, written here from its specification, to encode test records. */
function writeVLong(n: number): Buffer {
  if (n < 128 && n >= -32) return Buffer.from([n & 0xff]);
  const un = n < 0 ? ~n : n;
  let len = Math.floor((32 - Math.clz32(un)) / 8) + 1;
  if (len <= 2 && Math.floor(n / 256) < 20 && Math.floor(n / 256) >= -20) return Buffer.from([(Math.floor(n / 256) - 52) & 0xff, n & 0xff]);
  if (len <= 3 && Math.floor(n / 65536) < 16 && Math.floor(n / 65536) >= -16) {
    const b = Buffer.alloc(3);
    b[0] = (Math.floor(n / 65536) - 88) & 0xff;
    b.writeUInt16BE(n & 0xffff, 1);
    return b;
  }
  len = 4;
  const b = Buffer.alloc(5);
  b[0] = (len - 129) & 0xff;
  b.writeInt32BE(n, 1);
  return b;
}

const utf = (s: string) => {
  const body = Buffer.from(s, "utf8");
  const b = Buffer.alloc(2);
  b.writeUInt16BE(body.length);
  return Buffer.concat([b, body]);
};

/** One TFile record as log aggregation writes it: key = container id, value = chunks of (name, length, bytes)... */
function record(container: string, files: [string, string][], chunk = 1 << 20): Buffer {
  const value = Buffer.concat(files.flatMap(([name, text]) => [utf(name), utf(String(Buffer.byteLength(text))), Buffer.from(text)]));
  const key = utf(container);
  const chunks: Buffer[] = [];
  for (let at = 0; at < value.length; at += chunk) {
    const part = value.subarray(at, at + chunk);
    const last = at + chunk >= value.length;
    chunks.push(writeVLong(last ? part.length : -part.length), part);
  }
  return Buffer.concat([writeVLong(key.length), key, ...chunks]);
}

describe("aggregated container logs", () => {
  it("reads the chunk length of a real aggregated log (bytes a9 11 a5: 70,053)", () => {
    expect(readVLong(Buffer.from([0xa9, 0x11, 0xa5]), 0)).toEqual({ value: 70053, next: 3 });
    expect(readVLong(Buffer.from([0x28]), 0)).toEqual({ value: 40, next: 1 });
  });

  it("reads TFile's variable-length integers in each of their widths", () => {
    for (const n of [0, 5, 127, -32, 128, 300, -300, 4999, 70053, -70053, 1_000_000, -1_000_000, 2 ** 30]) {
      expect(readVLong(writeVLong(n), 0), String(n)).toEqual({ value: n, next: writeVLong(n).length });
    }
  });

  it("finds every container's files, across chunk boundaries, between the file's other bytes", () => {
    const stdout = "PYTHON /usr/bin/python3\nSPARKJOBS_ERROR {\"exitCode\":4,\"message\":\"planted\"}\n";
    const stderr = `${"x".repeat(5000)}\nlast line of the driver`;
    const file = Buffer.concat([
      Buffer.from("TFile header and meta blocks \x00\x01\x02 VERSION APPLICATION_ACL"),
      record("container_1796278233296_0001_01_000001", [["directory.info", "ls -l"], ["stderr", stderr], ["stdout", stdout]], 1000),
      record("container_e17_1796278233296_0001_01_000002", [["stdout", "executor\n"]]),
      Buffer.from("\x00index and trailer with a container_1_2_3_4 that is not a record"),
    ]);
    const logs = parseAggregatedLog(file);
    expect(logs.map((l) => [l.container, l.file])).toEqual([
      ["container_1796278233296_0001_01_000001", "directory.info"],
      ["container_1796278233296_0001_01_000001", "stderr"],
      ["container_1796278233296_0001_01_000001", "stdout"],
      ["container_e17_1796278233296_0001_01_000002", "stdout"],
    ]);
    expect(logs[1]!.text).toBe(stderr);
    expect(logs[2]!.text).toBe(stdout);
    expect(logs.filter((l) => isFirstContainer(l.container)).map((l) => l.file)).toEqual(["directory.info", "stderr", "stdout"]);
  });

  it("a truncated file gives what is whole, and no crash", () => {
    const whole = record("container_1796278233296_0001_01_000001", [["stdout", "a\n"], ["stderr", "b".repeat(200)]]);
    expect(parseAggregatedLog(whole.subarray(0, whole.length - 50)).map((l) => l.file)).toEqual(["stdout"]);
  });

  it("looks in Hadoop 3.3's bucketed layout first, then the older ones", () => {
    expect(aggregatedLogDirs("hdfs://nn:8020/tmp/logs/", "alice", "application_1796278233296_10042")).toEqual([
      "hdfs://nn:8020/tmp/logs/alice/bucket-logs-tfile/0042/application_1796278233296_10042",
      "hdfs://nn:8020/tmp/logs/alice/logs-tfile/application_1796278233296_10042",
      "hdfs://nn:8020/tmp/logs/alice/logs/application_1796278233296_10042",
    ]);
  });
});

describe("YARN states", () => {
  it.each([
    ["NEW", "UNDEFINED", "pending"],
    ["SUBMITTED", "UNDEFINED", "pending"],
    ["ACCEPTED", "UNDEFINED", "pending"],
    ["RUNNING", "UNDEFINED", "running"],
    ["FINISHED", "SUCCEEDED", "succeeded"],
    ["FINISHED", "FAILED", "failed"],
    ["FINISHED", "KILLED", "cancelled"],
    ["FAILED", "FAILED", "failed"],
    ["KILLED", "KILLED", "cancelled"],
  ] as const)("%s/%s is %s", (state, finalStatus, expected) => {
    expect(yarnState({ state, finalStatus })).toBe(expected);
  });
});

describe("spark-submit for yarn", () => {
  const plan = { runId: "Seg-2026.12", job: { name: "customer-segmentation" }, sparkConf: { "spark.sql.shuffle.partitions": "8" } } as unknown as RunPlan;
  const staged = { planUri: "hdfs:///sj/stage/plans/ab.json", planSha256: "ab", runnerUri: "hdfs:///sj/stage/code/h/runner.py", pyFilesUri: "hdfs:///sj/stage/code/h/sparkjobs_runner.zip", uploaded: [], series: "daily" };

  it("cluster mode returns once YARN accepts the application; the run id is its tag and name; code and plan stay on the cluster's storage", () => {
    expect(yarnSubmitArgs(plan, staged, { deployMode: "cluster", queue: "analytics", archive: "hdfs:///sj/stage/spark/x/spark-jars.zip" })).toEqual([
      "--master", "yarn", "--deploy-mode", "cluster", "--name", "sparkjobs-customer-segmentation-Seg-2026.12",
      "--queue", "analytics",
      "--conf", "spark.yarn.tags=sparkjobs,sparkjobs-run-seg-2026.12",
      "--conf", "spark.yarn.submit.waitAppCompletion=false",
      "--conf", "spark.yarn.archive=hdfs:///sj/stage/spark/x/spark-jars.zip",
      "--conf", "spark.sql.shuffle.partitions=8",
      "--py-files", "hdfs:///sj/stage/code/h/sparkjobs_runner.zip", "hdfs:///sj/stage/code/h/runner.py",
      "--plan", "hdfs:///sj/stage/plans/ab.json", "--series", "daily",
    ]);
    expect(appName(plan)).toBe("sparkjobs-customer-segmentation-Seg-2026.12");
    expect(runTag("Seg-2026.12")).toBe("sparkjobs-run-seg-2026.12");
  });

  it("a pipeline's session application is named and tagged for its session folder, never for its first run", () => {
    const args = yarnSubmitArgs(plan, { ...staged, session: "hdfs:///sj/stage/sessions/Prices-0a1b2c3d" }, { deployMode: "cluster" });
    expect(args.slice(0, 6)).toEqual(["--master", "yarn", "--deploy-mode", "cluster", "--name", "sparkjobs-session-prices-0a1b2c3d"]);
    expect(args).toContain("spark.yarn.tags=sparkjobs,sparkjobs-session-prices-0a1b2c3d");
    expect(args.join(" ")).not.toContain("sparkjobs-run-");
    expect(args.slice(-2)).toEqual(["--session", "hdfs:///sj/stage/sessions/Prices-0a1b2c3d"]);
    expect(sessionName("s3://b/sj/stage/sessions/prices-0a1b2c3d/")).toBe("sparkjobs-session-prices-0a1b2c3d");
  });

  it("client mode waits in spark-submit; Kerberos flags are passed through", () => {
    const args = yarnSubmitArgs(plan, staged, { deployMode: "client", principal: "etl@EXAMPLE.COM", keytab: "/etc/security/etl.keytab" });
    expect(args.slice(0, 4)).toEqual(["--master", "yarn", "--deploy-mode", "client"]);
    expect(args).not.toContain("spark.yarn.submit.waitAppCompletion=false");
    expect(args.join(" ")).toContain("--principal etl@EXAMPLE.COM --keytab /etc/security/etl.keytab");
    // The driver runs here: the runner's progress lines come on its stderr (cluster mode: the ResourceManager's progress).
    expect(args.slice(-2)).toEqual(["--progress-seconds", "2"]);
    expect(yarnSubmitArgs(plan, staged, { deployMode: "cluster" })).not.toContain("--progress-seconds");
  });
});

describe("Hadoop client configuration", () => {
  const conf = parseSiteXml(`<?xml version="1.0"?><configuration>
    <property><name>fs.defaultFS</name><value>hdfs://nn1.example.com:8020</value></property>
    <property><name>dfs.namenode.http-address</name><value>0.0.0.0:9870</value></property>
    <property><name>yarn.resourcemanager.webapp.address</name><value>rm.example.com:8088</value></property>
    <property><name>dfs.ha.namenodes.prod</name><value>nn1, nn2</value></property>
    <property><name>dfs.namenode.http-address.prod.nn1</name><value>nn1.example.com:9870</value></property>
    <property><name>escaped</name><value>a &amp; b</value></property>
  </configuration>`);

  it("reads properties, with XML entities", () => {
    expect(conf.get("fs.defaultFS")).toBe("hdfs://nn1.example.com:8020");
    expect(conf.get("escaped")).toBe("a & b");
  });

  it("finds the NameNode's WebHDFS for the default file system, a nameservice, another NameNode, or an override", () => {
    expect(hdfsAuthority("hdfs:///sparkjobs", conf)).toBe("nn1.example.com:8020");
    expect(webHdfsUrl("nn1.example.com:8020", conf, {})).toBe("http://nn1.example.com:9870");
    expect(webHdfsUrl("prod", conf, {})).toBe("http://nn1.example.com:9870");
    expect(webHdfsUrl("other.example.com:8020", conf, {})).toBe("http://other.example.com:9870");
    expect(webHdfsUrl("nn1.example.com:8020", conf, { SPARKJOBS_WEBHDFS_URL: "http://gateway:14000/" })).toBe("http://gateway:14000");
  });

  it("an hdfs:/// URI without a default file system is a usage error", () => {
    expect(() => hdfsAuthority("hdfs:///x", new Map())).toThrow(/names no NameNode and no default file system is configured/);
  });

  it("finds the ResourceManager's web address", () => {
    expect(resourceManagerUrl(conf, {})).toBe("http://rm.example.com:8088");
    expect(resourceManagerUrl(new Map([["yarn.resourcemanager.hostname", "rm2"]]), {})).toBe("http://rm2:8088");
    expect(resourceManagerUrl(new Map(), {})).toBeUndefined();
    expect(resourceManagerUrl(conf, { SPARKJOBS_YARN_RM_URL: "http://127.0.0.1:1/" })).toBe("http://127.0.0.1:1");
  });

  it("takes the path of an hdfs:// URI", () => {
    expect(hdfsPath("hdfs://nn:8020/a/b/")).toBe("/a/b");
    expect(hdfsPath("hdfs:///a")).toBe("/a");
    expect(hdfsPath("hdfs://nn")).toBe("/");
  });
});

describe("WebHDFS requests", () => {
  const conf = new Map([["fs.defaultFS", "hdfs://nn:8020"], ["dfs.namenode.http-address", "nn:9870"]]);
  const dropped = () => Object.assign(new TypeError("fetch failed"), { cause: { code: "UND_ERR_SOCKET", message: "other side closed" } });

  it("a connection the NameNode closed under a request is tried again, twice", async () => {
    const calls: string[] = [];
    let drops = 2;
    const fetch = (async (url: string) => {
      calls.push(new URL(url).searchParams.get("op")!);
      if (drops-- > 0) throw dropped();
      return new Response(JSON.stringify({ RemoteException: { exception: "FileNotFoundException", message: "no" } }), { status: 404 });
    }) as unknown as typeof globalThis.fetch;
    const storage = new WebHdfsStorage({ conf, env: { HADOOP_USER_NAME: "u" }, fetch });
    expect(await storage.size("hdfs:///x")).toBeUndefined();
    expect(calls).toEqual(["GETFILESTATUS", "GETFILESTATUS", "GETFILESTATUS"]);

    const always = (async () => {
      throw dropped();
    }) as unknown as typeof globalThis.fetch;
    await expect(new WebHdfsStorage({ conf, env: { HADOOP_USER_NAME: "u" }, fetch: always }).size("hdfs:///x")).rejects.toThrow(/cannot be reached \(UND_ERR_SOCKET\)/);
  });
});

