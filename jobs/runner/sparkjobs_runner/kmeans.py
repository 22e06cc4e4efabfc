"""K-Means segmentation stage: scale, fit (k fixed or chosen by silhouette), name, profile.

Everything heavy stays in Spark; only centroids, sizes and contingency tables (a few rows)
come to the driver.
"""
import time

from pyspark.ml.clustering import KMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.feature import VectorAssembler
from .vectors import vector_to_array
from pyspark.sql import functions as F

from .errors import INVALID_INPUT, RunnerError
from .metrics import adjusted_rand_index, name_segments

# Partitioning that depends on the row count only (never on the engine's parallelism) makes
# the row order, and so the seeded fit, the same on every engine. Each K-Means iteration is a
# Spark job, so small inputs get few partitions: task overhead, not arithmetic, dominates there.
ROWS_PER_PARTITION = 200_000


def partitions_for(rows):
    return max(1, min(400, -(-rows // ROWS_PER_PARTITION)))


def standardised(df, columns):
    """Each column minus its mean, over its sample standard deviation (0 where that is 0), as
    StandardScaler(withMean, withStd) does, but from one SQL aggregate: ML's summarizer merges the
    partitions' partial sums in the order their tasks finish, so the same data could be scaled
    (and the distances written) differently in the last digits from one run to the next."""
    stats = df.agg(*[F.avg(c).alias(f"m{i}") for i, c in enumerate(columns)],
                   *[F.stddev_samp(c).alias(f"s{i}") for i, c in enumerate(columns)]).first()
    out = []
    for i, c in enumerate(columns):
        mean, std = stats[f"m{i}"], stats[f"s{i}"]
        scaled = (F.col(c) - F.lit(mean)) / F.lit(std) if std else F.lit(0.0)
        out.append(scaled.cast("double").alias(c))
    return out


def _prepare(df, config, rows):
    id_col = config["idColumn"]
    log_cols = set(config["log1p"])
    exprs = [F.col(id_col)]
    for name in config["features"]:
        value = F.col(name).cast("double")
        exprs.append((F.log1p(value) if name in log_cols else value).alias(f"__f_{name}"))
    prepared = df.select(*exprs)
    bad = prepared.filter(
        " OR ".join(f"__f_{n} IS NULL OR isnan(__f_{n})" for n in config["features"])
    ).limit(1).collect()
    if bad:
        columns = [n for n in config["features"] if bad[0][f"__f_{n}"] is None or bad[0][f"__f_{n}"] != bad[0][f"__f_{n}"]]
        raise RunnerError(
            INVALID_INPUT,
            f"feature {', '.join(columns)} is null, NaN or below -1 before log1p for {id_col}={bad[0][id_col]!r}",
            where="features",
            fix="cluster on other features, or filter or impute these rows in the SQL stage that builds the features",
        )
    columns = [f"__f_{n}" for n in config["features"]]
    if config["standardize"]:
        prepared = prepared.select(id_col, *standardised(prepared, columns))
    vectors = VectorAssembler(inputCols=columns, outputCol="features").transform(prepared)
    return (
        vectors.select(id_col, "features")
        .repartition(partitions_for(rows), id_col)
        .sortWithinPartitions(id_col)
        .cache()
    )


def _fit_best(vectors, k, config, restarts):
    """Fits with seeds seed, seed+1, ... and keeps the lowest within-cluster cost."""
    params = dict(config["params"])
    seed = params.pop("seed")
    best = None
    for restart in range(restarts):
        model = KMeans(k=k, seed=seed + restart, featuresCol="features", predictionCol="cluster", **params).fit(vectors)
        cost = model.summary.trainingCost
        if best is None or cost < best[1] - 1e-9 * abs(best[1]):
            best = (model, cost)
    return best


# The silhouette is the usual one (Euclidean distances, as scikit-learn's silhouette_score) on a
# bounded sample: all pairwise distances of SILHOUETTE_SAMPLE points fit in memory on the driver.
SILHOUETTE_SAMPLE = 3000


def silhouette_sample(vectors, id_col, seed, size=SILHOUETTE_SAMPLE):
    """Up to `size` scaled feature vectors, chosen by a seeded hash of the id (the same on any engine)."""
    import numpy as np

    rows = (vectors.select(F.xxhash64(F.lit(seed), id_col).alias("__h"), vector_to_array("features").alias("__v"))
            .orderBy("__h").limit(size).collect())
    return np.array([r["__v"] for r in rows], dtype=float)


def euclidean_silhouette(points, labels):
    """Mean silhouette with Euclidean distances; a point alone in its cluster scores 0 (as scikit-learn)."""
    import numpy as np

    labels = np.asarray(labels)
    clusters = np.unique(labels)
    if len(clusters) < 2:
        return None
    squared = (points * points).sum(axis=1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * points @ points.T, 0.0))
    sums = np.stack([distances[:, labels == c].sum(axis=1) for c in clusters], axis=1)
    sizes = np.array([(labels == c).sum() for c in clusters], dtype=float)
    own = np.searchsorted(clusters, labels)
    own_size = sizes[own]
    a = np.where(own_size > 1, sums[np.arange(len(labels)), own] / np.maximum(own_size - 1, 1), 0.0)
    means = sums / sizes[None, :]
    means[np.arange(len(labels)), own] = np.inf
    b = means.min(axis=1)
    s = np.where(own_size > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(s.mean())


def nearest(points, centres):
    """Index of the nearest centre (Euclidean) of every point: K-Means' own assignment."""
    import numpy as np

    c = np.array(centres, dtype=float)
    return (((points[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)).argmin(axis=1)


def numbered_names(k, sizes_by_cluster):
    """segment-1 for the largest cluster, segment-2 for the next, ... (ties by cluster number)."""
    order = sorted(range(k), key=lambda c: (-sizes_by_cluster.get(c, 0), c))
    return {c: f"segment-{rank + 1}" for rank, c in enumerate(order)}


def naming_centroids(enriched, centres, sizes_by_cluster, config):
    """Each cluster's recency, frequency, monetary value and tenure in units of the customer base's
    spread (log-transformed where the configuration says, standardised over all customers), for
    naming. When K-Means clustered on all four in that space, these are its centres; otherwise they
    are the clusters' means of the standardised columns."""
    naming, features = config["naming"], config["features"]
    if config["standardize"] and all(c in features for c in naming.values()):
        position = {name: i for i, name in enumerate(features)}
        return [{"cluster": i, "size": sizes_by_cluster.get(i, 0), **{role: centre[position[column]] for role, column in naming.items()}}
                for i, centre in enumerate(centres)]
    logs = set(config["log1p"])

    def value(column):
        v = F.col(column).cast("double")
        return F.log1p(v) if column in logs else v

    roles = list(naming.items())
    overall = enriched.agg(*[F.avg(value(c)).alias(f"m_{r}") for r, c in roles],
                           *[F.stddev(value(c)).alias(f"s_{r}") for r, c in roles]).first()
    means = {row["cluster"]: row for row in enriched.groupBy("cluster").agg(*[F.avg(value(c)).alias(r) for r, c in roles]).collect()}

    def standardised(row, role):
        if row is None or row[role] is None:
            return 0.0
        spread = overall[f"s_{role}"] or 1.0
        return (row[role] - overall[f"m_{role}"]) / spread

    return [{"cluster": i, "size": sizes_by_cluster.get(i, 0), **{r: standardised(means.get(i), r) for r, _ in roles}}
            for i in range(len(centres))]


def run(spark, stage, log, ctx=None):  # noqa: ARG001 - K-Means saves no model
    config = stage["config"]
    id_col = config["idColumn"]
    source = spark.table(stage["input"])
    n = source.count()
    if n < 2:
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {n} rows in {stage['input']}, K-Means needs at least 2",
                          where=stage["input"], fix="check the inputs and the cleaning rules: too little data survived")
    vectors = _prepare(source, config, n)
    euclidean = config["params"].get("distanceMeasure", "euclidean") == "euclidean"
    evaluator = ClusteringEvaluator(featuresCol="features", predictionCol="cluster", metricName="silhouette",
                                    distanceMeasure="squaredEuclidean" if euclidean else "cosine")
    sample = silhouette_sample(vectors, id_col, config["params"]["seed"]) if euclidean else None
    if stage["fixedK"] is not None:
        candidates = [stage["fixedK"]]
    else:
        candidates = list(range(config["k"]["min"], config["k"]["max"] + 1))
    candidates = [k for k in candidates if k <= n]
    by_k, fit_seconds = {}, {}
    for k in candidates:
        t = time.time()
        model, cost = _fit_best(vectors, k, config, config["restarts"])
        fit_seconds[k] = time.time() - t
        # Euclidean silhouette on the sample (one driver-side computation, no Spark job); with cosine
        # distances, Spark's evaluator on all rows.
        score = (euclidean_silhouette(sample, nearest(sample, model.clusterCenters())) if euclidean
                 else evaluator.evaluate(model.transform(vectors)))
        by_k[k] = (model, cost, score if score is not None else -1.0)
        log(f"{stage['name']}: k={k} best of {config['restarts']} fits: inertia={cost:.4f} silhouette={by_k[k][2]:.4f}")
    k = max(by_k, key=lambda kk: (by_k[kk][2], -kk))
    model, cost, silhouette = by_k[k]
    # Spark's own silhouette (squared Euclidean distances, all rows) of the chosen k, reported beside it under its name.
    spark_silhouette = evaluator.evaluate(model.transform(vectors)) if euclidean else silhouette

    centres = [c.tolist() for c in model.clusterCenters()]
    centre_df = spark.createDataFrame([(i, c) for i, c in enumerate(centres)], "cluster int, centre array<double>")
    assigned = (
        model.transform(vectors)
        .withColumn("__v", vector_to_array("features"))
        .join(F.broadcast(centre_df), "cluster")
        .withColumn("distance", F.sqrt(F.aggregate(F.zip_with("__v", "centre", lambda a, b: (a - b) * (a - b)), F.lit(0.0), lambda acc, x: acc + x)))
        .select(id_col, "cluster", "distance")
        .cache()  # read three times below: sizes, the assignments output, the profiles
    )
    naming = config["naming"]
    enriched = assigned.join(source, id_col)
    sizes_by_cluster = {r["cluster"]: r["count"] for r in assigned.groupBy("cluster").count().collect()}
    names_mode = config.get("names", "business")
    if names_mode == "numbered":
        names = numbered_names(len(centres), sizes_by_cluster)
    else:
        names = name_segments(naming_centroids(enriched, centres, sizes_by_cluster, config))
    names_df = spark.createDataFrame(sorted(names.items()), "cluster int, segment string")

    assignments = enriched.join(F.broadcast(names_df), "cluster").select(
        id_col, "cluster", "segment", "distance", *config["passthrough"]
    )
    assignments.createOrReplaceTempView(config["outputs"]["assignments"])

    total_revenue = enriched.agg(F.sum(naming["monetary"]).alias("__total"))
    profiles = (
        enriched.join(F.broadcast(names_df), "cluster")
        .groupBy("cluster", "segment")
        .agg(
            F.count(F.lit(1)).alias("customers"),
            F.avg(naming["recency"]).alias("avg_recency_days"),
            F.avg(naming["frequency"]).alias("avg_frequency"),
            F.avg(naming["monetary"]).alias("avg_monetary"),
            F.avg("avg_order_value").alias("avg_order_value"),
            F.avg(naming["tenure"]).alias("avg_tenure_days"),
            F.sum(naming["monetary"]).alias("revenue"),
        )
        .withColumn("share", F.col("customers") / F.lit(n))
        .crossJoin(F.broadcast(total_revenue))
        .withColumn("revenue_share", F.col("revenue") / F.col("__total"))
        .drop("__total")
    )
    profiles.createOrReplaceTempView(config["outputs"]["profiles"])

    sizes = {names[c]: int(sizes_by_cluster.get(c, 0)) for c in range(len(centres))}
    metrics = {
        "k": k,
        "rows": n,
        "silhouette": silhouette,
        # Euclidean distances (the usual silhouette, as scikit-learn's) on a sample of this many customers.
        "silhouetteSample": int(len(sample)) if sample is not None else n,
        "silhouetteDistance": "euclidean" if euclidean else "cosine",
        "silhouetteSquaredEuclidean": spark_silhouette,
        "inertia": cost,
        "silhouetteByK": {str(kk): v[2] for kk, v in sorted(by_k.items())},
        "inertiaByK": {str(kk): v[1] for kk, v in sorted(by_k.items())},
        # Seconds of the restarts at each k together (restarts fits from seeded k-means|| starts).
        "fitSecondsByK": {str(kk): round(v, 3) for kk, v in sorted(fit_seconds.items())},
        "restarts": config["restarts"],
        "segmentSizes": sizes,
        "centres": {names[i]: c for i, c in enumerate(centres)},
        "features": config["features"],
        "names": names_mode,
    }
    truth = stage.get("truth")
    if truth:
        pairs = (
            assignments.join(spark.table(truth["view"]), id_col)
            .groupBy("cluster", "segment", F.col(truth["column"]).alias("truth"))
            .count()
            .collect()
        )
        contingency = {(r["cluster"], r["truth"]): r["count"] for r in pairs}
        matched = sum(r["count"] for r in pairs if r["segment"] == r["truth"])
        scored = sum(r["count"] for r in pairs)
        metrics["ari"] = adjusted_rand_index(contingency)
        metrics["nameAccuracy"] = matched / scored if scored else 0.0
        metrics["truthRows"] = scored
        log(f"{stage['name']}: adjusted Rand index against {truth['view']} = {metrics['ari']:.4f}")
    return metrics
