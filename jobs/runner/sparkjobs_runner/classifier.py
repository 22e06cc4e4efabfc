"""Binary classification stage: a seeded split, one Spark ML pipeline per model, held-out metrics.

Each model is saved as a PipelineModel that holds the preparation too (casts, log1p, imputation,
one-hot encoding), so a score stage needs only the raw columns. Only metrics, bins and
importances (a few rows) come to the driver.
"""
import time

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import GBTClassifier, LogisticRegression
from pyspark.ml.feature import Imputer, OneHotEncoder, SQLTransformer, StringIndexer, VectorAssembler
from .vectors import vector_to_array
from pyspark.ml.stat import Summarizer
from pyspark.sql import functions as F

from .errors import ENVIRONMENT, INVALID_INPUT, RunnerError
from .metrics import importance_by_column

LABEL = "__label"
MAX_GROUPS = 100
ESTIMATORS = {"gbt": GBTClassifier, "logistic": LogisticRegression}


def xgboost_estimator(spark, params):
    """XGBoost on Spark: xgboost.spark.SparkXGBClassifier, trained by num_workers tasks at once.

    The xgboost package is not on a cluster's Python: a plan with an xgboost model carries it in the
    run's packed environment, which the submitter ships (README "Python packages"). It is imported
    here, when a model asks for it, so the rest of the runner needs pyspark and numpy only."""
    try:
        from xgboost.spark import SparkXGBClassifier
    except ImportError as e:
        raise RunnerError(ENVIRONMENT, f"a model of type xgboost needs the xgboost package, and this Python lacks it ({e})",
                          fix="run it through sparkjobs, which ships the plan's Python environment; or install jobs/runner/requirements-xgboost.txt on the cluster's Python")
    params = dict(params)
    slots = spark.sparkContext.defaultParallelism
    workers = params.pop("num_workers", None) or max(1, min(slots, 32))
    return SparkXGBClassifier(features_col="features", label_col=LABEL, num_workers=workers, **params)


def estimator_for(spark, spec):
    if spec["type"] == "xgboost":
        return xgboost_estimator(spark, spec["params"])
    return ESTIMATORS[spec["type"]](featuresCol="features", labelCol=LABEL, **spec["params"])


def unit_hash(seed, column):
    """A number in (0, 1) from a hash of the column: the same rows split the same way on any engine."""
    return (F.shiftrightunsigned(F.xxhash64(F.lit(seed), F.col(column).cast("string")), 11) + 0.5) / 9007199254740992.0


def preparation(config):
    """Unfitted stages turning raw columns into a `features` vector."""
    numeric, categorical, logs = config["numeric"], config["categorical"], set(config["log1p"])
    selects = ["*"]
    for c in numeric:
        cast = f"CAST(`{c}` AS DOUBLE)"
        selects.append(f"{'log1p(' + cast + ')' if c in logs else cast} AS `__n_{c}`")
    for c in categorical:
        selects.append(f"coalesce(CAST(`{c}` AS STRING), '(missing)') AS `__c_{c}`")
    stages = [SQLTransformer(statement=f"SELECT {', '.join(selects)} FROM __THIS__")]
    assembled = []
    if numeric:
        stages.append(Imputer(strategy="median", inputCols=[f"__n_{c}" for c in numeric], outputCols=[f"__i_{c}" for c in numeric]))
        assembled += [f"__i_{c}" for c in numeric]
    if categorical:
        stages.append(StringIndexer(inputCols=[f"__c_{c}" for c in categorical], outputCols=[f"__s_{c}" for c in categorical],
                                    handleInvalid="keep", stringOrderType="alphabetAsc"))
        stages.append(OneHotEncoder(inputCols=[f"__s_{c}" for c in categorical], outputCols=[f"__o_{c}" for c in categorical],
                                    handleInvalid="keep", dropLast=True))
        assembled += [f"__o_{c}" for c in categorical]
    stages.append(VectorAssembler(inputCols=assembled, outputCol="features", handleInvalid="error"))
    return stages


def with_source_features(spark, source, config):
    """The stage's rows with the feature columns a source declares for its customers, joined by key
    (null for a row whose customer has none)."""
    sf = config.get("sourceFeatures")
    if not sf:
        return source
    columns = [c for c in sf["numeric"] + sf["categorical"] if c not in source.columns]
    if not columns:
        return source
    return source.join(spark.table(sf["input"]).select(sf["key"], *columns), sf["key"], "left")


def without_empty_features(rows, config, log, stage_name):
    """The configuration without the numeric features that no training row has (behaviour counts of a
    source without events, ages of one without customers): there is nothing to learn from them, and
    the median imputer cannot fill a column that is all null."""
    numeric = config["numeric"]
    if not numeric:
        return config
    train = rows.filter(F.col("split") == "train")
    present = train.agg(*[F.count(F.col(f"`{c}`")).alias(c) for c in numeric]).first()
    empty = [c for c in numeric if not present[c]]
    if not empty:
        return config
    if len(empty) == len(numeric) and not config["categorical"]:
        raise RunnerError(INVALID_INPUT, f"stage {stage_name}: every feature column is empty in the training rows ({', '.join(empty)})",
                          where=stage_name, fix="the source has none of the data the features come from; map more of its tables")
    log(f"{stage_name}: leaving out {', '.join(empty)}: no training row has a value")
    return {**config, "numeric": [c for c in numeric if c not in empty], "log1p": [c for c in config["log1p"] if c not in empty]}


def labelled_rows(source, config, where, by=(), binary=True):
    """The rows with their side of the split ("split"), the label as 0/1 ("label") and as a double
    (LABEL), cached; and their counts by (split, *by, label), from one pass over the input.
    With binary=False the label is a number ("label" is then the double too) and the counts are by split.

    A null label, or one that is not true/false or 0/1, is an error naming the column."""
    label, split = config["label"], config["split"]
    rows = (source
            .withColumn("split", F.when(unit_hash(split["seed"], split["by"]) < split["testFraction"], "test").otherwise("train"))
            .withColumn("label", F.col(label).cast("int" if binary else "double"))
            .withColumn(LABEL, F.col(label).cast("double"))
            .cache())
    grouping = [LABEL] if binary else []
    missing = F.col(label).isNull() if binary else F.col(LABEL).isNull() | F.isnan(LABEL)
    groups = rows.groupBy("split", *by, *grouping, missing.alias("__null")).count().collect()
    nulls = sum(r["count"] for r in groups if r["__null"])
    if nulls:
        raise RunnerError(INVALID_INPUT, f"label column {label!r} is null{'' if binary else ' or not a number'} in {nulls} rows of {where}",
                          where=where, fix=f"fill {label} for every row, or filter rows without an outcome in the SQL stage")
    if not binary:
        counts = {}
        for r in groups:
            key = (r["split"], *[r[c] for c in by])
            counts[key] = counts.get(key, 0) + r["count"]
        return rows, counts
    odd = [r[LABEL] for r in groups if r[LABEL] not in (0.0, 1.0)]
    if odd:
        raise RunnerError(INVALID_INPUT, f"label column {label!r} of {where} holds {odd[0]!r}; a binary label is true/false or 0/1",
                          where=where, fix=f"map {label} to 0/1 in the SQL stage")
    counts = {}
    for r in groups:
        key = (r["split"], *[r[c] for c in by], int(r[LABEL]))
        counts[key] = counts.get(key, 0) + r["count"]
    return rows, counts


def _probability(model_name):
    return vector_to_array(F.col("probability"))[1].alias(f"p_{model_name}")


def binary_metrics(scored):
    """Exact held-out metrics of many scores at once, in a few distributed passes.

    scored: rows (model, scope, value, s, label). Per (model, scope, value): rows, positives, AUC
    (Mann-Whitney, ties counted half, as the ROC trapezoid gives), average precision (the step-wise
    area under the precision-recall curve), and the lift of the top decile by s.
    """
    from pyspark.sql import Window

    keys = ["model", "scope", "value"]
    by_score = scored.groupBy(*keys, "s").agg(F.sum("label").alias("pos"), F.count(F.lit(1)).alias("n"))
    below = Window.partitionBy(*keys).orderBy("s").rowsBetween(Window.unboundedPreceding, -1)
    above = Window.partitionBy(*keys).orderBy(F.desc("s")).rowsBetween(Window.unboundedPreceding, Window.currentRow)
    ranked = (
        by_score.withColumn("neg", F.col("n") - F.col("pos"))
        .withColumn("neg_below", F.coalesce(F.sum("neg").over(below), F.lit(0)))
        .withColumn("tp_cum", F.sum("pos").over(above))
        .withColumn("n_cum", F.sum("n").over(above))
    )
    curves = ranked.groupBy(*keys).agg(
        F.sum("n").alias("rows"),
        F.sum("pos").alias("positives"),
        F.sum(F.col("pos") * (F.col("neg_below") + 0.5 * F.col("neg"))).alias("u"),
        F.sum(F.col("pos") * F.col("tp_cum") / F.col("n_cum")).alias("ap_sum"),
    )
    # The top decile: rows scored above the 90th percentile (at it, when ties leave nothing above).
    cuts = scored.groupBy(*keys).agg(F.percentile_approx("s", 0.9, 10000).alias("cut"))
    above_cut, at_cut = F.col("s") > F.col("cut"), F.col("s") >= F.col("cut")
    tops = (
        scored.join(F.broadcast(cuts), keys)
        .groupBy(*keys)
        .agg(
            F.count(F.when(above_cut, 1)).alias("above_rows"), F.sum(F.when(above_cut, F.col("label"))).alias("above_pos"),
            F.count(F.when(at_cut, 1)).alias("at_rows"), F.sum(F.when(at_cut, F.col("label"))).alias("at_pos"),
        )
        .select(*keys,
                F.when(F.col("above_rows") > 0, F.col("above_rows")).otherwise(F.col("at_rows")).alias("top_rows"),
                F.when(F.col("above_rows") > 0, F.col("above_pos")).otherwise(F.col("at_pos")).alias("top_positives"))
    )
    out = {}
    for r in curves.join(tops, keys, "left").collect():
        rows, pos = int(r["rows"]), int(r["positives"])
        neg = rows - pos
        both = pos > 0 and neg > 0
        rate = pos / rows if rows else 0.0
        top_rate = (r["top_positives"] or 0) / r["top_rows"] if r["top_rows"] else 0.0
        out[(r["model"], r["scope"], r["value"])] = {
            "rows": rows, "positives": pos,
            "auc": r["u"] / (pos * neg) if both else None,
            "pr_auc": r["ap_sum"] / pos if both else None,
            "lift": top_rate / rate if rate > 0 else None,
            "note": None if both else ("no positives" if pos == 0 else "no negatives") + ": AUC is undefined",
        }
    return out


def _metric_rows(test, models, truth_col, groups):
    """One row per model, scope and group value, with the oracle's AUC on the same rows."""
    scores = [(name, f"p_{name}") for name in models] + ([("__oracle", truth_col)] if truth_col else [])
    scopes = [("overall", F.lit("all"))] + [(g, F.coalesce(F.col(g).cast("string"), F.lit("(missing)"))) for g in groups]
    counts = test.agg(*[F.countDistinct(g).alias(g) for g in groups]).first() if groups else {}
    scopes = [(scope, value) for scope, value in scopes if scope == "overall" or counts[scope] <= MAX_GROUPS]
    parts = [
        test.select(F.lit(name).alias("model"), F.lit(scope).alias("scope"), value.alias("value"),
                    F.col(column).cast("double").alias("s"), F.col("label").cast("long").alias("label"))
        for name, column in scores for scope, value in scopes
    ]
    long = parts[0]
    for p in parts[1:]:
        long = long.unionByName(p)
    # Rows without a truth value drop out of the oracle only; its AUC is then not comparable and left out.
    found = binary_metrics(long.where(F.col("s").isNotNull()))
    out = []
    for (model, scope, value), m in sorted(found.items()):
        if model == "__oracle":
            continue
        oracle = found.get(("__oracle", scope, value))
        out.append({
            "model": model, "scope": scope, "scope_value": value, "rows": m["rows"], "positives": m["positives"],
            "auc": m["auc"], "pr_auc": m["pr_auc"], "lift_top_decile": m["lift"],
            "oracle_auc": oracle["auc"] if oracle and oracle["rows"] == m["rows"] else None,
            "note": m["note"],
        })
    return out


def _calibration(test, name, bins):
    score = f"p_{name}"
    cuts = sorted(set(test.approxQuantile(score, [i / bins for i in range(1, bins)], 0.001)))
    edges = [float("-inf"), *cuts, float("inf")]
    bucket = F.lit(len(edges) - 2)
    for i in range(len(edges) - 2, 0, -1):
        bucket = F.when(F.col(score) < edges[i], F.lit(i - 1)).otherwise(bucket)
    rows = (
        test.withColumn("bin", bucket)
        .groupBy("bin")
        .agg(F.count(F.lit(1)).alias("rows"), F.avg(score).alias("mean_predicted"), F.avg("label").alias("observed_rate"))
        .collect()
    )
    return [{"model": name, "bin": int(r["bin"]), "rows": int(r["rows"]), "mean_predicted": float(r["mean_predicted"]),
             "observed_rate": float(r["observed_rate"])} for r in sorted(rows, key=lambda r: r["bin"])]


def _slot_names(prepared):
    attrs = prepared.schema["features"].metadata["ml_attr"]["attrs"]
    slots = {}
    for kind in attrs.values():
        for a in kind:
            slots[a["idx"]] = a["name"]
    return [slots[i] for i in range(len(slots))]


def _importance(name, kind, fitted, prepared_train, config):
    slots = _slot_names(prepared_train)
    if kind == "gbt":
        weights = fitted.featureImportances.toArray().tolist()
    elif kind == "xgboost":
        # Total gain of the splits on each slot (slots never split on are left out by XGBoost).
        gain = fitted.get_feature_importances(importance_type="total_gain")
        weights = [float(gain.get(f"f{i}", 0.0)) for i in range(len(slots))]
    else:
        std = prepared_train.select(Summarizer.std(F.col("features")).alias("s")).first()["s"].toArray()
        weights = [abs(c) * s for c, s in zip(fitted.coefficients.toArray().tolist(), std)]
    columns = config["numeric"] + config["categorical"]
    ranked = importance_by_column(slots, weights, columns)
    return [{"model": name, "feature": c, "importance": w, "rank": i + 1} for i, (c, w) in enumerate(ranked)]


def run(spark, stage, log, ctx):
    config = stage["config"]
    label = config["label"]
    keep = config["keep"]
    where = f"{stage['input']} (input of stage {stage['name']})"
    rows, counts = labelled_rows(with_source_features(spark, spark.table(stage["input"]), config), config, where)
    train_n = counts.get(("train", 0), 0) + counts.get(("train", 1), 0)
    test_n = counts.get(("test", 0), 0) + counts.get(("test", 1), 0)
    if train_n == 0 or test_n == 0:
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {train_n} training and {test_n} test rows in {where}; both must be non-empty",
                          where=stage["input"], fix="check the inputs: too few rows reached the model, or testFraction leaves no rows on one side")
    for value, word in ((1, "responders (label 1)"), (0, "non-responders (label 0)")):
        if counts.get(("train", value), 0) == 0:
            raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: the {train_n} training rows of {where} hold no {word}; there is nothing to learn",
                              where=stage["input"], fix=f"check {label} in the input: a campaign without responders cannot train a response model")

    config = without_empty_features(rows, config, log, stage["name"])
    train = rows.filter(F.col("split") == "train")
    t = time.time()
    prep = Pipeline(stages=preparation(config)).fit(train)
    prepared_train = prep.transform(train).select("features", LABEL).cache()
    prepared_train.count()
    log(f"{stage['name']}: prepared {train_n} training rows ({len(_slot_names(prepared_train))} feature slots) in {time.time() - t:.1f}s")

    model_names = list(config["models"])
    inputs = [c for c in config["numeric"] + config["categorical"] if c not in keep]
    scored = rows.select(*keep, "split", "label", *inputs)
    importances, model_metrics, saved = [], {}, {}
    for name in model_names:
        spec = config["models"][name]
        t = time.time()
        fitted = estimator_for(spark, spec).fit(prepared_train)
        seconds = time.time() - t
        pipeline = PipelineModel(stages=[*prep.stages, fitted])
        model_id = f"{stage['name']}_{name}"
        uri = f"{ctx['runUri']}/models/{model_id}"
        pipeline.write().overwrite().save(uri)
        saved[model_id] = {"uri": uri, "stage": stage["name"], "type": spec["type"], "label": label,
                           "columns": config["numeric"] + config["categorical"]}
        scored = pipeline.transform(scored).select(*scored.columns, _probability(name))
        importances += _importance(name, spec["type"], fitted, prepared_train, config)
        model_metrics[name] = {"type": spec["type"], "fitSeconds": round(seconds, 3)}
        log(f"{stage['name']}: fitted {name} ({spec['type']}) in {seconds:.1f}s")
    scored = scored.select(*keep, "split", "label", *[f"p_{n}" for n in model_names]).cache()

    test = scored.filter(F.col("split") == "test")
    truth = stage.get("truth")
    truth_col = None
    if truth:
        truth_col = "__truth"
        keys = config["truthKeys"]
        test = test.join(spark.table(truth["view"]).select(*keys, F.col(truth["column"]).alias(truth_col)), keys, "left")
    groups = [g for g in config["groupBy"] if g in scored.columns]
    test = test.cache()
    metric_rows = _metric_rows(test, model_names, truth_col, groups)
    calibration = [row for n in model_names for row in _calibration(test, n, config["calibrationBins"])]

    for r in metric_rows:
        if r["scope"] == "overall":
            m = model_metrics[r["model"]]
            m.update({"auc": r["auc"], "prAuc": r["pr_auc"], "liftTopDecile": r["lift_top_decile"]})
            if r["oracle_auc"] is not None and r["auc"] is not None:
                m["oracleAuc"] = r["oracle_auc"]
                m["aucGapToOracle"] = r["oracle_auc"] - r["auc"]
    for r in metric_rows:
        if r["scope"] != "overall":
            model_metrics[r["model"]].setdefault("by", {}).setdefault(r["scope"], {})[r["scope_value"]] = {
                "rows": r["rows"], "positives": r["positives"], "auc": r["auc"]}
        log(f"{stage['name']}: {r['model']} {r['scope']}={r['scope_value']}: rows={r['rows']} positives={r['positives']} auc={r['auc']} oracle={r['oracle_auc']}")

    outputs = config["outputs"]
    scored.createOrReplaceTempView(outputs["predictions"])
    spark.createDataFrame(metric_rows, "model string, scope string, scope_value string, rows bigint, positives bigint, auc double, "
                          "pr_auc double, lift_top_decile double, oracle_auc double, note string").createOrReplaceTempView(outputs["metrics"])
    spark.createDataFrame(calibration, "model string, bin int, rows bigint, mean_predicted double, observed_rate double").createOrReplaceTempView(outputs["calibration"])
    spark.createDataFrame(importances, "model string, feature string, importance double, rank int").createOrReplaceTempView(outputs["importance"])
    ctx["models"].update(saved)
    return {
        "rows": train_n + test_n,
        "trainRows": train_n,
        "testRows": test_n,
        "positiveRate": (counts.get(("train", 1), 0) + counts.get(("test", 1), 0)) / (train_n + test_n),
        "models": model_metrics,
        "savedModels": sorted(saved),
    }
