#!/usr/bin/env bash
# All tests, in tiers: unit (TypeScript, milliseconds), runner (pytest with a real SparkSession),
# integration (the real CLI, real spark-submit). Called by `npm test` after bootstrap.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
venv=$(node dist/submitter/src/env/where.js venv)
export SPARKJOBS_VENV="$venv"

echo "== unit tests (vitest)"
npx --no-install vitest run --project unit

echo "== runner tests (pytest, real SparkSession)"
"$venv/bin/python" -m pytest -q tests/runner

echo "== integration tests (vitest: real CLI, real Spark)"
npx --no-install vitest run --project integration
