"""Peer check for the Online Retail segmentation: scikit-learn's KMeans (n_init=10) on the very
feature matrix the Spark job clustered, and the exact silhouette of both labelings.

usage: python sklearn_silhouette.py <customer_features dir> <customer_segments dir> <k>
prints one JSON object.
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

FEATURES = ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days"]


def main(features_dir, segments_dir, k):
    features = pd.read_parquet(features_dir).sort_values("customer_id").reset_index(drop=True)
    segments = pd.read_parquet(segments_dir).set_index("customer_id")
    x = np.log1p(features[FEATURES].to_numpy(dtype=float))
    # Spark's StandardScaler divides by the sample standard deviation (n - 1).
    x = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    spark_labels = segments.loc[features["customer_id"], "cluster"].to_numpy()
    sk = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)
    spark_inertia = float(sum(((x[spark_labels == c] - x[spark_labels == c].mean(axis=0)) ** 2).sum() for c in np.unique(spark_labels)))
    print(json.dumps({
        "customers": int(len(x)),
        "spark_silhouette": float(silhouette_score(x, spark_labels)),
        "sklearn_silhouette": float(silhouette_score(x, sk.labels_)),
        "spark_inertia": spark_inertia,
        "sklearn_inertia": float(sk.inertia_),
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
