"""Airflow reads its home at import: the tests get a throwaway one, never ~/airflow."""

import os
import sys
import tempfile
from pathlib import Path

if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="sparkjobs-airflow-home-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
