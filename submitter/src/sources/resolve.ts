/**
 * The IO around a source definition: read the file, check it, resolve its paths (relative to the
 * file) and make sure each one matches a file before Spark starts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve, sep } from "node:path";
import { CANONICAL_TABLES, type CanonicalTable, type PlanSources, type PlanSourceTable } from "../../../schemas/src/index.js";
import { displayPath } from "../config/job.js";
import { SparkjobsError, type Problem } from "../errors.js";
import { isRemote, type Storage } from "../stage/storage.js";
import { checkSourceDefinition } from "./check.js";

const GLOB = /[*?[{]/;

/** A Hadoop glob segment (*, ?, [abc], {a,b}) as a regular expression. */
export function globSegment(segment: string): RegExp {
  let out = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const end = segment.indexOf("]", i);
      if (end < 0) out += "\\[";
      else {
        out += `[${segment.slice(i + 1, end).replace(/^\^/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "{") {
      const end = segment.indexOf("}", i);
      if (end < 0) out += "\\{";
      else {
        out += `(?:${segment.slice(i + 1, end).split(",").map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`;
        i = end;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

/** The local files and folders a path or glob names (none when it names nothing). */
export function expandLocal(path: string): string[] {
  if (!GLOB.test(path)) return existsSync(path) ? [path] : [];
  const parts = path.split(sep);
  let current = [parts[0] === "" ? sep : parts[0]!];
  for (const part of parts.slice(1)) {
    if (part === "") continue;
    const next: string[] = [];
    for (const dir of current) {
      if (!GLOB.test(part)) {
        const p = join(dir, part);
        if (existsSync(p)) next.push(p);
        continue;
      }
      if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
      const re = globSegment(part);
      for (const name of readdirSync(dir).sort()) if (re.test(name)) next.push(join(dir, name));
    }
    current = next;
    if (!current.length) break;
  }
  return current;
}

/** Files with data under a local path (a file, or a folder with at least one file not starting with _ or .). */
function holdsData(path: string): boolean {
  const st = statSync(path);
  if (st.isFile()) return true;
  return readdirSync(path, { withFileTypes: true }).some((e) => !e.name.startsWith("_") && !e.name.startsWith(".") && (e.isFile() || holdsData(join(path, e.name))));
}

/** A source path as Spark reads it: remote URIs as given, local ones absolute (relative to the definition's folder). */
export function resolveSourcePath(path: string, definitionDir: string): string {
  if (isRemote(path)) return path;
  if (path.startsWith("file:")) return path;
  return isAbsolute(path) ? path : resolve(definitionDir, path);
}

export async function loadSources(path: string, storage: Storage, cwd = process.cwd()): Promise<PlanSources> {
  if (isRemote(path) || path.startsWith("file:")) {
    throw new SparkjobsError("usage", `source definition ${path}: a source definition is read from a local file`, {
      fix: "pass its local path (--param sources=sources/my-shop.yaml); the tables it maps may be on S3",
    });
  }
  const full = resolve(cwd, path);
  const shown = displayPath(full, cwd);
  if (!existsSync(full) || !statSync(full).isFile()) {
    throw new SparkjobsError("usage", `source definition ${shown} does not exist`, {
      fix: "pass the path of a source definition YAML (--param sources=sources/my-shop.yaml); see sources/ for examples",
    });
  }
  const def = checkSourceDefinition(shown, readFileSync(full, "utf8"));
  const problems: Problem[] = [];
  const tables: Partial<Record<CanonicalTable, PlanSourceTable>> = {};
  const absent: CanonicalTable[] = [];
  for (const name of CANONICAL_TABLES) {
    const spec = def.tables[name];
    if ("absent" in spec) {
      absent.push(name);
      continue;
    }
    const paths = [spec.path ?? []].flat().map((p) => resolveSourcePath(p, dirname(full)));
    for (const p of paths) {
      const problem = await pathProblem(p, storage);
      if (problem) problems.push({ file: shown, path: `tables.${name}.path`, message: `${p} ${problem}` });
    }
    tables[name] = {
      paths,
      ...(spec.table !== undefined ? { table: spec.table } : {}),
      format: spec.format,
      ...(spec.format === "csv" ? { csv: spec.csv ?? { header: true, delimiter: ",", quote: '"', escape: "\\", encoding: "UTF-8", multiLine: false } } : {}),
      nullValues: spec.nullValues,
      columns: spec.columns,
      ...(spec.filter !== undefined ? { filter: spec.filter } : {}),
      timezone: spec.timezone ?? def.timezone,
      ...(spec.features ? { features: spec.features } : {}),
    };
  }
  if (problems.length) {
    throw new SparkjobsError("input", `source definition ${shown} names files that are not there`, {
      problems,
      fix: "fix the path (a relative path is relative to the source definition's folder; globs use * ? [abc] {a,b}), or declare the table absent",
    });
  }
  return { name: def.name, file: shown, ...(def.currency ? { currency: def.currency } : {}), tables, absent };
}

/** Why a path names no data (undefined when it does). Remote paths are checked up to their first glob character. */
async function pathProblem(path: string, storage: Storage): Promise<string | undefined> {
  if (isRemote(path)) {
    const prefix = GLOB.test(path) ? path.slice(0, path.search(GLOB)).replace(/[^/]*$/, "") : path;
    try {
      return (await storage.listFiles(prefix)).length ? undefined : "matches no file";
    } catch (e) {
      if (e instanceof SparkjobsError) throw e;
      return `cannot be listed (${(e as Error).message})`;
    }
  }
  const local = path.startsWith("file:") ? new URL(path).pathname : path;
  const found = expandLocal(local);
  if (!found.length) return GLOB.test(local) ? "matches no file" : "does not exist";
  return found.some(holdsData) ? undefined : "holds no data files";
}
