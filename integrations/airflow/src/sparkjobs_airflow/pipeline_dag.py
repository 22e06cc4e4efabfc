"""A DAG from a sparkjobs pipeline definition (jobs/pipelines/<name>.yaml): one task per step, each
one job, run ids passed from task to task through XCom, dependencies from the steps' references.

A step's parameter `{steps.segments}` becomes the run id that the `segments` task returned, and
`{budget}` the DAG's parameter `budget` (the pipeline's parameters become the DAG's, with their
defaults, types and bounds). With the DAG parameter `run_prefix` set, run ids are
`<run_prefix>.<step>`, exactly as `sparkjobs pipeline --run-id <run_prefix>` names its steps: a DAG
run and a pipeline run of the same prefix reuse each other's complete steps. Without it every
task derives its run id from the DAG run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional, Union

import yaml

from .operators import SparkjobsRunOperator

try:  # Airflow 3
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2.10
    from airflow.models.dag import DAG  # type: ignore[no-redef]
    from airflow.models.param import Param  # type: ignore[no-redef]

_PLACEHOLDER = re.compile(r"\{([^}]*)\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PipelineFileError(ValueError):
    """A pipeline file this module cannot turn into tasks; the message names the file and the field."""


def load_pipeline(path: Union[str, Path]) -> dict[str, Any]:
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as e:
        raise PipelineFileError(f"{file}: cannot be read ({e.strerror}); give the path of a pipeline definition (jobs/pipelines/<name>.yaml)") from e
    except yaml.YAMLError as e:
        raise PipelineFileError(f"{file}: not valid YAML: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise PipelineFileError(f"{file}: steps: a pipeline lists its steps (name, job, params); `sparkjobs pipeline <name> --help` checks the file")
    names: set[str] = set()
    for i, step in enumerate(data["steps"]):
        if not isinstance(step, dict) or not isinstance(step.get("name"), str) or not isinstance(step.get("job"), str):
            raise PipelineFileError(f"{file}: steps[{i}]: each step has a name and a job")
        if not _IDENTIFIER.match(step["name"]):
            raise PipelineFileError(f"{file}: steps[{i}].name {step['name']!r}: letters, digits and _ (it becomes a task id)")
        for key, value in (step.get("params") or {}).items():
            for ref in _PLACEHOLDER.findall(str(value)):
                if ref.startswith("steps.") and ref[6:] not in names:
                    raise PipelineFileError(f"{file}: steps[{i}].params.{key}: {{{ref}}} is not an earlier step")
                if not ref.startswith("steps.") and ref not in (data.get("params") or {}):
                    raise PipelineFileError(f"{file}: steps[{i}].params.{key}: {{{ref}}} is not a parameter of the pipeline")
        names.add(step["name"])
    return data


def dag_params(pipeline: dict[str, Any]) -> dict[str, Param]:
    """The pipeline's parameters as the DAG's, plus run_prefix."""
    params: dict[str, Param] = {}
    for name, spec in (pipeline.get("params") or {}).items():
        kind = spec.get("type")
        schema: dict[str, Any] = {"description": spec.get("description", "")}
        if kind == "int":
            schema["type"] = "integer"
        elif kind == "double":
            schema["type"] = "number"
        elif kind == "boolean":
            schema["type"] = "boolean"
        else:
            schema["type"] = "string"
        if kind == "enum":
            schema["enum"] = list(spec["values"])
        if "min" in spec:
            schema["minimum"] = spec["min"]
        if "max" in spec:
            schema["maximum"] = spec["max"]
        if kind == "string" and "pattern" in spec:
            schema["pattern"] = spec["pattern"]
        params[name] = Param(spec["default"], **schema) if "default" in spec else Param(**schema)
    params["run_prefix"] = Param(
        None,
        type=["null", "string"],
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$",
        description="run ids <run_prefix>.<step>, as `sparkjobs pipeline --run-id <run_prefix>` names its steps; empty: derived from the DAG run",
    )
    return params


def _template(value: Any, steps: set[str]) -> tuple[str, set[str]]:
    """A step parameter as a Jinja template, and the steps it reads."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    upstream: set[str] = set()

    def replace(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref.startswith("steps."):
            upstream.add(ref[6:])
            return "{{ ti.xcom_pull(task_ids='%s')['runId'] }}" % ref[6:]
        return "{{ params.%s }}" % ref

    # Literal braces of Jinja in a value are kept as text.
    escaped = text.replace("{{", "{{ '{{' }}").replace("}}", "{{ '}}' }}") if "{{" in text or "}}" in text else text
    return _PLACEHOLDER.sub(replace, escaped), upstream & steps


def pipeline_tasks(pipeline_file: Union[str, Path], **operator_kwargs: Any) -> dict[str, SparkjobsRunOperator]:
    """The pipeline's steps as SparkjobsRunOperator tasks of the DAG being defined (call it inside
    `with DAG(...)`, whose params include the pipeline's: see dag_params). operator_kwargs go to
    every task (target, root, jobs_dir, options, env, retries, ...)."""
    pipeline = load_pipeline(pipeline_file)
    tasks: dict[str, SparkjobsRunOperator] = {}
    for step in pipeline["steps"]:
        params: dict[str, str] = {}
        upstream: set[str] = set()
        for key, value in (step.get("params") or {}).items():
            params[key], reads = _template(value, set(tasks))
            upstream |= reads
        name = step["name"]
        task = SparkjobsRunOperator(
            task_id=name,
            job=step["job"],
            job_params=params,
            run_id="{{ (params.run_prefix ~ '.%s') if params.run_prefix else '' }}" % name,
            doc_md=step.get("description") or f"job {step['job']}",
            **operator_kwargs,
        )
        for reads in sorted(upstream):
            tasks[reads] >> task
        tasks[name] = task
    return tasks


def pipeline_dag(pipeline_file: Union[str, Path], dag_id: Optional[str] = None, *, dag_kwargs: Optional[dict[str, Any]] = None, **operator_kwargs: Any) -> DAG:
    """A DAG of the pipeline's steps (see the module's text). dag_kwargs go to DAG (schedule,
    start_date, tags, ...); operator_kwargs to every task."""
    pipeline = load_pipeline(pipeline_file)
    kwargs: dict[str, Any] = {"schedule": None, "catchup": False, "tags": ["sparkjobs"], **(dag_kwargs or {})}
    with DAG(
        dag_id or f"sparkjobs_{pipeline.get('name', Path(pipeline_file).stem).replace('-', '_')}",
        params={**dag_params(pipeline), **kwargs.pop("params", {})},
        doc_md=str(pipeline.get("description", "")),
        **kwargs,
    ) as dag:
        pipeline_tasks(pipeline_file, **operator_kwargs)
    return dag
