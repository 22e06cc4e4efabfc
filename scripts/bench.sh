#!/usr/bin/env bash
# npm run bench: the measurements behind the project's choices, side by side in one run.
# Today: reading Spark-written Parquet in Node (docs/parquet-readers.md). The fixture (1M rows,
# written by the pinned Spark) is made once under ~/.cache/sparkjobs/bench/.
# Extra arguments go to the reader benchmark, e.g. npm run bench -- --reps 3 --readers hyparquet-chunk,parquet-wasm
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
venv=$(node dist/submitter/src/env/where.js venv)
fixture="${XDG_CACHE_HOME:-$HOME/.cache}/sparkjobs/bench/segments-1m"
if [ ! -f "$fixture/_bench_checksums.json" ]; then
  echo "[bench] writing the 1M-row fixture with Spark: $fixture" >&2
  rm -rf "$fixture"
  "$venv/bin/python" bench/make_parquet_fixture.py "$fixture"
fi
mkdir -p bench/out
node dist/bench/parquet-readers.js bench "$fixture" "$@"
