"""SparkjobsRunOperator and SparkjobsPipelineOperator: `sparkjobs run|pipeline --json` as a task.

- The run id is the same on every try of a task (derived from the DAG, the DAG run, the task and
  its map index, or given), so a retried task follows the EMR step, job run or YARN application
  of its first try, or reports the complete run, and never starts the job a second time.
- Exit codes become Airflow outcomes: a failure no retry can fix (bad input, a failed gate,
  refused credentials, ...) raises AirflowFailException and the task's retries are not used; an
  unreachable or throttling service, a failed Spark job or a killed CLI raises AirflowException,
  which the task's retries retry.
- The CLI's stderr (progress, the step's or application's log location, errors) streams into the
  task log; the --json summary is the task's return value (XCom `return_value`).
- on_kill (the task marked failed, its execution_timeout, the worker's SIGTERM) sends SIGTERM to
  the CLI, which cancels the step, job run or application and exits 130.
"""

from __future__ import annotations

import os
import shlex
from typing import Any, Optional, Sequence, Union

from .outcomes import outcome
from .process import CliProcess
from .run_ids import check_run_id, derive_run_id

try:  # Airflow 3
    from airflow.sdk import BaseOperator
    from airflow.sdk.exceptions import AirflowException, AirflowFailException
except ImportError:  # Airflow 2.10
    from airflow.exceptions import AirflowException, AirflowFailException  # type: ignore[no-redef]
    from airflow.models import BaseOperator  # type: ignore[no-redef]

Scalar = Union[str, int, float, bool]


def default_cli() -> list[str]:
    """$SPARKJOBS_CLI (split like a shell would: `node /opt/sparkjobs/dist/submitter/src/cli.js`), or
    `sparkjobs` on the PATH."""
    return shlex.split(os.environ.get("SPARKJOBS_CLI", "")) or ["sparkjobs"]


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _SparkjobsOperator(BaseOperator):
    template_fields: Sequence[str] = ("run_id", "target", "root", "jobs_dir", "series", "job_params", "conf", "options", "env")
    template_fields_renderers = {"job_params": "json", "conf": "json", "options": "json", "env": "json"}
    ui_color = "#f0e4d7"
    subcommand = ""

    def __init__(
        self,
        *,
        run_id: Optional[str] = None,
        job_params: Optional[dict[str, Scalar]] = None,
        target: Optional[str] = None,
        root: Optional[str] = None,
        jobs_dir: Optional[str] = None,
        series: Optional[str] = None,
        conf: Optional[dict[str, Scalar]] = None,
        options: Optional[dict[str, Union[Scalar, None]]] = None,
        env: Optional[dict[str, str]] = None,
        cli: Optional[Union[str, Sequence[str]]] = None,
        cancel_grace_seconds: float = 180,
        **kwargs: Any,
    ) -> None:
        """
        :param run_id: the sparkjobs run id; by default derived from the DAG, the DAG run, the task
            and its map index, the same on every try. Templated; an empty rendering means the default.
        :param job_params: the job's (or pipeline's) parameters, `--param name=value`. Templated.
        :param target: local, standalone, yarn, emr or emr-serverless. Templated.
        :param root: the storage root (a folder, s3://bucket/prefix or hdfs://...). Templated.
        :param jobs_dir: a folder of the team's job definitions. Templated.
        :param series: the history series that drift gates compare within. Templated.
        :param conf: Spark settings, `--conf key=value`. Templated.
        :param options: any other option of the command without its dashes, e.g.
            {"cluster-id": "j-...", "timeout": 7200, "no-session": True}; True gives a bare flag,
            None or False leaves the option out. Templated.
        :param env: variables added to the worker's environment for the CLI (endpoints, the
            SPARKJOBS_* settings). Templated.
        :param cli: the command that runs sparkjobs (default: $SPARKJOBS_CLI or `sparkjobs`).
        :param cancel_grace_seconds: how long on_kill waits for the CLI to cancel the run and
            exit before killing it.
        """
        super().__init__(**kwargs)
        self.run_id = run_id
        self.job_params = dict(job_params or {})
        self.target = target
        self.root = root
        self.jobs_dir = jobs_dir
        self.series = series
        self.conf = dict(conf or {})
        self.options = dict(options or {})
        self.env = dict(env or {})
        self.cli = shlex.split(cli) if isinstance(cli, str) else list(cli) if cli else None
        self.cancel_grace_seconds = cancel_grace_seconds
        self._process: Optional[CliProcess] = None

    # -- what runs ---------------------------------------------------------------------------

    def _name(self) -> str:
        raise NotImplementedError

    def resolved_run_id(self, context: Any) -> str:
        if self.run_id:
            return check_run_id(str(self.run_id))
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        return derive_run_id(ti.dag_id, context["run_id"], ti.task_id, -1 if map_index is None else map_index)

    def command(self, run_id: str) -> list[str]:
        cmd = [*(self.cli or default_cli()), self.subcommand, self._name(), "--json", "--run-id", run_id]
        for flag, value in (("--target", self.target), ("--root", self.root), ("--jobs-dir", self.jobs_dir), ("--series", self.series)):
            if value:
                cmd += [flag, str(value)]
        for name, value in self.job_params.items():
            cmd += ["--param", f"{name}={_text(value)}"]
        for key, value in self.conf.items():
            cmd += ["--conf", f"{key}={_text(value)}"]
        for name, value in self.options.items():
            if value is None or value is False:
                continue
            flag = f"--{name.lstrip('-')}"
            cmd += [flag] if value is True else [flag, _text(value)]
        return cmd

    # -- Airflow's side ------------------------------------------------------------------------

    def execute(self, context: Any) -> Any:
        run_id = self.resolved_run_id(context)
        ti = context["ti"]
        self.log.info("sparkjobs run id %s (the same on every try of this task: a retry follows or reports this run, never starts another); try %s", run_id, getattr(ti, "try_number", "?"))
        env = {**os.environ, **{k: str(v) for k, v in self.env.items()}}
        self._process = CliProcess(self.command(run_id), env, lambda line: self.log.info("%s", line))
        result = self._process.run()
        summary = result.summary
        result_outcome = outcome(result.exit_code, summary)
        if result_outcome.succeeded:
            if summary is None:
                raise AirflowException(f"sparkjobs exited 0 without its --json summary on stdout: {result.stdout[-500:]!r}")
            return summary
        if summary is not None:
            ti.xcom_push(key="summary", value=summary)
        reason = result_outcome.reason
        failed_gates = [c.get("name") for c in (summary or {}).get("checks", []) if isinstance(c, dict) and c.get("outcome") == "error"]
        if failed_gates:
            reason += f" (failed gates: {', '.join(map(str, failed_gates))})"
        reason = f"sparkjobs {self.subcommand} {self._name()} (run {run_id}): {reason}"
        if result_outcome.retryable:
            reason += "; a retry follows or completes the same run"
            self.log.error("%s", reason)
            raise AirflowException(reason)
        reason += "; not retried: the same try would fail the same way"
        self.log.error("%s", reason)
        raise AirflowFailException(reason)

    def on_kill(self) -> None:
        if self._process is None:
            return
        code = self._process.cancel(self.cancel_grace_seconds)
        if code is not None:
            self.log.info("sparkjobs exited %s after the cancel", code)


class SparkjobsRunOperator(_SparkjobsOperator):
    """Runs one job: `sparkjobs run <job> --json`."""

    template_fields: Sequence[str] = ("job", *_SparkjobsOperator.template_fields)
    subcommand = "run"

    def __init__(self, *, job: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job

    def _name(self) -> str:
        return self.job


class SparkjobsPipelineOperator(_SparkjobsOperator):
    """Runs a whole pipeline as one task: `sparkjobs pipeline <name> --json`. Its steps' run ids are
    `<run id>.<step>`; a retried task reuses the steps that are complete and runs the rest."""

    template_fields: Sequence[str] = ("pipeline", *_SparkjobsOperator.template_fields)
    subcommand = "pipeline"

    def __init__(self, *, pipeline: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pipeline = pipeline

    def _name(self) -> str:
        return self.pipeline
