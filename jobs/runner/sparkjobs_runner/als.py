"""Recommendation stage: collaborative filtering with ALS on implicit feedback, top-N items per user,
and precision@N / recall@N on a holdout against the N most popular items.
"""
import time

from pyspark.ml.feature import StringIndexer
from pyspark.ml.recommendation import ALS
from pyspark.sql import functions as F

from .errors import INVALID_INPUT, RunnerError


def ranking_metrics(recommended, holdout, user, item, n):
    """Mean precision@n and recall@n over the users with holdout items.

    recommended: (user, item) rows, at most n per user; holdout: distinct (user, item) rows.
    A user without recommendations counts with precision and recall 0.
    """
    truth = holdout.groupBy(user).agg(F.count(F.lit(1)).alias("relevant"))
    hits = recommended.join(holdout, [user, item]).groupBy(user).agg(F.count(F.lit(1)).alias("hits"))
    per_user = truth.join(hits, user, "left").select(
        (F.coalesce("hits", F.lit(0)) / F.lit(n)).alias("precision"),
        (F.coalesce("hits", F.lit(0)) / F.col("relevant")).alias("recall"),
    )
    r = per_user.agg(F.count(F.lit(1)).alias("users"), F.avg("precision").alias("p"), F.avg("recall").alias("r")).first()
    return {"users": int(r["users"]), "precision": r["p"], "recall": r["r"]}


def run(spark, stage, log, ctx):
    config = stage["config"]
    user, item, rating, n = config["user"], config["item"], config["rating"], config["topN"]
    interactions = spark.table(stage["input"]).select(user, item, F.col(rating).cast("float").alias("__r"))
    bad = interactions.filter(F.col(user).isNull() | F.col(item).isNull() | F.col("__r").isNull() | (F.col("__r") < 0)).count()
    if bad:
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {bad} rows of {stage['input']} have a null {user} or {item}, or a null or negative {rating}",
                          where=stage["input"], fix="filter them in the SQL stage: implicit feedback is a non-negative strength per user and item")
    users = StringIndexer(inputCol=user, outputCol="__u").fit(interactions)
    items = StringIndexer(inputCol=item, outputCol="__i").fit(interactions)
    indexed = items.transform(users.transform(interactions)).select(user, item, F.col("__u").cast("int"), F.col("__i").cast("int"), "__r").cache()
    pairs = indexed.count()
    if pairs == 0:
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {stage['input']} has no interactions before the holdout",
                          where=stage["input"], fix="check the holdout window and the inputs")
    t = time.time()
    model = ALS(userCol="__u", itemCol="__i", ratingCol="__r", implicitPrefs=True, coldStartStrategy="drop", **config["params"]).fit(indexed)
    log(f"{stage['name']}: ALS fitted on {pairs} user-item pairs in {time.time() - t:.1f}s")
    model_id = f"{stage['name']}_als"
    uri = f"{ctx['runUri']}/models/{model_id}"
    model.write().overwrite().save(uri)
    ctx["models"][model_id] = {"uri": uri, "stage": stage["name"], "type": "als", "label": rating, "columns": [user, item]}

    # Back from indices to ids with joins, not with the label lists on the driver (a million customers).
    user_labels = indexed.select("__u", user).distinct()
    item_labels = indexed.select("__i", item).distinct()
    recs = (
        model.recommendForAllUsers(n)
        .select("__u", F.posexplode("recommendations").alias("pos", "rec"))
        .select("__u", (F.col("pos") + 1).alias("rank"), F.col("rec.__i").alias("__i"), F.col("rec.rating").alias("score"))
        .join(F.broadcast(item_labels), "__i")
        .join(user_labels, "__u")
        .select(user, "rank", item, "score")
        .cache()
    )
    # The baseline: the same n most popular items (by total strength) for everyone.
    popular = interactions.groupBy(item).agg(F.sum("__r").alias("s")).orderBy(F.desc("s"), item).limit(n)
    metrics = {"topN": n, "users": len(users.labels), "items": len(items.labels)}
    holdout_view = config.get("holdout")
    if holdout_view:
        holdout = spark.table(holdout_view).select(user, item).distinct().cache()
        als = ranking_metrics(recs.select(user, item), holdout, user, item, n)
        pop_recs = holdout.select(user).distinct().crossJoin(F.broadcast(popular.select(item)))
        pop = ranking_metrics(pop_recs, holdout, user, item, n)
        metrics.update({"holdoutUsers": als["users"], "als": {"precisionAtN": als["precision"], "recallAtN": als["recall"]},
                        "popularity": {"precisionAtN": pop["precision"], "recallAtN": pop["recall"]},
                        "precisionOverPopularity": als["precision"] / pop["precision"] if pop["precision"] else None})
        log(f"{stage['name']}: precision@{n} ALS {als['precision']:.4f} vs popularity {pop['precision']:.4f}; "
            f"recall@{n} {als['recall']:.4f} vs {pop['recall']:.4f} over {als['users']} users")
    recs.createOrReplaceTempView(config["outputs"]["recommendations"])
    return metrics
