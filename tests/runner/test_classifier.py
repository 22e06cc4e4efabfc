"""classifier.py on a real SparkSession: exact metrics against scikit-learn, and the bad inputs a
response model meets (null labels, no responders, a campaign without responders, a segment of one
customer), each a clear error or a documented empty result."""
import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from sparkjobs_runner import classifier
from sparkjobs_runner.errors import INVALID_INPUT, RunnerError
from sparkjobs_runner.metrics import importance_by_column

# ---------------------------------------------------------------- metrics


@pytest.mark.parametrize("seed", range(4))
def test_auc_and_average_precision_equal_sklearn_with_ties(spark, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 600))
    label = rng.integers(0, 2, n)
    # Rounded scores: many ties, as GBT leaves give.
    score = np.round(rng.random(n) * 0.6 + label * rng.random(n) * 0.4, 1 + seed % 2)
    group = rng.choice(["a", "b"], n)
    rows = [("m", "overall", "all", float(s), int(y)) for s, y in zip(score, label)]
    rows += [("m", "g", str(g), float(s), int(y)) for s, y, g in zip(score, label, group)]
    df = spark.createDataFrame(rows, "model string, scope string, value string, s double, label long")
    found = classifier.binary_metrics(df)
    overall = found[("m", "overall", "all")]
    assert overall["rows"] == n and overall["positives"] == int(label.sum())
    assert overall["auc"] == pytest.approx(roc_auc_score(label, score), abs=1e-12)
    assert overall["pr_auc"] == pytest.approx(average_precision_score(label, score), abs=1e-12)
    for g in ("a", "b"):
        mask = group == g
        assert found[("m", "g", g)]["auc"] == pytest.approx(roc_auc_score(label[mask], score[mask]), abs=1e-12)


def test_top_decile_lift(spark):
    # 100 rows, the 10 highest scores hold 5 of 10 positives: lift = 0.5 / 0.1 = 5.
    rows = [("m", "overall", "all", float(i), 1 if i >= 95 or i < 5 else 0) for i in range(100)]
    df = spark.createDataFrame(rows, "model string, scope string, value string, s double, label long")
    assert classifier.binary_metrics(df)[("m", "overall", "all")]["lift"] == pytest.approx(5.0)


def test_one_class_gives_null_auc_with_a_note(spark):
    df = spark.createDataFrame([("m", "overall", "all", 0.1 * i, 0) for i in range(5)],
                               "model string, scope string, value string, s double, label long")
    m = classifier.binary_metrics(df)[("m", "overall", "all")]
    assert m["auc"] is None and m["pr_auc"] is None and m["lift"] is None
    assert m["note"] == "no positives: AUC is undefined"


def test_importance_adds_one_hot_slots_to_their_column():
    slots = ["__i_age", "__i_age_band", "__o_channel_email", "__o_channel_sms", "__o_segment_loyal"]
    ranked = importance_by_column(slots, [0.1, 0.2, -0.3, 0.1, 0.3], ["age", "age_band", "channel", "segment"])
    assert ranked == [("channel", pytest.approx(0.4)), ("segment", pytest.approx(0.3)), ("age_band", pytest.approx(0.2)), ("age", pytest.approx(0.1))]
    with pytest.raises(ValueError, match="belongs to none"):
        importance_by_column(["__i_other"], [1.0], ["age"])


# ---------------------------------------------------------------- the stage on hand-made rows

CONFIG = {
    "algorithm": "classifier",
    "keep": ["row_id", "customer_id", "campaign_type", "segment"],
    "label": "responded",
    "numeric": ["x", "age"],
    "categorical": ["campaign_type", "segment"],
    "log1p": ["x"],
    "split": {"by": "customer_id", "testFraction": 0.3, "seed": 42},
    "models": {
        "gbt": {"type": "gbt", "params": {"maxIter": 5, "maxDepth": 2, "stepSize": 0.3, "subsamplingRate": 1.0,
                                          "minInstancesPerNode": 1, "maxBins": 32, "featureSubsetStrategy": "all", "seed": 1}},
        "logistic": {"type": "logistic", "params": {"maxIter": 50, "regParam": 0.01, "elasticNetParam": 0.0, "standardization": True, "tol": 1e-6}},
    },
    "groupBy": ["segment", "campaign_type"],
    "truthKeys": [],
    "calibrationBins": 4,
    "outputs": {"predictions": "t_predictions", "metrics": "t_metrics", "calibration": "t_calibration", "importance": "t_importance"},
}
SCHEMA = "row_id string, customer_id string, campaign_type string, segment string, x double, age int, responded boolean"


def make_rows(n=400, seed=3, responds=None, segment=None):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        x = float(rng.random() * 10)
        ctype = ["coupon", "loyalty"][i % 2]
        p = 1 / (1 + math.exp(-(x - 5)))
        y = bool(rng.random() < p)
        if responds is not None:
            y = responds(i, ctype, y)
        seg = segment(i) if segment else ["loyal", "potential"][i % 3 == 0]
        age = None if i % 17 == 0 else int(20 + i % 50)
        rows.append((f"r{i}", f"c{i}", ctype, seg, x, age, y))
    return rows


def run_stage(spark, tmp_path, rows, name="resp"):
    spark.createDataFrame(rows, SCHEMA).createOrReplaceTempView("t_rows")
    ctx = {"runUri": str(tmp_path), "planModels": {}, "models": {}}
    stage = {"kind": "mllib", "name": name, "input": "t_rows", "config": CONFIG, "fixedK": None}
    metrics = classifier.run(spark, stage, lambda m: None, ctx)
    return metrics, ctx


def metric_rows(spark):
    return {(r["model"], r["scope"], r["scope_value"]): r.asDict() for r in spark.table("t_metrics").collect()}


def test_fits_both_models_saves_them_and_reports_metrics(spark, tmp_path):
    metrics, ctx = run_stage(spark, tmp_path, make_rows())
    assert metrics["trainRows"] + metrics["testRows"] == 400
    assert metrics["models"]["gbt"]["auc"] > 0.75 and metrics["models"]["logistic"]["auc"] > 0.75
    assert sorted(ctx["models"]) == ["resp_gbt", "resp_logistic"]
    assert ctx["models"]["resp_gbt"]["columns"] == ["x", "age", "campaign_type", "segment"]
    assert (tmp_path / "models" / "resp_gbt" / "metadata").is_dir()
    preds = spark.table("t_predictions")
    assert preds.columns == ["row_id", "customer_id", "campaign_type", "segment", "split", "label", "p_gbt", "p_logistic"]
    assert preds.count() == 400
    importance = spark.table("t_importance").where("model = 'logistic'").orderBy("rank").collect()
    assert importance[0]["feature"] == "x"
    assert sum(r["importance"] for r in importance) == pytest.approx(1.0)
    bins = spark.table("t_calibration").where("model = 'gbt'").collect()
    assert sum(r["rows"] for r in bins) == metrics["testRows"]


def test_a_saved_model_scores_the_same_rows_the_same(spark, tmp_path):
    from pyspark.ml import PipelineModel
    from pyspark.ml.functions import vector_to_array

    _, ctx = run_stage(spark, tmp_path, make_rows())
    loaded = PipelineModel.load(ctx["models"]["resp_gbt"]["uri"])
    again = loaded.transform(spark.table("t_rows")).select("row_id", vector_to_array("probability")[1].alias("p"))
    joined = spark.table("t_predictions").join(again, "row_id").selectExpr("max(abs(p - p_gbt)) AS d").first()["d"]
    assert joined == 0.0


def test_null_labels_are_an_error_naming_the_column_and_count(spark, tmp_path):
    rows = [r[:-1] + (None,) if i < 3 else r for i, r in enumerate(make_rows())]
    with pytest.raises(RunnerError) as e:
        run_stage(spark, tmp_path, rows)
    assert e.value.exit_code == INVALID_INPUT
    assert "label column 'responded' is null in 3 rows of t_rows" in e.value.message


def test_no_responders_at_all_is_an_error(spark, tmp_path):
    with pytest.raises(RunnerError) as e:
        run_stage(spark, tmp_path, make_rows(responds=lambda i, ctype, y: False))
    assert e.value.exit_code == INVALID_INPUT
    assert "hold no responders (label 1); there is nothing to learn" in e.value.message
    assert "a campaign without responders cannot train a response model" in e.value.fix


def test_a_campaign_without_responders_gets_null_auc_and_a_note(spark, tmp_path):
    metrics, _ = run_stage(spark, tmp_path, make_rows(responds=lambda i, ctype, y: y and ctype == "coupon"))
    found = metric_rows(spark)
    loyalty = found[("gbt", "campaign_type", "loyalty")]
    assert loyalty["positives"] == 0 and loyalty["auc"] is None
    assert loyalty["note"] == "no positives: AUC is undefined"
    assert found[("gbt", "campaign_type", "coupon")]["auc"] is not None
    assert metrics["models"]["gbt"]["by"]["campaign_type"]["loyalty"]["auc"] is None


def test_a_segment_with_one_customer_is_reported_not_a_crash(spark, tmp_path):
    # r0 (customer c0, in the test split for seed 42 or not) is the only "high-value" customer.
    rows = make_rows(segment=lambda i: "high-value" if i == 0 else "loyal")
    metrics, _ = run_stage(spark, tmp_path, rows)
    found = metric_rows(spark)
    single = [v for k, v in found.items() if k[1] == "segment" and k[2] == "high-value"]
    if single:  # the customer fell into the test split: one row, one class
        assert single[0]["rows"] == 1 and single[0]["auc"] is None and single[0]["note"].endswith("AUC is undefined")
    assert metrics["models"]["gbt"]["auc"] is not None


def test_xgboost_on_spark_learns_saves_and_reloads(spark, tmp_path):
    """A model of type xgboost (xgboost.spark): held-out AUC recounted with scikit-learn, against
    single-node XGBoost fitted here on the same training rows; the saved pipeline reloads and
    scores the same; its importance ranks the one informative column first."""
    import xgboost
    from pyspark.ml import PipelineModel
    from pyspark.ml.functions import vector_to_array

    params = {"n_estimators": 30, "max_depth": 3, "learning_rate": 0.3, "subsample": 1.0, "colsample_bytree": 1.0,
              "min_child_weight": 1.0, "reg_lambda": 1.0, "reg_alpha": 0.0, "max_bin": 256, "random_state": 7}
    config = {**CONFIG, "models": {"xgb": {"type": "xgboost", "params": params}}}
    rows = make_rows(n=600, seed=5)
    spark.createDataFrame(rows, SCHEMA).createOrReplaceTempView("t_rows")
    ctx = {"runUri": str(tmp_path), "planModels": {}, "models": {}}
    metrics = classifier.run(spark, {"kind": "mllib", "name": "resp", "input": "t_rows", "config": config, "fixedK": None}, lambda m: None, ctx)

    preds = spark.table("t_predictions").toPandas()
    test = preds[preds["split"] == "test"]
    assert metrics["models"]["xgb"]["auc"] == pytest.approx(roc_auc_score(test["label"], test["p_xgb"]), abs=1e-9)
    assert metrics["models"]["xgb"]["auc"] > 0.75

    # Single-node XGBoost on the same rows: x (log1p) and the informative columns, same split.
    by_id = {r[0]: r for r in rows}
    train_ids = set(preds.loc[preds["split"] == "train", "row_id"])
    def features(r):
        return [math.log1p(r[4]), float(r[5]) if r[5] is not None else np.nan, float(r[2] == "loyalty"), float(r[3] == "potential")]
    xt = np.array([features(by_id[i]) for i in sorted(train_ids)])
    yt = np.array([by_id[i][6] for i in sorted(train_ids)], dtype=int)
    local = xgboost.XGBClassifier(**{k: v for k, v in params.items()}).fit(xt, yt)
    xs = np.array([features(by_id[i]) for i in test["row_id"]])
    local_auc = roc_auc_score(test["label"], local.predict_proba(xs)[:, 1])
    assert abs(metrics["models"]["xgb"]["auc"] - local_auc) < 0.03, (metrics["models"]["xgb"]["auc"], local_auc)

    assert ctx["models"]["resp_xgb"]["type"] == "xgboost"
    loaded = PipelineModel.load(ctx["models"]["resp_xgb"]["uri"])
    again = loaded.transform(spark.table("t_rows")).select("row_id", vector_to_array("probability")[1].alias("p"))
    diff = spark.table("t_predictions").join(again, "row_id").selectExpr("max(abs(p - p_xgb)) AS d").first()["d"]
    assert diff < 1e-6
    importance = spark.table("t_importance").orderBy("rank").collect()
    assert importance[0]["feature"] == "x"
    assert sum(r["importance"] for r in importance) == pytest.approx(1.0)
