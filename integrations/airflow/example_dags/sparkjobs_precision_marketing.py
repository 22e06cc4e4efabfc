"""The precision-marketing chain as an Airflow DAG: one task per job (generate, segments, pca,
response, score, uplift, score_uplift, target, target_uplift, recommend, basket_rules, clv, kpis),
each reading the run ids of the tasks before it through XCom.

Where the jobs run comes from the worker's environment, as for the CLI: SPARKJOBS_TARGET (local,
standalone, yarn, emr, emr-serverless), SPARKJOBS_ROOT (a folder, s3://... or hdfs://...),
SPARKJOBS_EMR_CLUSTER_ID, SPARKJOBS_EMR_SERVERLESS_APPLICATION_ID and the rest (`sparkjobs run
--help`); SPARKJOBS_CLI is the command that runs sparkjobs (default `sparkjobs`), SPARKJOBS_HOME the
folder of the sparkjobs package (its jobs/ folder).

A retried task uses the same run id as its first try: it follows the step, job run or application
that try started, or reports the complete run; it never runs the job twice. A failed gate, bad
input or refused credentials fail the task at once; its retries are for unreachable services and
failed Spark jobs. Trigger it with parameters (customers, k, budget, ...) like the pipeline's; with
run_prefix set, the run ids are those of `sparkjobs pipeline precision-marketing --run-id
<run_prefix>`, so the two reuse each other's complete runs.
"""

import os
from datetime import datetime, timedelta
from pathlib import Path

from sparkjobs_airflow import pipeline_dag

SPARKJOBS_HOME = Path(os.environ.get("SPARKJOBS_HOME") or Path(__file__).resolve().parents[3])

dag = pipeline_dag(
    SPARKJOBS_HOME / "jobs" / "pipelines" / "precision-marketing.yaml",
    dag_id="sparkjobs_precision_marketing",
    dag_kwargs={"start_date": datetime(2026, 1, 1), "schedule": None, "tags": ["sparkjobs", "marketing"], "max_active_runs": 1},
    retries=2,
    retry_exponential_backoff=2.0,
    max_retry_delay=timedelta(minutes=30),
    execution_timeout=timedelta(hours=3),
)
