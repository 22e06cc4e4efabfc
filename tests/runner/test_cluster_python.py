"""The runner runs on a cluster's own Python: pyspark (shipped by Spark) and numpy, nothing else.

Every module of the runner is imported in a fresh interpreter in which pandas, pyarrow, scipy and
scikit-learn cannot be imported (as on a node whose Python lacks them). A module that imports one
of them (pyspark.ml.functions does, for pandas) fails this test.
"""
import subprocess
import sys

from conftest import RUNNER_DIR

BLOCKED = ["pandas", "pyarrow", "scipy", "sklearn", "xgboost"]


def test_every_runner_module_imports_with_only_pyspark_and_numpy():
    modules = sorted(p.stem for p in (RUNNER_DIR / "sparkjobs_runner").glob("*.py") if p.stem != "__init__")
    assert "main" in modules and "kmeans" in modules
    code = (
        "import importlib, sys\n"
        + "".join(f"sys.modules[{name!r}] = None\n" for name in BLOCKED)
        + "".join(f"importlib.import_module('sparkjobs_runner.{m}')\n" for m in modules)
        + "print('imported', len(sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=RUNNER_DIR, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith("imported")
