// Set-up of every integration file: records when the file started (before its beforeAll hooks),
// for the summary of `npm test` (scripts/test-summary.cjs), when SPARKJOBS_TEST_STARTS names a folder.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";

const dir = process.env.SPARKJOBS_TEST_STARTS;
const file = expect.getState().testPath;
if (dir && file) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${file.split("/").pop()}.json`), JSON.stringify({ file, startTime: Date.now() }));
}
