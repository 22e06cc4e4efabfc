"""Errors the runner reports as data: one line on stderr that the submitter parses."""
import json
import sys

INVALID_PLAN = 3
INVALID_INPUT = 4
JOB_FAILED = 5
INVALID_OUTPUT = 6
ENVIRONMENT = 9
CONFLICT = 11
REJECTED = 14

ERROR_PREFIX = "SPARKJOBS_ERROR "


class RunnerError(Exception):
    def __init__(self, exit_code, message, where=None, fix=None, problems=None):
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message
        self.where = where
        self.fix = fix
        # Several problems at once, each {file, path, message}.
        self.problems = problems or []

    def as_json(self):
        out = {"exitCode": self.exit_code, "message": self.message, "where": self.where, "fix": self.fix}
        if self.problems:
            out["problems"] = self.problems
        return out


def report(error):
    sys.stderr.write(ERROR_PREFIX + json.dumps(error.as_json()) + "\n")
    sys.stderr.flush()


def describe(error):
    """One line saying what went wrong. A Py4JJavaError's first line only names the JVM call
    ("An error occurred while calling o94.parquet"); the cause at the bottom of the Java chain
    says what happened (a failed assert_true, a missing file, ...)."""
    java = getattr(error, "java_exception", None)
    if java is not None:
        try:
            root = java
            while root.getCause() is not None and not root.getCause().equals(root):
                root = root.getCause()
            message = root.getMessage() or ""
            return f"{root.getClass().getSimpleName()}: {message.strip().splitlines()[0] if message.strip() else ''}".rstrip(": ")
        except Exception:  # noqa: BLE001 - the JVM is gone: fall back to the Python text
            pass
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


REJECTED = "invalid input: "


def raised_by_sql(error):
    """A RunnerError (invalid input, exit 4) for an error a SQL stage raised on purpose with
    raise_error('invalid input: what is wrong; fix: what to do'); None for any other error."""
    text = describe(error)
    if REJECTED not in text:
        return None
    message = text.split(REJECTED, 1)[1]
    what, _, fix = message.partition("; fix: ")
    return RunnerError(INVALID_INPUT, what.strip(), fix=fix.strip() or None)


FULL_DISK = ("No space left on device", "Disk quota exceeded")


def out_of_space(error, where):
    """A RunnerError (environment, exit 9) when a write failed because the disk is full; None otherwise."""
    text = f"{describe(error)}\n{error}"
    if not any(m in text for m in FULL_DISK):
        return None
    return RunnerError(ENVIRONMENT, f"the disk is full where the run writes ({where}): {describe(error)}", where=where,
                       fix="free space under the root, or give a --root with room; then rerun the same --run-id (nothing of this run is read as a result)")
