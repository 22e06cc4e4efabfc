#!/usr/bin/env bash
# npm run bench [-- --scale S|M|L[,..]]: sparkjobs beside its peers, in one run, as ratios
# (bench/suite.ts -> bench/results.json and docs/benchmarks.md).
# npm run bench -- report-charts <report.html>: inline SVG against chart libraries in the HTML report
# (docs/report-charts.md).
# npm run bench -- readers [...]: the Parquet readers for Node compared (docs/parquet-readers.md); the
# fixture (1M rows, written by the pinned Spark) is made once under ~/.cache/sparkjobs/bench/, e.g.
# npm run bench -- readers --reps 3 --readers hyparquet-chunk,parquet-wasm
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
if [ "${1:-}" = "report-charts" ]; then
  shift
  exec node dist/bench/report-charts.js "$@"
fi
if [ "${1:-}" != "readers" ]; then
  exec node dist/bench/suite.js "$@"
fi
shift
venv=$(node dist/submitter/src/env/where.js venv)
fixture="${XDG_CACHE_HOME:-$HOME/.cache}/sparkjobs/bench/segments-1m"
if [ ! -f "$fixture/_bench_checksums.json" ]; then
  echo "[bench] writing the 1M-row fixture with Spark: $fixture" >&2
  rm -rf "$fixture"
  "$venv/bin/python" bench/make_parquet_fixture.py "$fixture"
fi
mkdir -p bench/out
node dist/bench/parquet-readers.js bench "$fixture" "$@"
