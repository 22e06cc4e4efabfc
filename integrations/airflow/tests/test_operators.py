"""The operators without Spark: run ids, the exit-code policy, the command line, the CLI's output
and signals, through a stand-in CLI (a script that records its arguments and exits as told). The
real CLI under real Airflow is tests/integration/airflow.test.ts."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from sparkjobs_airflow import SparkjobsPipelineOperator, SparkjobsRunOperator, derive_run_id, outcome
from sparkjobs_airflow.run_ids import RUN_ID_PATTERN, check_run_id


def test_run_ids_are_valid_stable_and_distinct():
    base = ("marketing", "manual__2026-12-07T23:12:39.046738+00:00", "segments", -1)
    rid = derive_run_id(*base)
    assert RUN_ID_PATTERN.match(rid), rid
    assert rid == derive_run_id(*base)
    assert rid.startswith("marketing.segments-")
    others = {
        derive_run_id("marketing", "manual__2026-12-07T23:12:39.046738+00:00", "response", -1),
        derive_run_id("marketing", "manual__2026-12-07T23:12:39.046738-00:00", "segments", -1),
        derive_run_id("marketing", base[1], "segments", 0),
        derive_run_id("marketing2", base[1], "segments", -1),
    }
    assert rid not in others and len(others) == 4
    long = derive_run_id("d" * 200, "r" * 300, "t" * 250, 7)
    assert RUN_ID_PATTERN.match(long) and len(long) == 64
    odd = derive_run_id("__ünïcode dag__", "x", "-task-", -1)
    assert RUN_ID_PATTERN.match(odd), odd


def test_check_run_id_names_the_field_and_the_rule():
    assert check_run_id("it-pm.generate") == "it-pm.generate"
    with pytest.raises(ValueError, match=r"run_id '\.\./x' is not a sparkjobs run id: use 1-64 of"):
        check_run_id("../x")


@pytest.mark.parametrize(
    "code,retryable",
    [(2, False), (3, False), (4, False), (5, True), (6, False), (7, False), (8, True), (9, False), (10, False), (11, False), (12, True), (13, False), (14, False), (130, True), (1, False), (-9, True)],
)
def test_exit_codes_to_outcomes(code, retryable):
    o = outcome(code)
    assert not o.succeeded and o.retryable is retryable


def test_the_cli_says_retryable_itself():
    locked = {"status": "error", "error": {"kind": "conflict", "exitCode": 11, "retryable": True, "message": "run r is already being submitted by h pid 7", "fix": "wait"}}
    o = outcome(11, locked)
    assert o.retryable and "already being submitted" in o.reason and "fix: wait" in o.reason
    assert outcome(0).succeeded


FAKE_CLI = textwrap.dedent(
    """
    import json, os, signal, sys, time
    record = os.environ["FAKE_RECORD"]
    with open(record, "a") as f:
        f.write(json.dumps(sys.argv[1:]) + "\\n")
    mode = os.environ.get("FAKE_MODE", "ok")
    sys.stderr.write("submitted run x to emr (s-ABC); logs: s3://logs/j-1/steps/s-ABC/\\n")
    sys.stderr.flush()
    if mode == "ok":
        print(json.dumps({"runId": sys.argv[sys.argv.index("--run-id") + 1], "status": "succeeded", "reused": False, "outputs": {}, "checks": []}, indent=2))
        sys.exit(0)
    if mode == "gate":
        print(json.dumps({"runId": "r", "status": "succeeded", "checks": [{"name": "silhouette_min", "passed": False, "outcome": "error", "detail": "0.1 < 0.2"}]}))
        sys.stderr.write("error: 1 quality gate failed\\n")
        sys.exit(7)
    if mode == "unreachable":
        print(json.dumps({"status": "error", "error": {"kind": "unreachable", "exitCode": 12, "retryable": True, "message": "EMR could not be reached", "fix": "retry later"}}))
        sys.exit(12)
    if mode == "wait":
        def term(*_):
            open(os.environ["FAKE_READY"] + ".cancelled", "w").close()
            sys.stderr.write("cancelling step s-ABC\\n")
            sys.stderr.flush()
            print(json.dumps({"status": "error", "error": {"kind": "interrupted", "exitCode": 130, "retryable": True, "message": "interrupted"}}))
            sys.exit(130)
        signal.signal(signal.SIGTERM, term)
        open(os.environ["FAKE_READY"], "w").close()
        time.sleep(60)
        sys.exit(3)
    """
)


class FakeTi:
    dag_id = "marketing"
    task_id = "segments"
    map_index = -1
    try_number = 1

    def __init__(self):
        self.pushed = {}

    def xcom_push(self, key, value):
        self.pushed[key] = value


@pytest.fixture()
def fake_cli(tmp_path, monkeypatch):
    script = tmp_path / "fake_cli.py"
    script.write_text(FAKE_CLI)
    record = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_RECORD", str(record))
    monkeypatch.setenv("FAKE_READY", str(tmp_path / "ready"))
    return [sys.executable, str(script)], record, tmp_path


def context():
    return {"ti": FakeTi(), "run_id": "scheduled__2026-12-01T00:00:00+00:00"}


def test_command_line_and_return_value(fake_cli, monkeypatch):
    cli, record, _ = fake_cli
    monkeypatch.setenv("FAKE_MODE", "ok")
    op = SparkjobsRunOperator(
        task_id="segments",
        job="customer-segmentation",
        job_params={"source": "it-pm.generate", "k": 4, "include_events": True},
        target="emr",
        root="s3://b/p",
        conf={"spark.executor.memory": "4g"},
        options={"cluster-id": "j-ABC", "timeout": 7200, "no-session": True, "queue": None},
        cli=cli,
    )
    ctx = context()
    summary = op.execute(ctx)
    rid = derive_run_id("marketing", ctx["run_id"], "segments", -1)
    assert summary["runId"] == rid
    args = json.loads(record.read_text().splitlines()[0])
    assert args == [
        "run", "customer-segmentation", "--json", "--run-id", rid, "--target", "emr", "--root", "s3://b/p",
        "--param", "source=it-pm.generate", "--param", "k=4", "--param", "include_events=true",
        "--conf", "spark.executor.memory=4g", "--cluster-id", "j-ABC", "--timeout", "7200", "--no-session",
    ]
    # A second try: the same run id.
    op.execute(context())
    assert json.loads(record.read_text().splitlines()[1])[4] == rid


def test_pipeline_operator_and_given_run_id(fake_cli, monkeypatch):
    cli, record, _ = fake_cli
    monkeypatch.setenv("FAKE_MODE", "ok")
    op = SparkjobsPipelineOperator(task_id="pm", pipeline="precision-marketing", run_id="nightly-2026-12-01", job_params={"customers": 200}, cli=cli)
    assert op.execute(context())["runId"] == "nightly-2026-12-01"
    assert json.loads(record.read_text().splitlines()[0])[:5] == ["pipeline", "precision-marketing", "--json", "--run-id", "nightly-2026-12-01"]
    bad = SparkjobsRunOperator(task_id="x", job="generate", run_id="a b", cli=cli)
    with pytest.raises(ValueError, match="run_id 'a b' is not a sparkjobs run id"):
        bad.execute(context())


def test_a_failed_gate_fails_at_once_and_keeps_the_summary(fake_cli, monkeypatch):
    cli, _, _ = fake_cli
    monkeypatch.setenv("FAKE_MODE", "gate")
    op = SparkjobsRunOperator(task_id="segments", job="customer-segmentation", cli=cli)
    ctx = context()
    with pytest.raises(AirflowFailException, match=r"exit 7 \(a quality gate failed.*failed gates: silhouette_min\); not retried"):
        op.execute(ctx)
    assert ctx["ti"].pushed["summary"]["checks"][0]["name"] == "silhouette_min"


def test_an_unreachable_service_is_retried(fake_cli, monkeypatch):
    cli, _, _ = fake_cli
    monkeypatch.setenv("FAKE_MODE", "unreachable")
    op = SparkjobsRunOperator(task_id="segments", job="customer-segmentation", cli=cli)
    with pytest.raises(AirflowException) as info:
        op.execute(context())
    assert not isinstance(info.value, AirflowFailException)
    assert "exit 12" in str(info.value) and "EMR could not be reached; fix: retry later" in str(info.value)


def test_stderr_streams_into_the_task_log(fake_cli, monkeypatch, caplog):
    cli, _, _ = fake_cli
    monkeypatch.setenv("FAKE_MODE", "ok")
    op = SparkjobsRunOperator(task_id="segments", job="customer-segmentation", cli=cli)
    lines = []
    monkeypatch.setattr(type(op.log), "info", lambda self, fmt, *a: lines.append(fmt % a if a else fmt), raising=False)
    op.execute(context())
    assert any("logs: s3://logs/j-1/steps/s-ABC/" in line for line in lines), lines


def test_on_kill_sigterms_the_cli_which_cancels(fake_cli, monkeypatch):
    cli, _, tmp = fake_cli
    monkeypatch.setenv("FAKE_MODE", "wait")
    op = SparkjobsRunOperator(task_id="segments", job="customer-segmentation", cli=cli, cancel_grace_seconds=20)
    errors = []

    def run():
        try:
            op.execute(context())
        except BaseException as e:  # noqa: BLE001 - the test reads it
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    deadline = time.time() + 20
    while not (tmp / "ready").exists() and time.time() < deadline:
        time.sleep(0.05)
    assert (tmp / "ready").exists()
    started = time.time()
    op.on_kill()
    t.join(20)
    assert time.time() - started < 10
    assert len(errors) == 1 and "exit 130" in str(errors[0])


def test_execution_timeout_cancels_through_on_kill_under_airflow(fake_cli, monkeypatch):
    """`airflow dags test` of real Airflow: the task's execution_timeout calls on_kill, which
    SIGTERMs the CLI (here the stand-in, which marks that it got it and exits 130)."""
    import sqlite3
    import subprocess

    cli, record, tmp = fake_cli
    home = Path(os.environ["AIRFLOW_HOME"])
    (home / "dags").mkdir(exist_ok=True)
    (home / "dags" / "timeout_cancels.py").write_text(textwrap.dedent(f"""
        from datetime import timedelta
        from airflow.sdk import DAG
        from sparkjobs_airflow import SparkjobsRunOperator
        with DAG("timeout_cancels", schedule=None) as dag:
            SparkjobsRunOperator(task_id="slow", job="customer-segmentation", cli={cli!r}, execution_timeout=timedelta(seconds=4), retries=0)
    """))
    airflow = str(Path(sys.executable).parent / "airflow")
    env = {**os.environ, "FAKE_MODE": "wait", "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"), "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags")}
    migrate = subprocess.run([airflow, "db", "migrate"], capture_output=True, text=True, env=env)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    started = time.time()
    done = subprocess.run([airflow, "dags", "test", "timeout_cancels"], capture_output=True, text=True, env=env, timeout=120)
    output = done.stdout + done.stderr
    assert time.time() - started < 60, output[-3000:]
    assert (tmp / "ready").exists(), output[-3000:]
    assert (tmp / "ready.cancelled").exists(), output[-3000:]
    assert "cancelling: SIGTERM to sparkjobs pid" in output and "sparkjobs exited 130 after the cancel" in output
    state = sqlite3.connect(home / "airflow.db").execute("select state, try_number from task_instance where dag_id = 'timeout_cancels'").fetchall()
    assert state == [("failed", 1)]
    assert len(record.read_text().splitlines()) == 1
