"""Run ids for Airflow tasks.

A sparkjobs run id is 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit. The
same run id with the same plan never runs twice: a second submit follows the run that is there,
or reports it when it is complete. So a task's run id must be the same on every try of the task
and differ between tasks and DAG runs: it is derived from the DAG, the DAG run, the task and the
map index, never from the try number or the time.
"""

from __future__ import annotations

import hashlib
import re

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_HASH_CHARS = 12


def derive_run_id(dag_id: str, dag_run_id: str, task_id: str, map_index: int = -1) -> str:
    """`<dag>.<task>-<hash>`: readable where it fits, unique by a hash of all four parts.

    The hash covers the exact strings (an Airflow run id such as
    ``manual__2026-12-07T23:12:39+00:00`` has characters a run id may not hold), so two DAG runs
    whose ids differ only in such characters still get different run ids.
    """
    key = "\x1f".join([dag_id, dag_run_id, task_id, str(map_index)]).encode()
    digest = hashlib.sha256(key).hexdigest()[:_HASH_CHARS]
    readable = _UNSAFE.sub("-", f"{dag_id}.{task_id}").strip("-._")
    readable = readable[: 64 - 1 - _HASH_CHARS].rstrip("-._")
    return f"{readable}-{digest}" if readable else digest


def check_run_id(run_id: str, field: str = "run_id") -> str:
    """The run id unchanged, or ValueError naming the field and what a run id may hold."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
        raise ValueError(
            f"{field} {run_id!r} is not a sparkjobs run id: use 1-64 of A-Z a-z 0-9 . _ - starting "
            "with a letter or digit (leave it out to derive one from the DAG run and the task)"
        )
    return run_id
