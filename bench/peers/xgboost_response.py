"""Spark GBT beside XGBoost on the same feature vectors and the same split, in one process.

Given a finished response run, this replays its plan's SQL stages on the same inputs, builds the
classifier stage's rows, split and feature vectors with the runner's own code (so both learners see
identical numbers), then fits Spark's GBTClassifier with the run's parameters and XGBoost with the
nearest ones (trees, depth, learning rate, row subsampling, bins; XGBoost's min_child_weight is a
hessian sum where Spark's minInstancesPerNode counts rows), and prints one JSON object: AUC of each on the held-out rows (exact, ties counted
half, as the runner computes it), fit seconds of each, and the run's own AUC from its manifest.

    python bench/peers/xgboost_response.py --root runs-root --run <response run id> [--stage response] [--run-scores]
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "jobs" / "runner"))
sys.dont_write_bytecode = True
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True, help="the runs root (--root of sparkjobs, a local folder)")
    parser.add_argument("--run", required=True, help="id of a complete response run")
    parser.add_argument("--stage", default="response", help="the classifier stage to replay")
    parser.add_argument("--model", default="gbt", help="the GBT model of that stage")
    parser.add_argument("--run-scores", action="store_true",
                        help="do not fit Spark's GBT again: take its AUC from the run's own held-out predictions (the response_scores output), for tests that need the AUCs, not the fit time")
    args = parser.parse_args(argv)

    root = Path(args.root)
    manifest = json.loads((root / "runs" / args.run / "_manifest.json").read_text())
    plan = json.loads((root / "stage" / "plans" / f"{manifest['planSha256']}.json").read_text())
    stage = next(s for s in plan["stages"] if s["name"] == args.stage)
    config = stage["config"]
    spec = config["models"][args.model]
    if spec["type"] != "gbt":
        raise SystemExit(f"model {args.model} of stage {args.stage} is a {spec['type']}, not gbt")

    import numpy as np
    import xgboost
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import GBTClassifier
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from sklearn.metrics import roc_auc_score

    from sparkjobs_runner.classifier import LABEL, preparation, unit_hash
    from sparkjobs_runner.main import bind

    spark = (SparkSession.builder.master("local[2]").appName("xgboost-peer")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="xgboost-peer-warehouse-"))  # not in the working directory
             .config("spark.sql.shuffle.partitions", plan["sparkConf"].get("spark.sql.shuffle.partitions", "8")).getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for item in plan["inputs"]:
        spark.read.parquet(item["uri"]).createOrReplaceTempView(item["name"])
    for s in plan["stages"]:
        if s["name"] == args.stage:
            break
        if s["kind"] == "sql":
            spark.sql(s["sql"], args=bind(plan, s["params"])).createOrReplaceTempView(s["name"])

    split = config["split"]
    rows = (spark.table(stage["input"])
            .withColumn("split", F.when(unit_hash(split["seed"], split["by"]) < split["testFraction"], "test").otherwise("train"))
            .withColumn(LABEL, F.col(config["label"]).cast("double")))
    train = rows.filter(F.col("split") == "train")
    prep = Pipeline(stages=preparation(config)).fit(train)
    vectors = prep.transform(rows).select("split", LABEL, "features").cache()
    train_v, test_v = vectors.filter(F.col("split") == "train").cache(), vectors.filter(F.col("split") == "test").cache()
    train_v.count(), test_v.count()

    p = spec["params"]
    if args.run_scores:
        # The run's own predictions of its held-out rows, read from its output files.
        scores = spark.read.parquet(manifest["outputs"]["response_scores"]["uri"]).filter(F.col("split") == "test")
        spark_scored = scores.select(F.col("label").cast("double").alias(LABEL), F.col(f"p_{args.model}").alias("p")).toPandas()
        spark_seconds = None
    else:
        t = time.perf_counter()
        spark_model = GBTClassifier(featuresCol="features", labelCol=LABEL, **p).fit(train_v)
        spark_seconds = time.perf_counter() - t
        spark_scored = spark_model.transform(test_v).select(LABEL, vector_to_array("probability")[1].alias("p")).toPandas()

    def matrix(df):
        pdf = df.select(LABEL, vector_to_array("features").alias("x")).toPandas()
        return np.stack(pdf["x"].to_numpy()), pdf[LABEL].to_numpy()

    x_train, y_train = matrix(train_v)
    x_test, y_test = matrix(test_v)
    t = time.perf_counter()
    booster = xgboost.XGBClassifier(
        n_estimators=p["maxIter"], max_depth=p["maxDepth"], learning_rate=p["stepSize"], subsample=p["subsamplingRate"],
        min_child_weight=p["minInstancesPerNode"], max_bin=p["maxBins"], tree_method="hist", random_state=p["seed"], n_jobs=2,
    ).fit(x_train, y_train)
    xgb_seconds = time.perf_counter() - t
    xgb_auc = float(roc_auc_score(y_test, booster.predict_proba(x_test)[:, 1]))
    spark_auc = float(roc_auc_score(spark_scored[LABEL], spark_scored["p"]))
    spark.stop()
    result = {
        "run": args.run,
        "trainRows": int(len(y_train)),
        "testRows": int(len(y_test)),
        "featureSlots": int(x_train.shape[1]),
        "params": p,
        "sparkGbt": {"auc": spark_auc, "fitSeconds": spark_seconds},
        "xgboost": {"auc": xgb_auc, "fitSeconds": xgb_seconds, "version": xgboost.__version__},
        "aucDifference": spark_auc - xgb_auc,
        "fitTimeRatio": spark_seconds / xgb_seconds if spark_seconds is not None else None,
        "runAuc": manifest["metrics"][args.stage]["models"][args.model]["auc"],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
