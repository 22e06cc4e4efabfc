// The last lines of `npm test` (scripts/test.sh): every tier's tests counted from its report in the
// directory given, the integration files by wall time, and in CI a failure for any skipped test.
const fs = require("node:fs");
const [dir] = process.argv.slice(2);
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
