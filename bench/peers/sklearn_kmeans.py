"""scikit-learn's KMeans on the same feature vectors as a customer-segmentation run.

Reads the run's customer_features, applies the run's transformation (log1p, then standardising with
the sample standard deviation, as Spark's StandardScaler does), and fits sklearn.cluster.KMeans with
the run's k. Prints one JSON object: the inertia of the run's own assignment (from the distances in
customer_segments), sklearn's best inertia over n_init starts, and the median time of one sklearn fit
(n_init=1) beside the features' row count.

    python bench/peers/sklearn_kmeans.py --features DIR --segments DIR --k 4 --columns a,b,c --log1p a,b
"""
import argparse
import json
import statistics
import time

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--features", required=True)
    p.add_argument("--segments", required=True)
    p.add_argument("--k", type=int, required=True)
    p.add_argument("--columns", required=True)
    p.add_argument("--log1p", default="")
    p.add_argument("--n-init", type=int, default=10)
    p.add_argument("--timing-fits", type=int, default=5)
    a = p.parse_args()
    columns, logs = a.columns.split(","), set(filter(None, a.log1p.split(",")))
    features = pd.read_parquet(a.features, columns=["customer_id", *columns]).sort_values("customer_id")
    x = np.column_stack([np.log1p(features[c].astype(float)) if c in logs else features[c].astype(float) for c in columns])
    x = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    segments = pd.read_parquet(a.segments, columns=["distance"])
    spark_inertia = float((segments["distance"].astype(float) ** 2).sum())

    best = KMeans(n_clusters=a.k, n_init=a.n_init, random_state=0).fit(x)
    times = []
    for seed in range(a.timing_fits):
        t = time.perf_counter()
        KMeans(n_clusters=a.k, n_init=1, random_state=seed).fit(x)
        times.append(time.perf_counter() - t)
    print(json.dumps({
        "rows": int(x.shape[0]), "k": a.k,
        "sparkInertia": spark_inertia,
        "sklearnInertia": float(best.inertia_),
        "sklearnNInit": a.n_init,
        "sklearnFitSeconds": statistics.median(times),
    }))


if __name__ == "__main__":
    main()
