"""Errors the runner reports as data: one line on stderr that the submitter parses."""
import json
import sys

INVALID_PLAN = 3
INVALID_INPUT = 4
JOB_FAILED = 5
INVALID_OUTPUT = 6

ERROR_PREFIX = "SPARKJOBS_ERROR "


class RunnerError(Exception):
    def __init__(self, exit_code, message, where=None, fix=None):
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message
        self.where = where
        self.fix = fix

    def as_json(self):
        return {"exitCode": self.exit_code, "message": self.message, "where": self.where, "fix": self.fix}


def report(error):
    sys.stderr.write(ERROR_PREFIX + json.dumps(error.as_json()) + "\n")
    sys.stderr.flush()
