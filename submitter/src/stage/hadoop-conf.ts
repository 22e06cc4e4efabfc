/**
 * The Hadoop client configuration the submitter needs, read the way Hadoop's clients read it:
 * core-site.xml, hdfs-site.xml and yarn-site.xml in HADOOP_CONF_DIR (or YARN_CONF_DIR). Only a
 * few keys matter here: the default file system, the NameNode's HTTP address (for WebHDFS) and
 * the ResourceManager's web address (for its REST API).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SparkjobsError } from "../errors.js";

export type HadoopConf = Map<string, string>;

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const unescape = (s: string) => s.trim().replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => XML_ENTITIES[e]!);

/** The properties of one Hadoop *-site.xml text (name -> value; later files override earlier ones). */
export function parseSiteXml(text: string): HadoopConf {
  const conf: HadoopConf = new Map();
  for (const m of text.matchAll(/<property>([\s\S]*?)<\/property>/g)) {
    const name = /<name>([\s\S]*?)<\/name>/.exec(m[1]!)?.[1];
    const value = /<value>([\s\S]*?)<\/value>/.exec(m[1]!)?.[1];
    if (name !== undefined && value !== undefined) conf.set(unescape(name), unescape(value));
  }
  return conf;
}

/** The folder of the client configuration, if one is set. */
export function hadoopConfDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.HADOOP_CONF_DIR || env.YARN_CONF_DIR || undefined;
}

/** The merged client configuration; empty when HADOOP_CONF_DIR is not set. A set but missing folder is an error. */
export function readHadoopConf(env: NodeJS.ProcessEnv = process.env): HadoopConf {
  const dir = hadoopConfDir(env);
  const conf: HadoopConf = new Map();
  if (!dir) return conf;
  if (!existsSync(dir)) {
    throw new SparkjobsError("usage", `HADOOP_CONF_DIR ${dir} does not exist`, {
      fix: "point HADOOP_CONF_DIR at the folder with the cluster's core-site.xml, hdfs-site.xml and yarn-site.xml",
    });
  }
  for (const file of ["core-site.xml", "hdfs-site.xml", "yarn-site.xml"]) {
    const path = join(dir, file);
    if (existsSync(path)) for (const [k, v] of parseSiteXml(readFileSync(path, "utf8"))) conf.set(k, v);
  }
  return conf;
}

/** The authority (host:port, or a nameservice) of an hdfs:// URI, or of the default file system for hdfs:///path. */
export function hdfsAuthority(uri: string, conf: HadoopConf): string {
  const m = /^hdfs:\/\/([^/]*)/i.exec(uri);
  if (!m) throw new SparkjobsError("usage", `${uri} is not an hdfs:// URI`, { fix: "write HDFS locations as hdfs://namenode:port/path or hdfs:///path" });
  if (m[1]) return m[1];
  const fallback = /^hdfs:\/\/([^/]+)/i.exec(conf.get("fs.defaultFS") ?? "");
  if (!fallback) {
    throw new SparkjobsError("usage", `${uri} names no NameNode and no default file system is configured`, {
      fix: "write hdfs://namenode:port/path, or set HADOOP_CONF_DIR to a folder whose core-site.xml has fs.defaultFS",
    });
  }
  return fallback[1]!;
}

/**
 * The WebHDFS base URL (http://host:port) of the NameNode serving an HDFS authority:
 * SPARKJOBS_WEBHDFS_URL when set, else dfs.namenode.http-address (for a nameservice, of its first
 * NameNode), else the NameNode's host on Hadoop 3's default HTTP port 9870.
 */
export function webHdfsUrl(authority: string, conf: HadoopConf, env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPARKJOBS_WEBHDFS_URL) return env.SPARKJOBS_WEBHDFS_URL.replace(/\/+$/, "");
  const nameNodes = conf.get(`dfs.ha.namenodes.${authority}`);
  if (nameNodes) {
    const first = nameNodes.split(",")[0]!.trim();
    const address = conf.get(`dfs.namenode.http-address.${authority}.${first}`);
    if (address) return `http://${address}`;
  }
  const defaultAuthority = /^hdfs:\/\/([^/]+)/i.exec(conf.get("fs.defaultFS") ?? "")?.[1];
  const configured = conf.get("dfs.namenode.http-address");
  if (configured && (defaultAuthority === undefined || defaultAuthority === authority)) {
    const [host, port] = configured.split(":");
    // 0.0.0.0 is where it listens, not where to reach it: the NameNode's own host is.
    return `http://${host === "0.0.0.0" ? authority.split(":")[0] : host}:${port}`;
  }
  return `http://${authority.split(":")[0]}:9870`;
}

/** The ResourceManager's web address (http://host:port), from SPARKJOBS_YARN_RM_URL or yarn-site.xml. */
export function resourceManagerUrl(conf: HadoopConf, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SPARKJOBS_YARN_RM_URL) return env.SPARKJOBS_YARN_RM_URL.replace(/\/+$/, "");
  const address = conf.get("yarn.resourcemanager.webapp.address");
  if (address) {
    const [host, port] = address.split(":");
    return `http://${host === "0.0.0.0" ? (conf.get("yarn.resourcemanager.hostname") ?? "localhost") : host}:${port}`;
  }
  const host = conf.get("yarn.resourcemanager.hostname");
  return host ? `http://${host}:8088` : undefined;
}
