"""Runs one sparkjobs CLI command: its stderr (progress, the step's or application's log location,
errors) line by line into a log as it comes, its stdout (the one --json object) kept and parsed.

Cancelling sends SIGTERM to the CLI, which cancels the EMR step, EMR Serverless job run or YARN
application, removes the run's lock and exits 130; after `grace_seconds` without an exit it is
killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence


@dataclass
class Result:
    exit_code: int
    summary: Optional[dict[str, Any]]
    stdout: str


class CliProcess:
    def __init__(self, command: Sequence[str], env: dict[str, str], log: Callable[[str], None], cwd: Optional[str] = None):
        self.command = list(command)
        self.env = env
        self.log = log
        self.cwd = cwd
        self.proc: Optional[subprocess.Popen[str]] = None
        self._lock = threading.Lock()

    def run(self) -> Result:
        with self._lock:
            self.proc = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
                # Its own process group: a signal meant for the task's process (Ctrl-C on `airflow
                # dags test`, the supervisor's SIGTERM) reaches the CLI only through cancel(), once.
                start_new_session=True,
            )
        proc = self.proc
        self.log(f"sparkjobs pid {proc.pid}: {' '.join(self.command)}")
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        for line in proc.stderr:  # type: ignore[union-attr]
            self.log(line.rstrip("\n"))
        code = proc.wait()
        reader.join()
        stdout = "".join(out)
        return Result(code, parse_summary(stdout), stdout)

    def cancel(self, grace_seconds: float) -> Optional[int]:
        """SIGTERM, then SIGKILL after grace_seconds; the exit code, or None when nothing ran."""
        with self._lock:
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        self.log(f"cancelling: SIGTERM to sparkjobs pid {proc.pid}")
        try:
            os.kill(proc.pid, signal.SIGTERM)
            return proc.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            self.log(f"sparkjobs pid {proc.pid} did not end within {grace_seconds:g} s of SIGTERM: killing it")
            proc.kill()
            return proc.wait()
        except ProcessLookupError:
            return proc.wait()


def parse_summary(stdout: str) -> Optional[dict[str, Any]]:
    """The --json object, or None when stdout holds none (the CLI was killed before printing)."""
    text = stdout.strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
