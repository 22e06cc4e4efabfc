#!/usr/bin/env bash
# All tests, in tiers: unit (TypeScript, milliseconds), infrastructure checks (checkov, the state
# machines through asl-validator, terraform validate/test), runner (pytest with a real
# SparkSession), the Airflow operators (pytest in Airflow's environment), integration (the real
# CLI, real spark-submit, real Airflow). Called by `npm test` after bootstrap.
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
# Its SparkSession's JVM starts as a local run's would: the serial collector (as the integration
# tests' local drivers, vitest.config.ts) and Spark's classes from the class archive, when there is one.
SPARK_SUBMIT_OPTS="-XX:+UseSerialGC $(node dist/submitter/src/env/class-archive.js option)" \
  "$venv/bin/python" -m pytest -q --durations=5 tests/runner --junitxml="$reports/runner.xml"

echo "== Airflow operators (pytest, Airflow 3 from integrations/airflow/requirements-test.txt)"
"$(node dist/submitter/src/env/where.js airflow-venv)/bin/python" -m pytest -q -p no:cacheprovider integrations/airflow/tests --junitxml="$reports/airflow.xml"

echo "== integration tests (vitest: real CLI, real Spark; two files at a time, vitest.config.ts)"
SPARKJOBS_TEST_STARTS="$reports/starts" npx --no-install vitest run --project integration --reporter=default --reporter=json --outputFile.json="$reports/integration.json"

node scripts/test-summary.cjs "$reports"
