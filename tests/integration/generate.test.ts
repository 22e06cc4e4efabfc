/**
 * The generator is a Spark job whose randomness is a hash of (seed, row, purpose): the same seed
 * gives the same rows, another seed other rows. The two runs of one seed also start their driver's
 * JVM one without the class archive bootstrap.sh built, one with it: it loads most classes from
 * the archive, and the rows are the same.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliJson, cliPath, manifestOf, readOutput, root } from "./helpers.js";

const classLog = join(mkdtempSync(join(tmpdir(), "sparkjobs-classes-")), "classes.log");
const envOf: Record<string, NodeJS.ProcessEnv> = {
  "it-gen-a": { SPARKJOBS_CLASS_ARCHIVE: "off" },
  "it-gen-b": { SPARK_SUBMIT_OPTS: `${process.env.SPARK_SUBMIT_OPTS ?? ""} -Xlog:class+load=info:file=${classLog}` },
};
const generateArgs = (runId: string, seed: number) => ["run", "generate", "--param", "customers=200", "--param", `seed=${seed}`, "--run-id", runId];
const generate = (runId: string, seed: number) => cliJson(generateArgs(runId, seed), envOf[runId] ? { env: envOf[runId] } : {});

/**
 * The run with stderr on a pseudo-terminal (util-linux `script`), as a user at a terminal sees it,
 * and stdout (--json) into a file: the terminal's transcript, and stdout alone.
 */
function underTerminal(runId: string, seed: number) {
  const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
  const stdoutFile = join(mkdtempSync(join(tmpdir(), "sparkjobs-tty-")), "stdout.json");
  const command = [process.execPath, cliPath, ...generateArgs(runId, seed), "--json"].map(quote).join(" ") + ` > ${quote(stdoutFile)}`;
  const r = spawnSync("script", ["-qfec", command, "/dev/null"], { encoding: "utf8", env: { ...process.env, SPARKJOBS_ROOT: root(), SPARKJOBS_SERIES: "it-gen-tty" } });
  return { code: r.status, transcript: r.stdout + r.stderr, stdout: readFileSync(stdoutFile, "utf8") };
}

async function rowsOf(runId: string, output: string): Promise<string[]> {
  const manifest = await manifestOf(root(), runId);
  const rows = await readOutput(manifest.outputs[output]);
  return rows.map((r) => JSON.stringify(r, (_, v) => (typeof v === "bigint" ? v.toString() : v))).sort();
}

describe("generate", () => {
  it("same seed, same rows; another seed, other rows", async () => {
    for (const [id, seed] of [["it-gen-a", 11], ["it-gen-b", 11]] as const) {
      const { result, json } = generate(id, seed);
      expect(result.code, result.stderr.slice(-3000)).toBe(0);
      expect(json.reused).toBe(false);
    }
    // The third at a terminal: the progress line rewrites itself with the definition's stages and
    // a rising count of Spark tasks; stdout is still exactly one JSON object.
    const tty = underTerminal("it-gen-c", 12);
    expect(tty.code, tty.transcript.slice(-3000)).toBe(0);
    expect(JSON.parse(tty.stdout)).toMatchObject({ runId: "it-gen-c", status: "succeeded", reused: false });
    const shown = tty.transcript.split(/\r|\n/).map((l) => l.replace(/\x1b\[2K/g, "")).map((l) => /^(stage \S+|write \S+|checks) \| Spark jobs \d+ done, \d+ running \| tasks (\d+) done/.exec(l)).filter((m) => m !== null);
    const stages = new Set(shown.map((m) => m[1]).filter((p) => p.startsWith("stage ")));
    const tasks = shown.map((m) => Number(m[2]));
    console.log(`generate at a terminal: ${shown.length} progress updates, stages ${[...stages].join(", ")}; tasks ${tasks[0]} .. ${tasks.at(-1)}`);
    expect(stages.size).toBeGreaterThanOrEqual(2);
    expect(tasks.at(-1)!).toBeGreaterThan(tasks[0]!);
    tasks.slice(1).forEach((t, i) => expect(t).toBeGreaterThanOrEqual(tasks[i]!));
    expect(tty.transcript).not.toContain("[progress]");
    for (const output of ["transactions", "events", "customers", "campaigns", "truth_segments", "products"]) {
      const [a, b, c] = await Promise.all([rowsOf("it-gen-a", output), rowsOf("it-gen-b", output), rowsOf("it-gen-c", output)]);
      expect(a.length, output).toBeGreaterThan(0);
      expect(b, output).toEqual(a);
      expect(c, output).not.toEqual(a);
    }
    // The JVM's own account of where each class came from: the archive ("shared objects file") or a jar.
    const loaded = readFileSync(classLog, "utf8").split("\n").filter((l) => l.includes("[class,load]"));
    const shared = loaded.filter((l) => l.includes("source: shared objects file")).length;
    console.log(`generate: the driver's JVM loaded ${loaded.length} classes, ${shared} from the class archive`);
    expect(shared).toBeGreaterThan(loaded.length / 2);
    const planted = (await manifestOf(root(), "it-gen-a")).metrics.planted_dirt;
    expect(planted).toEqual((await manifestOf(root(), "it-gen-b")).metrics.planted_dirt);
  });
});
