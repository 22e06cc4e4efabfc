"""Writes a customer_segments table with exactly the given segment shares, and a customers table
that holds every customer but the last `unknown` ones: the inputs of the checks tests.

usage: make_segments.py OUT_DIR '{"loyal": 0.3, ...}' CUSTOMERS UNKNOWN SEED"""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

out, shares, n, unknown, seed = Path(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = np.random.default_rng(seed)
labels = [seg for seg, share in shares.items() for _ in range(round(share * n))]
rng.shuffle(labels)
ids = [f"c{i:05d}" for i in range(len(labels))]
clusters = {seg: i for i, seg in enumerate(shares)}
segments = pa.table({
    "customer_id": pa.array(ids, pa.string()),
    "cluster": pa.array([clusters[s] for s in labels], pa.int32()),
    "segment": pa.array(labels, pa.string()),
    "distance": pa.array(rng.random(len(ids)), pa.float64()),
    "recency_days": pa.array(rng.integers(0, 365, len(ids)), pa.int32()),
    "frequency": pa.array(rng.integers(1, 20, len(ids)), pa.int32()),
    "monetary": pa.array(rng.random(len(ids)) * 1000, pa.float64()),
})
known = ids[: len(ids) - unknown]
customers = pa.table({
    "customer_id": pa.array(known, pa.string()),
    "signup_date": pa.array(pd.to_datetime(["2024-01-01"] * len(known)).date, pa.date32()),
    "age": pa.array([30] * len(known), pa.int32()),
    "gender": pa.array(["female"] * len(known), pa.string()),
    "region": pa.array(["north"] * len(known), pa.string()),
    "occupation": pa.array([None] * len(known), pa.string()),
})
for name, table in (("segments", segments), ("customers", customers)):
    (out / name).mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out / name / "part-0.parquet")
