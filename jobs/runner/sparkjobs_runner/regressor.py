"""Regression stage (next-period spend): a seeded split, one Spark ML pipeline per model, held-out RMSE
and MAE against a naive baseline column (and, on generated data, the planted mean as the oracle).

Models are saved as PipelineModels under the run, like the classifier's. Only metrics come to the driver.
"""
import time

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.regression import GBTRegressor, LinearRegression
from pyspark.sql import functions as F

from .classifier import LABEL, _importance, labelled_rows, preparation, with_source_features, without_empty_features
from .errors import INVALID_INPUT, RunnerError

ESTIMATORS = {"gbt": GBTRegressor, "linear": LinearRegression}


def regression_metrics(test, predictions, groups):
    """RMSE, MAE and means of each (name, column) in predictions against "label", overall and per group value."""
    scopes = [("overall", F.lit("all"))] + [(g, F.coalesce(F.col(g).cast("string"), F.lit("(missing)"))) for g in groups]
    out = []
    for scope, value in scopes:
        aggs = [F.count(F.lit(1)).alias("rows"), F.avg("label").alias("mean_label")]
        for name, column in predictions:
            err = F.col(column) - F.col("label")
            aggs += [F.sqrt(F.avg(err * err)).alias(f"{name}__rmse"), F.avg(F.abs(err)).alias(f"{name}__mae"),
                     F.avg(column).alias(f"{name}__mean")]
        for r in test.groupBy(value.alias("scope_value")).agg(*aggs).collect():
            for name, _ in predictions:
                out.append({"model": name, "scope": scope, "scope_value": r["scope_value"], "rows": int(r["rows"]),
                            "rmse": float(r[f"{name}__rmse"]), "mae": float(r[f"{name}__mae"]),
                            "mean_label": float(r["mean_label"]), "mean_prediction": float(r[f"{name}__mean"])})
    return out


def run(spark, stage, log, ctx):
    config = stage["config"]
    where = f"{stage['input']} (input of stage {stage['name']})"
    source = with_source_features(spark, spark.table(stage["input"]), config)
    for key in ("baseline", "oracle"):
        column = config.get(key)
        if column and column not in source.columns:
            raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {where} has no {key} column {column!r}",
                              where=stage["input"], fix=f"compute {column} in the SQL stage that feeds {stage['name']}")
    rows, counts = labelled_rows(source, config, where, binary=False)
    train_n, test_n = counts.get(("train",), 0), counts.get(("test",), 0)
    if train_n < 2 or test_n == 0:
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {train_n} training and {test_n} test rows in {where}; both must be non-empty",
                          where=stage["input"], fix="check the inputs: too few rows reached the model, or testFraction leaves no rows on one side")

    config = without_empty_features(rows, config, log, stage["name"])
    train = rows.filter(F.col("split") == "train")
    prep = Pipeline(stages=preparation(config)).fit(train)
    prepared_train = prep.transform(train).select("features", LABEL).cache()
    keep = config["keep"]
    extra = [c for c in (config["baseline"], config.get("oracle")) if c and c not in keep]
    inputs = [c for c in config["numeric"] + config["categorical"] if c not in keep and c not in extra]
    scored = rows.select(*keep, *extra, "split", "label", *inputs)
    model_metrics, saved, importances = {}, {}, []
    for name, spec in config["models"].items():
        t = time.time()
        fitted = ESTIMATORS[spec["type"]](featuresCol="features", labelCol=LABEL, predictionCol="__prediction", **spec["params"]).fit(prepared_train)
        seconds = time.time() - t
        pipeline = PipelineModel(stages=[*prep.stages, fitted])
        model_id = f"{stage['name']}_{name}"
        uri = f"{ctx['runUri']}/models/{model_id}"
        pipeline.write().overwrite().save(uri)
        saved[model_id] = {"uri": uri, "stage": stage["name"], "type": spec["type"], "label": config["label"],
                           "columns": config["numeric"] + config["categorical"]}
        scored = pipeline.transform(scored).select(*scored.columns, F.col("__prediction").alias(f"p_{name}"))
        if spec["type"] == "gbt":
            importances += _importance(name, "gbt", fitted, prepared_train, config)
        model_metrics[name] = {"type": spec["type"], "fitSeconds": round(seconds, 3)}
        log(f"{stage['name']}: fitted {name} ({spec['type']}) on {train_n} rows in {seconds:.1f}s")
    scored = scored.select(*keep, *extra, "split", "label", *[f"p_{n}" for n in config["models"]]).cache()

    test = scored.filter(F.col("split") == "test")
    predictions = [(n, f"p_{n}") for n in config["models"]] + [("baseline", config["baseline"])]
    # The oracle (a planted mean) exists on generated data only: without it, it is left out.
    if config.get("oracle") and test.where(F.col(config["oracle"]).isNotNull()).limit(1).count():
        predictions.append(("oracle", config["oracle"]))
    groups = [g for g in config["groupBy"] if g in scored.columns]
    metric_rows = regression_metrics(test.where(" AND ".join(f"`{c}` IS NOT NULL" for _, c in predictions)), predictions, groups)
    overall = {r["model"]: r for r in metric_rows if r["scope"] == "overall"}
    base = overall["baseline"]
    for name in config["models"]:
        m = overall[name]
        model_metrics[name].update({
            "rmse": m["rmse"], "mae": m["mae"],
            # 1 - model error / baseline error: above 0 means the model beats the baseline
            "rmseSkill": 1 - m["rmse"] / base["rmse"] if base["rmse"] else None,
            "maeSkill": 1 - m["mae"] / base["mae"] if base["mae"] else None,
        })
    for r in metric_rows:
        log(f"{stage['name']}: {r['model']} {r['scope']}={r['scope_value']}: rows={r['rows']} rmse={r['rmse']:.2f} mae={r['mae']:.2f} "
            f"mean={r['mean_prediction']:.2f} (label {r['mean_label']:.2f})")

    outputs = config["outputs"]
    scored.createOrReplaceTempView(outputs["predictions"])
    spark.createDataFrame(metric_rows, "model string, scope string, scope_value string, rows bigint, rmse double, mae double, "
                          "mean_label double, mean_prediction double").createOrReplaceTempView(outputs["metrics"])
    ctx["models"].update(saved)
    return {
        "rows": train_n + test_n, "trainRows": train_n, "testRows": test_n,
        "models": model_metrics,
        "baseline": {"column": config["baseline"], "rmse": base["rmse"], "mae": base["mae"]},
        **({"oracle": {"column": config["oracle"], "rmse": overall["oracle"]["rmse"], "mae": overall["oracle"]["mae"]}} if "oracle" in overall else {}),
        "importance": [{"feature": r["feature"], "importance": r["importance"]} for r in importances[:10]],
        "savedModels": sorted(saved),
    }
