"""What an exit of the sparkjobs CLI means for an Airflow task: success, a failure worth the task's
retries, or a failure no retry can fix (the task fails at once, its retries unused).

The CLI's --json error says `retryable` itself (a conflict is retryable when another submit of the
run id holds its lock, not when another plan owns the run id); the table below is the fallback for
an exit without that JSON, and the README's exit-code table shows the same policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

# exit code -> (meaning, retryable)
EXIT_CODES: dict[int, tuple[str, bool]] = {
    0: ("success", False),
    1: ("internal error of sparkjobs (a bug)", False),
    2: ("usage: a command, option or parameter that is not right", False),
    3: ("invalid job or source definition", False),
    4: ("invalid input data", False),
    5: ("the Spark job failed", True),
    6: ("an output does not match its table schema", False),
    7: ("a quality gate failed (the run is complete; its outputs are kept)", False),
    8: ("the run is incomplete", True),
    9: ("environment: a missing bucket, cluster, Java or Spark", False),
    10: ("timeout (--timeout): the run was cancelled", False),
    11: ("conflict: the run id belongs to another plan", False),
    12: ("a service could not be reached, or kept throttling or failing", True),
    13: ("a service refused the credentials or the permission", False),
    14: ("ingest rejected more rows than the job allows", False),
    130: ("interrupted: the run was cancelled", True),
}


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    succeeded: bool
    retryable: bool
    reason: str


def outcome(exit_code: int, summary: Optional[dict[str, Any]] = None) -> Outcome:
    """The outcome of one CLI exit. A negative code is a signal (the CLI was killed): retryable,
    since a retry with the same run id follows or completes the run instead of starting another."""
    if exit_code == 0:
        return Outcome(0, True, False, "success")
    error = (summary or {}).get("error") if isinstance(summary, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if exit_code < 0:
        return Outcome(exit_code, False, True, f"the sparkjobs CLI was killed by signal {-exit_code}")
    meaning, retryable = EXIT_CODES.get(exit_code, (f"exit code {exit_code}", False))
    if isinstance(error, dict) and isinstance(error.get("retryable"), bool):
        retryable = error["retryable"]
    reason = f"exit {exit_code} ({meaning})"
    if message:
        reason += f": {message}"
    fix = error.get("fix") if isinstance(error, dict) else None
    if fix:
        reason += f"; fix: {fix}"
    return Outcome(exit_code, False, retryable, reason)
