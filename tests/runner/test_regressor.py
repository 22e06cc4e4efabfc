"""regressor.py on a real SparkSession: RMSE and MAE equal to numpy's on the same held-out rows, a model
that learns a planted signal beats a useless baseline, the model is saved and scores the same rows the
same, and a null label is an error naming the column."""
import numpy as np
import pytest
from pyspark.ml import PipelineModel

from sparkjobs_runner import regressor
from sparkjobs_runner.errors import INVALID_INPUT, RunnerError

CONFIG = {
    "keep": ["customer_id", "segment"], "label": "spend", "numeric": ["recency", "orders"], "categorical": ["segment"],
    "log1p": ["orders"], "split": {"by": "customer_id", "testFraction": 0.3, "seed": 42},
    "models": {"gbt": {"type": "gbt", "params": {"maxIter": 20, "maxDepth": 3, "stepSize": 0.2, "subsamplingRate": 1.0,
                                                 "minInstancesPerNode": 5, "maxBins": 32, "featureSubsetStrategy": "all", "seed": 1}}},
    "baseline": "naive", "oracle": "truth", "groupBy": ["segment"],
    "outputs": {"predictions": "t_pred", "metrics": "t_metrics"},
}


def make_rows(n=600, seed=5, null_labels=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        recency, orders = float(rng.integers(1, 300)), int(rng.integers(1, 20))
        truth = float(orders * 20.0 * np.exp(-recency / 60))   # recent, frequent customers spend
        spend = None if i < null_labels else float(max(0.0, truth + rng.normal(0, 5)))
        rows.append((f"C{i:05d}", "a" if i % 2 else "b", recency, orders, spend, orders * 10.0, truth))
    return rows


def run_stage(spark, tmp_path, rows):
    spark.createDataFrame(rows, "customer_id string, segment string, recency double, orders int, spend double, naive double, truth double") \
        .createOrReplaceTempView("t_rows")
    ctx = {"runUri": str(tmp_path), "planModels": {}, "models": {}, "params": {}}
    stage = {"kind": "mllib", "name": "clv", "input": "t_rows", "config": CONFIG}
    return regressor.run(spark, stage, lambda m: None, ctx), ctx


@pytest.fixture(scope="module")
def fitted(spark, tmp_path_factory):
    """One fit shared by the tests that only read its results: metrics, ctx, predictions and metric rows."""
    metrics, ctx = run_stage(spark, tmp_path_factory.mktemp("clv"), make_rows())
    return metrics, ctx, spark.table("t_pred").collect(), spark.table("t_metrics").collect()


def test_metrics_equal_numpy_and_the_model_beats_a_useless_baseline(spark, fitted):
    metrics, ctx, predictions, metric_rows = fitted
    test = [r for r in predictions if r["split"] == "test"]
    assert len(test) == metrics["testRows"] and metrics["trainRows"] + metrics["testRows"] == 600
    y = np.array([r["label"] for r in test])
    for name, column in (("gbt", "p_gbt"), ("baseline", "naive"), ("oracle", "truth")):
        p = np.array([r[column] for r in test])
        found = metrics["models"]["gbt"] if name == "gbt" else metrics[name]
        assert found["rmse"] == pytest.approx(float(np.sqrt(np.mean((p - y) ** 2))), rel=1e-9)
        assert found["mae"] == pytest.approx(float(np.mean(np.abs(p - y))), rel=1e-9)
    gbt = metrics["models"]["gbt"]
    assert gbt["rmse"] < metrics["baseline"]["rmse"] and gbt["rmseSkill"] > 0.5
    assert gbt["rmseSkill"] == pytest.approx(1 - gbt["rmse"] / metrics["baseline"]["rmse"])
    by_segment = {(r["model"], r["scope_value"]): r for r in metric_rows if r["scope"] == "segment"}
    assert sum(by_segment[("gbt", s)]["rows"] for s in ("a", "b")) == metrics["testRows"]
    assert sorted(ctx["models"]) == ["clv_gbt"]


def test_the_saved_model_reproduces_the_predictions(spark, fitted):
    _, ctx, predictions, _ = fitted
    before = {r["customer_id"]: r["p_gbt"] for r in predictions}
    loaded = PipelineModel.load(ctx["models"]["clv_gbt"]["uri"])
    rows = spark.createDataFrame(make_rows(), "customer_id string, segment string, recency double, orders int, spend double, naive double, truth double")
    after = {r["customer_id"]: r["__prediction"] for r in loaded.transform(rows).collect()}
    assert max(abs(before[k] - after[k]) for k in before) == 0


def test_null_labels_are_an_error_naming_the_column_and_count(spark, tmp_path):
    with pytest.raises(RunnerError) as e:
        run_stage(spark, tmp_path, make_rows(null_labels=7))
    assert e.value.exit_code == INVALID_INPUT
    assert "label column 'spend' is null or not a number in 7 rows" in e.value.message and "fill spend" in e.value.fix
