/**
 * Item 5 of `npm run bench`: reading a run's output back, one way per process so each has its own
 * peak memory (VmHWM, read from /proc/self/status at the end):
 *
 *   node dist/bench/readback.js validate <run dir> <output>   the submitter's validateOutput (what
 *                                                             `sparkjobs run` and `validate` do)
 *   node dist/bench/readback.js arrow <run dir> <output>      a bare Arrow decode of the same files:
 *                                                             parquet-wasm, 64k-row batches, into
 *                                                             apache-arrow tables; nothing checked
 *
 * Prints one JSON line: { mode, rows, ms, hwmMiB, ... }. The bench driver (suite.ts) runs each
 * several times, alternating, with pyarrow as a third reader (bench/peers/pyarrow_decode.py).
 */
import { openAsBlob, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ManifestOutput } from "../schemas/src/index.js";
import { validateOutput } from "../submitter/src/results/validate.js";
import { LocalStorage, toLocalPath } from "../submitter/src/stage/storage.js";

const hwmMiB = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]) / 1024;

async function main() {
  const [mode, runDir, name] = process.argv.slice(2);
  if (!mode || !runDir || !name) throw new Error("usage: readback.js validate|arrow <run dir> <output>");
  const output = JSON.parse(readFileSync(join(runDir, "_manifest.json"), "utf8")).outputs[name] as ManifestOutput;
  if (!output) throw new Error(`${runDir} has no output ${name}`);
  const bytes = output.files.reduce((a, f) => a + f.bytes, 0);
  const t0 = performance.now();
  if (mode === "validate") {
    const report = await validateOutput(new LocalStorage(), name, output);
    const ms = performance.now() - t0;
    if (report.missingFiles.length || report.problems.length) throw new Error(`validation found problems: ${JSON.stringify([...report.missingFiles, ...report.problems].slice(0, 5))}`);
    console.log(JSON.stringify({ mode, rows: report.rows, ms, hwmMiB: hwmMiB(), bytes, bytesRead: report.bytesRead }));
  } else if (mode === "arrow") {
    const pw = await import("parquet-wasm");
    const arrow = await import("apache-arrow");
    const t1 = performance.now(); // the wasm module compiles on import: not part of the decode
    let rows = 0;
    let nulls = 0;
    for (const f of output.files) {
      const file = await pw.ParquetFile.fromFile(await openAsBlob(toLocalPath(join(output.uri, f.path))));
      const reader = ((await file.stream({ batchSize: 65536 })) as ReadableStream<import("parquet-wasm").RecordBatch>).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const table = arrow.tableFromIPC(value.intoIPCStream());
        rows += table.numRows;
        for (const field of table.schema.fields) nulls += table.getChild(field.name)!.nullCount;
      }
      file.free();
    }
    const ms = performance.now() - t1;
    console.log(JSON.stringify({ mode, rows, ms, hwmMiB: hwmMiB(), bytes, nulls, importMs: t1 - t0 }));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
