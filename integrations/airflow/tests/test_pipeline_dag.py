"""A DAG from a pipeline definition: one task per step, dependencies from the steps' references,
run ids through XCom, the pipeline's parameters as the DAG's; and the example DAGs import cleanly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sparkjobs_airflow import pipeline_dag
from sparkjobs_airflow.pipeline_dag import PipelineFileError

REPO = Path(__file__).resolve().parents[3]
PIPELINES = REPO / "jobs" / "pipelines"


@pytest.mark.parametrize("name", ["precision-marketing", "retail-analytics", "campaign-targeting"])
def test_every_shipped_pipeline_becomes_a_dag_of_its_steps(name):
    file = PIPELINES / f"{name}.yaml"
    pipeline = yaml.safe_load(file.read_text())
    dag = pipeline_dag(file)
    assert dag.dag_id == f"sparkjobs_{name.replace('-', '_')}"
    steps = pipeline["steps"]
    assert [t.task_id for t in dag.tasks] == [s["name"] for s in steps]
    for step in steps:
        task = dag.get_task(step["name"])
        assert task.job == step["job"]
        # Upstream tasks: exactly the steps its parameters name, counted here from the YAML.
        named = {m for v in (step.get("params") or {}).values() for m in re.findall(r"\{steps\.([^}]+)\}", str(v))}
        assert set(task.upstream_task_ids) == named, step["name"]
        for key, value in (step.get("params") or {}).items():
            expected = re.sub(r"\{steps\.([^}]+)\}", r"{{ ti.xcom_pull(task_ids='\1')['runId'] }}", str(value))
            expected = re.sub(r"\{([a-z_]+)\}", r"{{ params.\1 }}", expected)
            assert task.job_params[key] == expected
    declared = pipeline.get("params") or {}
    assert set(dag.params.keys()) == set(declared) | {"run_prefix"}
    for key, spec in declared.items():
        if "default" in spec:
            assert dag.params[key] == spec["default"], key


def test_run_prefix_gives_the_pipelines_run_ids():
    dag = pipeline_dag(PIPELINES / "precision-marketing.yaml")
    task = dag.get_task("segments")
    env = dag.get_template_env()
    render = lambda prefix: env.from_string(task.run_id).render(params={"run_prefix": prefix})  # noqa: E731
    assert render("it-pm") == "it-pm.segments"
    assert render(None) == ""
    assert render("") == ""


def test_a_step_that_names_a_later_step_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nversion: 1\ndescription: x\nsteps:\n  - name: a\n    job: kpis\n    params: { source: '{steps.b}' }\n  - name: b\n    job: generate\n")
    with pytest.raises(PipelineFileError, match=r"bad.yaml: steps\[0\].params.source: \{steps.b\} is not an earlier step"):
        pipeline_dag(bad)
    with pytest.raises(PipelineFileError, match=r"missing.yaml: cannot be read"):
        pipeline_dag(tmp_path / "missing.yaml")


def test_the_example_dags_import_without_errors(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("SPARKJOBS_HOME", str(REPO))
    bag = DagBag(dag_folder=str(REPO / "integrations" / "airflow" / "example_dags"))
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == ["sparkjobs_emr_native", "sparkjobs_precision_marketing"]
    pm = bag.dags["sparkjobs_precision_marketing"]
    assert len(pm.tasks) == 13 and all(t.retries == 2 for t in pm.tasks)
