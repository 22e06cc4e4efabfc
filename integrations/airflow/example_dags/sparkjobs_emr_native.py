"""The native route, for teams that want only the Amazon provider's operators on EMR: `sparkjobs
stage` uploads the runner and the plan and prints the step; EmrAddStepsOperator adds it,
EmrStepSensor waits for it, and `sparkjobs validate` checks the outputs.

What this protects against:
- A retried `stage` uploads nothing twice (content-addressed) and prints the same step for the same
  run id and plan.
- add_step has retries=0: Airflow never sends AddJobFlowSteps again by itself. AddJobFlowSteps has
  no idempotency token, so a retried add is how a job runs twice.
- The sensor's retries only read (DescribeStep).
- A duplicate step of a run that is complete with the same plan computes nothing (the runner exits
  0 at once), and one with another plan is refused (exit 11 in the step's log).
- A step that ends COMPLETED is not taken as success on its own: validate reads the run's manifest
  and checks every output, so a half-written run fails the DAG run.

What it does not protect against (SparkjobsRunOperator does):
- A person clearing add_step while its step still runs adds a second step that computes the same
  run at the same time: the step is not looked up by name before it is added.
- A failed add (throttled, timed out) fails the DAG run instead of being retried safely.
- Killing the sensor or marking the DAG run failed leaves the step running: nothing cancels it.
- The runner's error is not in the task log: it is in the step's stderr under the cluster's LogUri,
  and only after EMR has pushed the logs (about five minutes).

Parameters: cluster_id (j-...), job, job_params ({"name": "value"}), root (s3://...). The CLI comes
from SPARKJOBS_CLI (default `sparkjobs`).
"""

import json
import subprocess
from datetime import datetime

from airflow.providers.amazon.aws.operators.emr import EmrAddStepsOperator
from airflow.providers.amazon.aws.sensors.emr import EmrStepSensor
from airflow.sdk import DAG, Param, task

from sparkjobs_airflow.operators import default_cli
from sparkjobs_airflow.run_ids import derive_run_id


def _sparkjobs(*args: str) -> dict:
    done = subprocess.run([*default_cli(), *args, "--json"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"sparkjobs {args[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


with DAG(
    "sparkjobs_emr_native",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["sparkjobs", "emr"],
    render_template_as_native_obj=True,
    params={
        "cluster_id": Param("j-XXXXXXXXXXXXX", type="string", pattern=r"^j-[0-9A-Z]+$"),
        "job": Param("customer-segmentation", type="string"),
        "job_params": Param({}, type="object"),
        "root": Param("s3://my-bucket/sparkjobs", type="string"),
    },
) as dag:

    @task(retries=2)
    def stage(params=None, ti=None, run_id=None) -> dict:
        # The same run id on every try, so a retried stage prints the same step.
        rid = derive_run_id(ti.dag_id, run_id, "run", -1)
        args = ["stage", params["job"], "--target", "emr", "--cluster-id", params["cluster_id"], "--root", params["root"], "--run-id", rid]
        for name, value in params["job_params"].items():
            args += ["--param", f"{name}={value}"]
        return _sparkjobs(*args)

    staged = stage()

    add_step = EmrAddStepsOperator(
        task_id="add_step",
        job_flow_id="{{ params.cluster_id }}",
        steps="{{ [ti.xcom_pull(task_ids='stage')['emrStep']] }}",
        retries=0,
    )

    wait = EmrStepSensor(
        task_id="wait_for_step",
        job_flow_id="{{ params.cluster_id }}",
        step_id="{{ ti.xcom_pull(task_ids='add_step')[0] }}",
        poke_interval=60,
        retries=3,
    )

    @task(retries=2)
    def validate(params=None, ti=None) -> dict:
        run = ti.xcom_pull(task_ids="stage")
        return _sparkjobs("validate", run["runId"], "--root", params["root"])

    staged >> add_step >> wait >> validate()
