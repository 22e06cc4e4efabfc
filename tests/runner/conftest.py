"""Runner tests: the sparkjobs_runner package on sys.path, and one real SparkSession for the session."""
import os
import sys
import tempfile
from pathlib import Path

import pytest

# The runner's modules are imported from the source tree; do not leave .pyc files there.
sys.dont_write_bytecode = True

REPO = Path(__file__).resolve().parents[2]
RUNNER_DIR = REPO / "jobs" / "runner"
if str(RUNNER_DIR) not in sys.path:
    sys.path.insert(0, str(RUNNER_DIR))

# Python workers (createDataFrame from local rows) must run this interpreter, not whatever
# "python3" is on PATH.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("sparkjobs-runner-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=error")
        # Spark's catalog makes its warehouse folder on first use, in the working directory unless told
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="sparkjobs-runner-warehouse-"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
