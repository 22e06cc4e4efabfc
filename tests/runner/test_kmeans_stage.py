"""The K-Means stage on a chosen feature set: clustering on recency, frequency and monetary value
alone (tenure left out), business names taken from the clusters' means of the naming columns
(tenure among them though not clustered on), numbered names by size; the clustering checked
against scikit-learn's KMeans on the same transformed features, and the names against planted groups."""
import numpy as np
import pytest
from sklearn.cluster import KMeans as SkKMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

from sparkjobs_runner import kmeans

# Planted groups: (name, recency_days, frequency, monetary, tenure_days), lognormal noise around them.
GROUPS = [
    ("high-value", 8, 24, 6000, 600),
    ("loyal", 15, 10, 700, 800),
    ("potential", 20, 2, 120, 30),
    ("churning", 320, 3, 300, 500),
]
PER_GROUP = 120


def planted(seed=5):
    rng = np.random.default_rng(seed)
    rows = []
    for g, (name, r, f, m, t) in enumerate(GROUPS):
        for i in range(PER_GROUP):
            noise = rng.lognormal(0, 0.15, 4)
            frequency = max(1, int(round(f * noise[1])))
            monetary = float(m * noise[2])
            rows.append((f"c{g}-{i:03d}", name, float(r * noise[0]), frequency, monetary, monetary / frequency, float(t * noise[3])))
    return rows


def config(features, names):
    return {
        "algorithm": "kmeans", "idColumn": "customer_id", "features": features,
        "log1p": ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days"],
        "standardize": True, "k": {"min": 2, "max": 6}, "restarts": 2,
        "params": {"maxIter": 60, "tol": 1e-4, "initMode": "k-means||", "initSteps": 5, "seed": 42, "distanceMeasure": "euclidean"},
        "passthrough": ["recency_days", "frequency", "monetary"],
        "naming": {"recency": "recency_days", "frequency": "frequency", "monetary": "monetary", "tenure": "tenure_days"},
        "names": names,
        "outputs": {"assignments": "km_assignments", "profiles": "km_profiles"},
    }


@pytest.fixture(scope="module")
def customers(spark):
    rows = planted()
    df = spark.createDataFrame(rows, "customer_id string, planted string, recency_days double, frequency int, monetary double, avg_order_value double, tenure_days double")
    df.createOrReplaceTempView("km_customers")
    return rows


def run_stage(spark, features, names, k=4):
    stage = {"name": "segmentation", "input": "km_customers", "fixedK": k, "config": config(features, names)}
    metrics = kmeans.run(spark, stage, lambda _m: None)
    assigned = {r["customer_id"]: (r["cluster"], r["segment"]) for r in spark.table("km_assignments").collect()}
    return metrics, assigned


def transformed(rows, columns):
    index = {"recency_days": 2, "frequency": 3, "monetary": 4}
    x = np.log1p(np.array([[row[index[c]] for c in columns] for row in rows], dtype=float))
    return (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)  # Spark's StandardScaler: sample standard deviation


def test_rfm_alone_clusters_as_scikit_learn_and_names_the_planted_groups(spark, customers):
    features = ["recency_days", "frequency", "monetary"]
    metrics, assigned = run_stage(spark, features, "business")
    assert metrics["features"] == features and metrics["names"] == "business"
    ids = [row[0] for row in customers]
    labels = np.array([assigned[i][0] for i in ids])
    x = transformed(customers, features)
    sk = SkKMeans(n_clusters=4, n_init=10, random_state=0).fit(x)
    # The same partition as scikit-learn on the same transformed features, and the same silhouette.
    assert adjusted_rand_score(sk.labels_, labels) == pytest.approx(1.0)
    assert metrics["silhouette"] == pytest.approx(silhouette_score(x, labels), abs=1e-9)
    inertia = sum(float(((x[labels == c] - x[labels == c].mean(axis=0)) ** 2).sum()) for c in set(labels))
    assert metrics["inertia"] == pytest.approx(inertia, rel=1e-6)
    assert metrics["inertia"] == pytest.approx(sk.inertia_, rel=1e-6)
    # Named from the clusters' means, tenure included though not clustered on: every planted group gets its own name.
    assert all(assigned[row[0]][1] == row[1] for row in customers)


def test_numbered_names_go_by_size(spark, customers):
    features = ["recency_days", "frequency"]
    metrics, assigned = run_stage(spark, features, "numbered", k=3)
    assert metrics["names"] == "numbered"
    sizes = {}
    for _cluster, segment in assigned.values():
        sizes[segment] = sizes.get(segment, 0) + 1
    assert set(sizes) == {"segment-1", "segment-2", "segment-3"}
    assert sizes["segment-1"] >= sizes["segment-2"] >= sizes["segment-3"]
    assert sum(sizes.values()) == len(customers)
    profiles = {r["segment"]: r["customers"] for r in spark.table("km_profiles").collect()}
    assert profiles == sizes


def test_a_feature_that_is_null_is_named(spark):
    spark.createDataFrame([("a", 1.0, None), ("b", 2.0, 3.0), ("c", 5.0, 1.0)],
                          "customer_id string, recency_days double, frequency double").createOrReplaceTempView("km_nulls")
    stage = {"name": "segmentation", "input": "km_nulls", "fixedK": 2, "config": config(["recency_days", "frequency"], "numbered")}
    with pytest.raises(kmeans.RunnerError) as e:
        kmeans.run(spark, stage, lambda _m: None)
    assert "feature frequency is null" in str(e.value) and "customer_id='a'" in str(e.value)
