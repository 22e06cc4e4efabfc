"""The single-machine stack most teams start with: the customer-segmentation job written with pandas
and scikit-learn, on the same Parquet files.

The same cleaning rules in the same order (jobs/spark-sql/clean/), the same features
(jobs/spark-sql/features/customer_features.sql), log1p + standardising (sample standard deviation) of
the same five columns, and K-Means with k chosen by silhouette over 2..8 (3 starts per k). The
silhouette is scikit-learn's on a seeded sample of at most 10,000 customers: the exact one is
quadratic in the customers. Prints one JSON object: rows read, lines and customers kept, k, inertia,
seconds per phase and in all, and, given --compare (a customer_segments output), the adjusted Rand
index between the two segmentations. Peak memory is measured by the caller.

    python bench/peers/pandas_segmentation.py --transactions DIR --events DIR [--snapshot 2024-01-01] [--compare DIR]
"""
import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

FEATURES = ["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days"]
KEY = ["order_id", "customer_id", "order_ts", "product_id", "category", "quantity", "unit_price", "payment_method", "region", "status"]


def clean_transactions(t, snapshot_end, max_quantity, max_unit_price):
    t = t.sort_values(["order_id", "line_no"], kind="stable")
    duplicate = t.duplicated(subset=KEY, keep="first")
    keep = (
        t["customer_id"].notna()
        & ~((t["status"] == "cancelled") | t["order_id"].str.startswith("C"))
        & (t["status"] != "returned")
        & (t["quantity"] > 0) & (t["unit_price"] > 0)
        & t["product_id"].notna()
        & (t["order_ts"] < snapshot_end)
        & (t["quantity"] <= max_quantity) & (t["unit_price"] <= max_unit_price)
        & ~duplicate
    )
    out = t[keep].copy()
    out["category"] = out["category"].fillna("unknown")
    return out


def clean_events(e, snapshot_end):
    e = e.sort_values(["event_id", "event_ts", "event_type"], kind="stable")
    keep = e["customer_id"].notna() & (e["event_ts"] < snapshot_end) & ~e.duplicated(subset=["event_id"], keep="first")
    return e[keep]


def features(t, e, snapshot):
    t = t.assign(value=t["quantity"] * t["unit_price"])
    orders = t.groupby(["customer_id", "order_id"], sort=False).agg(order_ts=("order_ts", "min"), order_value=("value", "sum")).reset_index()
    day = orders["order_ts"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    orders = orders.assign(day=day)
    rfm = orders.groupby("customer_id").agg(last=("day", "max"), first=("day", "min"), frequency=("order_id", "size"), monetary=("order_value", "sum"))
    rfm["recency_days"] = (snapshot - rfm["last"]).dt.days
    rfm["tenure_days"] = (snapshot - rfm["first"]).dt.days
    rfm["avg_order_value"] = rfm["monetary"] / rfm["frequency"]
    spend = t.groupby(["customer_id", "category"]).agg(spend=("value", "sum")).reset_index()
    spend = spend.sort_values(["customer_id", "spend", "category"], ascending=[True, False, True])
    top = spend.groupby("customer_id").agg(top_category=("category", "first"), top_spend=("spend", "first"), total=("spend", "sum"),
                                           n_categories=("category", "size"))
    behaviour = pd.crosstab(e["customer_id"], e["event_type"])
    viewed = e.loc[e["event_type"] == "view", ["customer_id", "product_id"]].drop_duplicates()
    bought = t[["customer_id", "product_id"]].drop_duplicates().assign(bought=1)
    conversion = viewed.merge(bought, how="left", on=["customer_id", "product_id"]).groupby("customer_id").agg(
        viewed=("product_id", "size"), bought=("bought", "sum"))
    f = rfm.join(top, how="inner").join(behaviour, how="left").join(conversion, how="left")
    f["top_category_share"] = np.where(f["total"] > 0, (f["top_spend"] / f["total"]).clip(0, 1), 0.0)
    f["view_to_purchase"] = f["bought"] / f["viewed"]
    return f[(f["monetary"] > 0) & (f["recency_days"] >= 0)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--transactions", required=True)
    p.add_argument("--events", required=True)
    p.add_argument("--snapshot", default="2024-01-01")
    p.add_argument("--max-quantity", type=float, default=500)
    p.add_argument("--max-unit-price", type=float, default=10000)
    p.add_argument("--compare")
    a = p.parse_args()
    snapshot = pd.Timestamp(a.snapshot)
    snapshot_end = pd.Timestamp(a.snapshot, tz="UTC") + pd.Timedelta(days=1)
    seconds = {}

    t0 = time.perf_counter()
    transactions = pd.read_parquet(a.transactions)
    events = pd.read_parquet(a.events)
    for df, col in ((transactions, "order_ts"), (events, "event_ts")):
        if df[col].dt.tz is None:
            df[col] = df[col].dt.tz_localize("UTC")
    seconds["read"] = time.perf_counter() - t0

    t = time.perf_counter()
    clean_t = clean_transactions(transactions, snapshot_end, a.max_quantity, a.max_unit_price)
    clean_e = clean_events(events, snapshot_end)
    seconds["clean"] = time.perf_counter() - t

    t = time.perf_counter()
    f = features(clean_t, clean_e, snapshot).sort_index()
    seconds["features"] = time.perf_counter() - t

    t = time.perf_counter()
    x = np.log1p(f[FEATURES].astype(float).to_numpy())
    x = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    rng = np.random.default_rng(42)
    sample = rng.choice(len(x), size=min(len(x), 10_000), replace=False)
    best = None
    for k in range(2, 9):
        model = KMeans(n_clusters=k, n_init=3, random_state=42).fit(x)
        score = silhouette_score(x[sample], model.labels_[sample])
        if best is None or score > best[2]:
            best = (k, model, score)
    k, model, silhouette = best
    seconds["kmeans"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0

    result = {
        "rows": {"transactions": int(len(transactions)), "events": int(len(events))},
        "kept": {"transactions": int(len(clean_t)), "events": int(len(clean_e))},
        "customers": int(len(f)), "k": int(k), "inertia": float(model.inertia_), "silhouette": float(silhouette),
        "seconds": seconds,
    }
    if a.compare:
        theirs = pd.read_parquet(a.compare, columns=["customer_id", "cluster"]).set_index("customer_id")["cluster"]
        both = theirs.reindex(f.index)
        found = both.notna().to_numpy()
        result["agreement"] = {"customers": int(found.sum()),
                               "adjustedRandIndex": float(adjusted_rand_score(both[found].astype(int), model.labels_[found]))}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
