/**
 * The runner bundle's ZIP writer: same files in, same bytes out, and readable by the reader that
 * matters (Python's zipimport/zipfile, which is what --py-files uses).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildRunnerBundle } from "../../submitter/src/stage/stage.js";
import { zip } from "../../submitter/src/stage/zip.js";

const repo = join(import.meta.dirname, "..", "..");

/** The venv's python, found as submitter/src/env/where.ts finds it (by the requirement files' hash). */
function venvPython(): string {
  if (process.env.SPARKJOBS_VENV) return join(process.env.SPARKJOBS_VENV, "bin", "python");
  const hash = createHash("sha256");
  for (const file of ["jobs/runner/requirements.txt", "tests/requirements.txt"]) hash.update(readFileSync(join(repo, file)));
  const cache = process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? "/root", ".cache");
  return join(cache, "sparkjobs", "venv", `py-${hash.digest("hex").slice(0, 12)}`, "bin", "python");
}

const PYTHON = venvPython();

/** Lists and extracts a ZIP with Python's zipfile; returns what Python saw. */
const READER = `
import json, sys, zipfile
path, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(path) as z:
    bad = z.testzip()
    infos = [{"name": i.filename, "size": i.file_size, "compress": i.compress_type, "date": list(i.date_time), "crc": i.CRC,
              "unix_mode": (i.external_attr >> 16) & 0o777} for i in z.infolist()]
    z.extractall(out)
print(json.dumps({"bad": bad, "infos": infos}))
`;

interface PyInfo {
  name: string;
  size: number;
  compress: number;
  date: number[];
  crc: number;
  unix_mode: number;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sparkjobs-zip-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function readWithPython(bytes: Buffer, name: string): { bad: string | null; infos: PyInfo[]; extracted: string } {
  const file = join(dir, `${name}.zip`);
  const extracted = join(dir, `${name}-out`);
  writeFileSync(file, bytes);
  const r = spawnSync(PYTHON, ["-c", READER, file, extracted], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python could not read the zip (exit ${r.status}):\n${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as { bad: string | null; infos: PyInfo[] }), extracted };
}

function listTree(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split("\\").join("/"))
    .sort();
}

const pseudoRandom = (n: number, seed: number) => {
  const out = Buffer.alloc(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
};

const FILES = [
  { path: "pkg/__init__.py", data: Buffer.from('"""A package."""\n') },
  { path: "pkg/sub/deep/mod.py", data: Buffer.from("def f():\n    return 42\n".repeat(500)) },
  { path: "pkg/empty.py", data: Buffer.alloc(0) },
  { path: "pkg/données-ü.txt", data: Buffer.from("utf-8 name\n") },
  { path: "pkg/schemas/plan.schema.json", data: Buffer.from(JSON.stringify({ a: 1, b: [1, 2, 3] }, null, 2)) },
  { path: "pkg/blob.bin", data: pseudoRandom(70_000, 3) },
];

describe("zip", () => {
  test("the venv's python exists (the reader for the next tests)", () => {
    expect(existsSync(PYTHON), `${PYTHON} is missing: run npm test (scripts/bootstrap.sh creates the venv)`).toBe(true);
  });

  test("is deterministic: same files, same bytes, whatever their order", () => {
    const a = zip(FILES);
    const b = zip([...FILES].reverse());
    const c = zip([FILES[3]!, FILES[0]!, FILES[5]!, FILES[1]!, FILES[4]!, FILES[2]!]);
    expect(b.equals(a)).toBe(true);
    expect(c.equals(a)).toBe(true);
  });

  test("changes when a file's content changes", () => {
    const changed = FILES.map((f, i) => (i === 1 ? { ...f, data: Buffer.concat([f.data, Buffer.from("#")]) } : f));
    expect(zip(changed).equals(zip(FILES))).toBe(false);
  });

  test("Python lists and extracts every file with its exact content", () => {
    const { bad, infos, extracted } = readWithPython(zip(FILES), "files");
    expect(bad).toBeNull(); // every CRC checks out
    expect(infos.map((i) => i.name).sort()).toEqual(FILES.map((f) => f.path).sort());
    for (const f of FILES) {
      const info = infos.find((i) => i.name === f.path)!;
      expect(info.size, f.path).toBe(f.data.length);
      expect(info.compress, f.path).toBe(8); // deflate
      expect(info.date, f.path).toEqual([1980, 1, 1, 0, 0, 0]);
      expect(info.unix_mode, f.path).toBe(0o644);
      expect(readFileSync(join(extracted, f.path)).equals(f.data), f.path).toBe(true);
    }
    expect(listTree(extracted)).toEqual(FILES.map((f) => f.path).sort());
  });

  test("an empty archive is readable", () => {
    const { bad, infos } = readWithPython(zip([]), "empty");
    expect(bad).toBeNull();
    expect(infos).toEqual([]);
  });

  test("compresses: a repetitive file takes much less space than its content", () => {
    const big = { path: "a.py", data: Buffer.from("x = 1\n".repeat(10_000)) };
    expect(zip([big]).length).toBeLessThan(big.data.length / 20);
  });
});

describe("buildRunnerBundle", () => {
  // packageRoot (submitter/src/env/where.ts) is right for dist/ only, so the root is given here.
  test("gives the same hash and bytes twice", () => {
    const a = buildRunnerBundle(repo);
    const b = buildRunnerBundle(repo);
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(b.hash).toBe(a.hash);
    expect(b.pyFilesZip.equals(a.pyFilesZip)).toBe(true);
    expect(a.hash).toBe(createHash("sha256").update(a.runnerPy).update(a.pyFilesZip).digest("hex").slice(0, 16));
  });

  test("holds runner.py and every module of sparkjobs_runner plus the plan schema", () => {
    const bundle = buildRunnerBundle(repo);
    const runnerDir = join(repo, "jobs", "runner");
    expect(bundle.runnerPy.equals(readFileSync(join(runnerDir, "runner.py")))).toBe(true);
    const { bad, extracted } = readWithPython(bundle.pyFilesZip, "bundle");
    expect(bad).toBeNull();
    const modules = listTree(join(runnerDir, "sparkjobs_runner"))
      .filter((f) => f.endsWith(".py"))
      .map((f) => `sparkjobs_runner/${f}`);
    expect(modules).toContain("sparkjobs_runner/main.py");
    expect(listTree(extracted)).toEqual([...modules, "sparkjobs_runner/schemas/run-plan.schema.json"].sort());
    for (const m of modules) expect(readFileSync(join(extracted, m)).equals(readFileSync(join(runnerDir, m))), m).toBe(true);
    expect(readFileSync(join(extracted, "sparkjobs_runner/schemas/run-plan.schema.json")).equals(readFileSync(join(repo, "schemas/json/run-plan.schema.json")))).toBe(true);
  });

  test("Python can import the runner package from the bundle (as --py-files does)", () => {
    const file = join(dir, "bundle-import.zip");
    writeFileSync(file, buildRunnerBundle(repo).pyFilesZip);
    const code = [
      "import sys, json, pkgutil",
      `sys.path.insert(0, ${JSON.stringify(file)})`,
      "from sparkjobs_runner import jsonschema_lite, metrics",
      "schema = json.loads(pkgutil.get_data('sparkjobs_runner', 'schemas/run-plan.schema.json'))",
      "print(jsonschema_lite.__file__.startswith(sys.path[0]), schema['type'])",
    ].join("\n");
    const r = spawnSync(PYTHON, ["-c", code], { encoding: "utf8", env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("True object");
  });
});
