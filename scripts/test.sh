#!/usr/bin/env bash
# All tests, in tiers: unit (TypeScript, milliseconds), infrastructure checks (checkov, the state
# machines through asl-validator, terraform validate/test), runner (pytest with a real
# SparkSession), integration (the real CLI, real spark-submit). Called by `npm test` after bootstrap.
# Ends with one line counting every tier: "tests: N passed, N failed".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
venv=$(node dist/submitter/src/env/where.js venv)
export SPARKJOBS_VENV="$venv"
# The pinned AWS SDK runs on Node 20; its notice about later releases needing Node 22 is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT

echo "== unit tests (vitest)"
npx --no-install vitest run --project unit --reporter=default --reporter=json --outputFile.json="$reports/unit.json"

echo "== infrastructure checks (checkov, asl-validator, terraform)"
bash scripts/infra-check.sh

echo "== runner tests (pytest, real SparkSession)"
"$venv/bin/python" -m pytest -q --durations=5 tests/runner --junitxml="$reports/runner.xml"

echo "== integration tests (vitest: real CLI, real Spark)"
npx --no-install vitest run --project integration --reporter=default --reporter=json --outputFile.json="$reports/integration.json"

node -e '
const fs = require("node:fs");
const [dir] = process.argv.slice(1);
let passed = 0, failed = 0, skipped = 0;
for (const f of ["unit.json", "integration.json"]) {
  const r = JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8"));
  passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
}
const xml = fs.readFileSync(`${dir}/runner.xml`, "utf8");
const suite = xml.match(/<testsuite [^>]*>/)[0];
const attr = (n) => Number((suite.match(new RegExp(` ${n}="(\\d+)"`)) || [0, 0])[1]);
const runnerFailed = attr("failures") + attr("errors");
passed += attr("tests") - runnerFailed - attr("skipped"); failed += runnerFailed; skipped += attr("skipped");
// Where the time went: the wall time of every integration file, slowest first. Files run one after
// another, and a file's own startTime comes after its beforeAll hooks: its time runs from the end
// of the file before it (the first: from the start of the run) to its own end.
const integ = JSON.parse(fs.readFileSync(`${dir}/integration.json`, "utf8"));
const ended = [...integ.testResults].sort((a, b) => a.endTime - b.endTime);
const files = ended.map((t, i) => [(t.endTime - (i ? ended[i - 1].endTime : integ.startTime)) / 1000, t.name.replace(/^.*\/tests\//, "tests/")]).sort((a, b) => b[0] - a[0]);
console.log("integration files, wall seconds:");
for (const [s, n] of files) console.log(`  ${s.toFixed(0).padStart(6)}  ${n}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
// In CI a skipped test is a test whose real part was missing: it fails the run, never passes it.
if (process.env.CI === "true" && skipped > 0) { console.error(`CI=true: ${skipped} tests were skipped; every test must run in CI`); process.exit(1); }
' "$reports"
