// The last lines of `npm test` (scripts/test.sh): every tier's tests counted from its report in the
// directory given, the integration files by wall time, and in CI a failure for any skipped test.
const fs = require("node:fs");
const [dir] = process.argv.slice(2);
let passed = 0, failed = 0, skipped = 0;
for (const f of ["unit.json", "integration.json"]) {
  const r = JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8"));
  passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
}
// The pytest tiers' JUnit reports: the runner's, and the Airflow operators' when that tier ran.
for (const f of ["runner.xml", "airflow.xml"]) {
  if (f !== "runner.xml" && !fs.existsSync(`${dir}/${f}`)) continue;
  const xml = fs.readFileSync(`${dir}/${f}`, "utf8");
  const suite = xml.match(/<testsuite [^>]*>/)[0];
  const attr = (n) => Number((suite.match(new RegExp(` ${n}="(\\d+)"`)) || [0, 0])[1]);
  const tierFailed = attr("failures") + attr("errors");
  passed += attr("tests") - tierFailed - attr("skipped"); failed += tierFailed; skipped += attr("skipped");
}
// Where the time went: the wall time of every integration file, slowest first, from its start (its
// set-up file records it in <dir>/starts/, before its beforeAll hooks) to its end. Two files run at
// a time, so these add up to about twice the tier's time.
const integ = JSON.parse(fs.readFileSync(`${dir}/integration.json`, "utf8"));
const starts = {};
if (fs.existsSync(`${dir}/starts`)) for (const f of fs.readdirSync(`${dir}/starts`)) { const s = JSON.parse(fs.readFileSync(`${dir}/starts/${f}`, "utf8")); starts[s.file] = s.startTime; }
const files = integ.testResults.map((t) => [(t.endTime - (starts[t.name] ?? t.startTime)) / 1000, t.name.replace(/^.*\/tests\//, "tests/")]).sort((a, b) => b[0] - a[0]);
const last = Math.max(...integ.testResults.map((t) => t.endTime));
console.log(`integration: ${integ.testResults.length} files in ${((last - integ.startTime) / 1000).toFixed(0)} s, two at a time; each file's wall seconds:`);
for (const [s, n] of files) console.log(`  ${s.toFixed(0).padStart(6)}  ${n}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
// In CI a skipped test is a test whose real part was missing: it fails the run, never passes it.
if (process.env.CI === "true" && skipped > 0) { console.error(`CI=true: ${skipped} tests were skipped; every test must run in CI`); process.exit(1); }
