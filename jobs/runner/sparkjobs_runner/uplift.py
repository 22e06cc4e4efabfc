"""Uplift stage: a two-model learner. One classifier learns the response of contacted rows, one the
response of held-out (control) rows; the uplift of a row is the difference of their predictions.

Evaluated on held-out customers: the observed lift (treatment rate - control rate) among the rows
the model ranks in its top fraction, with a confidence interval, against all rows; the Qini
coefficient; and, on generated data, the planted uplift of the rows each ranking picks, so a
model that pays for customers who would buy anyway shows it.
"""
import time

from pyspark.ml import Pipeline, PipelineModel
from .vectors import vector_to_array
from pyspark.sql import functions as F

from .classifier import ESTIMATORS, LABEL, labelled_rows, preparation, with_source_features, without_empty_features
from .errors import INVALID_INPUT, RunnerError
from .metrics import two_proportion_test

ARMS = ("treatment", "control")


def _fit_arm(rows, counts, arm, config, log, stage_name):
    train = rows.filter((F.col("split") == "train") & (F.col("__arm") == arm))
    counts = {label: counts.get(("train", arm, label), 0) for label in (0, 1)}
    if not counts[1] or not counts[0]:
        raise RunnerError(INVALID_INPUT, f"stage {stage_name}: the {arm} rows of the training split hold "
                          f"{counts[1]} responders and {counts[0]} non-responders; both are needed",
                          where=stage_name, fix=f"an uplift model needs responders and non-responders in both groups; check {config['label']} and {config['treatment']['column']}")
    t = time.time()
    prep = Pipeline(stages=preparation(config)).fit(train)
    spec = config["model"]
    fitted = ESTIMATORS[spec["type"]](featuresCol="features", labelCol=LABEL, **spec["params"]).fit(prep.transform(train))
    log(f"{stage_name}: fitted the {arm} model ({spec['type']}) on {counts[0] + counts[1]} rows in {time.time() - t:.1f}s")
    return PipelineModel(stages=[*prep.stages, fitted]), counts[0] + counts[1]


def _top(test, score, fraction):
    cut = test.agg(F.percentile_approx(score, 1 - fraction, 10000).alias("c")).first()["c"]
    return test.filter(F.col(score) >= cut)


def _lift(rows):
    c = {(r["__arm"], r["label"]): r["count"] for r in rows.groupBy("__arm", "label").count().collect()}
    n_t, x_t = c.get(("treatment", 0), 0) + c.get(("treatment", 1), 0), c.get(("treatment", 1), 0)
    n_c, x_c = c.get(("control", 0), 0) + c.get(("control", 1), 0), c.get(("control", 1), 0)
    return {"treatmentRows": n_t, "controlRows": n_c, **two_proportion_test(n_t, x_t, n_c, x_c)}


def qini_coefficient(points):
    """Area between the Qini curve and the straight line of random targeting, over the fraction targeted.

    points: [(fraction of rows, incremental responders)] from (0, 0) to (1, total), ordered.
    """
    area = sum((f2 - f1) * (q1 + q2) / 2 for (f1, q1), (f2, q2) in zip(points, points[1:]))
    return area - points[-1][1] / 2


def _qini(test, bins=20):
    """Qini curve by bins of predicted uplift: incremental responders = x_t - x_c * n_t / n_c, cumulatively."""
    cuts = sorted(set(test.approxQuantile("uplift", [i / bins for i in range(1, bins)], 0.001)), reverse=True)
    bucket = F.lit(len(cuts))
    for i, cut in reversed(list(enumerate(cuts))):
        bucket = F.when(F.col("uplift") >= cut, F.lit(i)).otherwise(bucket)
    rows = (test.withColumn("b", bucket).groupBy("b")
            .agg(F.count(F.when(F.col("__arm") == "treatment", 1)).alias("n_t"), F.sum(F.when(F.col("__arm") == "treatment", F.col("label")).otherwise(0)).alias("x_t"),
                 F.count(F.when(F.col("__arm") == "control", 1)).alias("n_c"), F.sum(F.when(F.col("__arm") == "control", F.col("label")).otherwise(0)).alias("x_c"))
            .orderBy("b").collect())
    total = sum(r["n_t"] + r["n_c"] for r in rows)
    points = [(0.0, 0.0)]
    n_t = x_t = n_c = x_c = seen = 0
    for r in rows:
        n_t, x_t, n_c, x_c = n_t + r["n_t"], x_t + r["x_t"], n_c + r["n_c"], x_c + r["x_c"]
        seen += r["n_t"] + r["n_c"]
        points.append((seen / total, x_t - (x_c * n_t / n_c if n_c else 0.0)))
    return points


def run(spark, stage, log, ctx):
    config = stage["config"]
    treatment = config["treatment"]
    source = with_source_features(spark, spark.table(stage["input"]), config).withColumn(
        "__arm", F.when(F.col(treatment["column"]) == F.lit(treatment["value"]), "treatment").otherwise("control"))
    rows, counts = labelled_rows(source, config, stage["input"], by=("__arm",))
    config = without_empty_features(rows, config, log, stage["name"])

    keep = config["keep"]
    inputs = [c for c in config["numeric"] + config["categorical"] if c not in keep]
    scored = rows.select(*keep, "split", "__arm", "label", *inputs)
    saved, fitted_rows = {}, {}
    for arm in ARMS:
        model, n = _fit_arm(rows, counts, arm, config, log, stage["name"])
        fitted_rows[arm] = n
        model_id = f"{stage['name']}_{arm}"
        uri = f"{ctx['runUri']}/models/{model_id}"
        model.write().overwrite().save(uri)
        saved[model_id] = {"uri": uri, "stage": stage["name"], "type": config["model"]["type"], "label": config["label"],
                           "columns": config["numeric"] + config["categorical"]}
        scored = model.transform(scored).select(*scored.columns, vector_to_array(F.col("probability"))[1].alias(f"p_{arm}"))
    scored = scored.withColumn("uplift", F.col("p_treatment") - F.col("p_control")).cache()

    test = scored.filter(F.col("split") == "test")
    truth = stage.get("truth")
    fraction = config["topFraction"]
    result = {"trainRows": fitted_rows, "topFraction": fraction, "all": _lift(test)}
    top = _top(test, "uplift", fraction)
    result["top"] = _lift(top)
    by_response = _top(test, "p_treatment", fraction)
    result["topByResponse"] = _lift(by_response)
    points = _qini(test)
    result["qini"] = qini_coefficient(points)
    result["qiniCurve"] = [[round(f, 4), q] for f, q in points]
    if truth and config.get("truthControl"):
        keys = config["truthKeys"]
        planted = spark.table(truth["view"]).select(*keys, (F.col(truth["column"]) - F.col(config["truthControl"])).alias("__planted"))

        def planted_mean(df):
            return df.join(planted, keys, "left").agg(F.avg("__planted")).first()[0]

        result["planted"] = {"all": planted_mean(test), "top": planted_mean(top), "topByResponse": planted_mean(by_response)}
        log(f"{stage['name']}: planted uplift: all {result['planted']['all']:.4f}, top {fraction:.0%} by uplift "
            f"{result['planted']['top']:.4f}, top {fraction:.0%} by response {result['planted']['topByResponse']:.4f}")
    log(f"{stage['name']}: observed lift: all {result['all']['lift']}, top by uplift {result['top']['lift']}, qini {result['qini']:.2f}")

    scored.select(*keep, "split", F.col("__arm").alias("test_group"), "label", "p_treatment", "p_control", "uplift") \
        .createOrReplaceTempView(config["outputs"]["scores"])
    ctx["models"].update(saved)
    return result
