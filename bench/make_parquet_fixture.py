#!/usr/bin/env python3
"""Write a 1,000,000-row, customer-segmentation-shaped Parquet output with real Spark.

The output is written the way sparkjobs writes job outputs: session time zone UTC,
spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS, snappy, coalesce(1), so the
directory holds exactly one part-*.snappy.parquet file (plus _SUCCESS and .crc files).

Every value is a pure function of the row id (xxhash64 with fixed salts), so the file's
contents are deterministic whatever the partitioning; the row order is fixed by
spark.range(..., numPartitions=2) followed by coalesce(1), which concatenates partitions in order.

Usage (the venv's python has pyspark 3.5.5; Java 17 must be on PATH):
    /root/.cache/sparkjobs/venv/py-32dfbd7cb15d/bin/python bench/make_parquet_fixture.py OUT_DIR [ROWS]
"""
from __future__ import annotations

import glob
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

SEED = 20240630
SEGMENTS = ["Champions", "Loyal Customers", "At Risk", "Hibernating"]
CATEGORIES = [
    "Electronics", "Home & Kitchen", "Books", "Clothing", "Beauty", "Sports",
    "Toys", "Grocery", "Garden", "Automotive", "Health", "Pet Supplies",
]
SNAPSHOT_DATE = "2025-06-30"


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("sparkjobs-parquet-fixture")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.parquet.compression.codec", "snappy")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")

    def u(salt: int):
        """Uniform double in [0, 1) from the row id: deterministic, partition-independent."""
        h = F.pmod(F.xxhash64(F.col("id"), F.lit(SEED), F.lit(salt)), F.lit(1 << 53))
        return h.cast("double") / float(1 << 53)

    segments = F.array(*[F.lit(s) for s in SEGMENTS])
    categories = F.array(*[F.lit(c) for c in CATEGORIES])
    snapshot_micros = F.unix_micros(F.to_timestamp(F.lit(SNAPSHOT_DATE + " 00:00:00")))

    df = (
        spark.range(0, rows, 1, numPartitions=2)
        .withColumn("cluster", F.floor(u(1) * 8).cast("int"))
        .withColumn("recency_days", F.floor(F.pow(u(2), F.lit(2.0)) * 730).cast("int"))
        .withColumn("frequency", (F.lit(1) + F.floor(-F.log(F.lit(1.0) - u(3)) * 6)).cast("long"))
        .withColumn("avg_order_value", F.round(F.lit(12.0) + F.exp(u(4) * 5.0) * 1.5, 2))
        .select(
            F.format_string("C%07d", F.col("id") + 1).alias("customer_id"),
            F.element_at(segments, (F.col("cluster") % 4 + 1).cast("int")).alias("segment"),
            "cluster",
            "recency_days",
            "frequency",
            F.round(F.col("frequency") * F.col("avg_order_value"), 2).alias("monetary"),
            "avg_order_value",
            (F.col("recency_days") + F.floor(u(5) * 3000)).cast("int").alias("tenure_days"),
            F.when(u(6) < 0.05, F.lit(None).cast("string"))
            .otherwise(F.element_at(categories, (F.floor(u(7) * len(CATEGORIES)) + 1).cast("int")))
            .alias("top_category"),
            # Microsecond precision on purpose: Spark keeps micros, a reader that truncates shows it.
            F.timestamp_micros(
                snapshot_micros
                - F.col("recency_days").cast("long") * 86_400_000_000
                - F.floor(u(8) * 86_400_000_000).cast("long")
            ).alias("last_order_ts"),
            F.to_date(F.lit(SNAPSHOT_DATE)).alias("snapshot_date"),
        )
    )

    df.coalesce(1).write.mode("overwrite").parquet(out_dir)
    df.printSchema()
    parts = sorted(glob.glob(os.path.join(out_dir, "part-*.parquet")))
    for p in parts:
        print(f"{p}\t{os.path.getsize(p)} bytes")
    spark.stop()
    if len(parts) != 1:
        return 1
    write_reference_checksums(parts[0], os.path.join(out_dir, "_bench_checksums.json"))
    return 0


def write_reference_checksums(part: str, out_path: str) -> None:
    """Independent reference for bench/parquet-readers.ts: the same checksums computed with pyarrow.

    Sums run in row order with plain float addition, exactly like the TypeScript readers, so the double sums
    must match bit for bit. The file name starts with '_' so Spark and Hadoop readers ignore it.
    """
    import json

    import pyarrow.parquet as pq

    t = pq.read_table(part)

    def col(name):
        return t.column(name).to_pylist()

    def strs(name):
        vals = [v for v in col(name) if v is not None]
        return {"nonNull": len(vals), "chars": sum(len(v) for v in vals)}

    def nums(name):
        s = 0
        n = 0
        for v in col(name):
            if v is not None:
                n += 1
                s += v  # ints stay exact ints; doubles add sequentially as in JS
        return {"nonNull": n, "sum": s}

    seg = [v for v in col("segment") if v is not None]
    counts = {k: seg.count(k) for k in sorted(set(seg))}
    # timestamps as raw epoch micros (int64), dates as epoch days (int32)
    ts = [v for v in t.column("last_order_ts").cast("int64").to_pylist() if v is not None]
    days = [v for v in t.column("snapshot_date").cast("int32").to_pylist() if v is not None]
    checksums = {
        "rows": t.num_rows,
        "customer_id": strs("customer_id"),
        "segment": {"nonNull": len(seg), "counts": counts},
        "cluster": nums("cluster"),
        "recency_days": nums("recency_days"),
        "frequency": nums("frequency"),
        "monetary": nums("monetary"),
        "avg_order_value": nums("avg_order_value"),
        "tenure_days": nums("tenure_days"),
        "top_category": strs("top_category"),
        "last_order_ts": {"nonNull": len(ts), "epochMillisSum": str(sum(v // 1000 for v in ts))},
        "snapshot_date": {"nonNull": len(days), "epochDaysSum": sum(days)},
    }
    with open(out_path, "w") as f:
        json.dump({"source": "pyarrow " + __import__("pyarrow").__version__, "checksums": checksums,
                   "lastOrderTsEpochMicrosSum": str(sum(ts))}, f, indent=2)
    print(f"reference checksums: {out_path}")


if __name__ == "__main__":
    sys.exit(main())
