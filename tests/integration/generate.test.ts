/**
 * The generator is a Spark job whose randomness is a hash of (seed, row, purpose): the same seed
 * gives the same rows, another seed other rows.
 */
import { describe, expect, it } from "vitest";
import { cliJson, manifestOf, readOutput, root } from "./helpers.js";

const generate = (runId: string, seed: number) =>
  cliJson(["run", "generate", "--param", "customers=200", "--param", `seed=${seed}`, "--run-id", runId]);

async function rowsOf(runId: string, output: string): Promise<string[]> {
  const manifest = await manifestOf(root(), runId);
  const rows = await readOutput(manifest.outputs[output]);
  return rows.map((r) => JSON.stringify(r, (_, v) => (typeof v === "bigint" ? v.toString() : v))).sort();
}

describe("generate", () => {
  it("same seed, same rows; another seed, other rows", async () => {
    for (const [id, seed] of [["it-gen-a", 11], ["it-gen-b", 11], ["it-gen-c", 12]] as const) {
      const { result, json } = generate(id, seed);
      expect(result.code, result.stderr.slice(-3000)).toBe(0);
      expect(json.reused).toBe(false);
    }
    for (const output of ["transactions", "events", "customers", "campaigns", "truth_segments", "products"]) {
      const [a, b, c] = await Promise.all([rowsOf("it-gen-a", output), rowsOf("it-gen-b", output), rowsOf("it-gen-c", output)]);
      expect(a.length, output).toBeGreaterThan(0);
      expect(b, output).toEqual(a);
      expect(c, output).not.toEqual(a);
    }
    const planted = (await manifestOf(root(), "it-gen-a")).metrics.planted_dirt;
    expect(planted).toEqual((await manifestOf(root(), "it-gen-b")).metrics.planted_dirt);
  });
});
