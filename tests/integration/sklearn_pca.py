"""Peer check for customer-pca: scikit-learn's PCA on the same features (log1p, standardised with the
sample standard deviation, as Spark's StandardScaler does).

usage: python sklearn_pca.py <customer_features dir> <segment_map dir> <components> <feature,...> <log1p feature,...>
prints one JSON object: sklearn's explained variance ratios, and the largest difference between the
Spark and sklearn projections on the first two components (up to each component's sign).
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA


def main(features_dir, map_dir, k, features, logs):
    df = pd.read_parquet(features_dir).sort_values("customer_id").reset_index(drop=True)
    x = np.column_stack([np.log1p(df[c].to_numpy(dtype=float)) if c in logs else df[c].to_numpy(dtype=float) for c in features])
    x = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    pca = PCA(n_components=k, svd_solver="full").fit(x)
    ours = pd.read_parquet(map_dir).set_index("customer_id").loc[df["customer_id"], ["pc1", "pc2"]].to_numpy()
    theirs = pca.transform(x)[:, :2]
    diff = max(min(np.abs(ours[:, i] - theirs[:, i]).max(), np.abs(ours[:, i] + theirs[:, i]).max()) for i in range(2))
    print(json.dumps({"explainedVarianceRatio": pca.explained_variance_ratio_.tolist(), "projectionDifference": float(diff), "rows": int(len(x))}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split(","), set(filter(None, sys.argv[5].split(","))))
