"""
Writes customer_segments-shaped Parquet with Spark, with rule-breaking values planted at known rows,
in the layouts the validator must read: dictionary pages (v1), no dictionary (PLAIN, v1) and data
page v2. Small row groups and pages, so every file has several of each. Prints one JSON object:
{layout: {dir, rows, files: [{path, bytes}]}} and the planted rows by column.

    python make_invalid_outputs.py OUT_DIR ROWS
"""
import json
import os
import sys
import tempfile

from pyspark.sql import SparkSession, functions as F

out, rows = sys.argv[1], int(sys.argv[2])
spark = (SparkSession.builder.master("local[2]").appName("invalid-outputs")
         .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
         .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="invalid-outputs-warehouse-")).getOrCreate())
spark.sparkContext.setLogLevel("ERROR")

# Planted rows (0-based positions in the single output file, written in id order by coalesce(1)).
planted = {
    "customer_id": [0, 4097, rows // 2, rows - 1],        # null in a non-nullable column
    "cluster": [17, rows // 3, rows - 2],                  # below the minimum 0
    "segment": [3, 5000, rows // 2 + 1, rows - 3],         # breaks the pattern
    "distance": [11, rows // 4],                            # below the minimum 0
    "monetary": [7, rows - 5],                              # NaN
}
at = lambda col, i: F.col("id").isin(planted[col])
i = F.col("id")
df = (spark.range(rows).coalesce(1)
      .withColumn("customer_id", F.when(at("customer_id", i), F.lit(None).cast("string")).otherwise(F.format_string("C%07d", i)))
      .withColumn("cluster", F.when(at("cluster", i), F.lit(-1)).otherwise((i % 4).cast("int")))
      .withColumn("segment", F.when(at("segment", i), F.lit("vip"))
                  .otherwise(F.element_at(F.array(*[F.lit(s) for s in ["high-value", "loyal", "potential", "churning"]]), (i % 4 + 1).cast("int"))))
      .withColumn("distance", F.when(at("distance", i), F.lit(-0.5)).otherwise((i % 1000) / 7.0))
      .withColumn("recency_days", (i % 365).cast("int"))
      .withColumn("frequency", (i % 50 + 1).cast("int"))
      .withColumn("monetary", F.when(at("monetary", i), F.lit(float("nan"))).otherwise(i * 0.25))
      .drop("id"))

layouts = {
    "dictionary_v1": {},
    "plain_v1": {"parquet.enable.dictionary": "false"},
    "v2": {"parquet.writer.version": "v2"},
}
result = {"planted": planted, "layouts": {}}
for name, options in layouts.items():
    path = os.path.join(out, name)
    w = df.write.mode("overwrite").option("parquet.block.size", str(256 * 1024)).option("parquet.page.size", str(16 * 1024))
    for k, v in options.items():
        w = w.option(k, v)
    w.parquet(path)
    files = sorted(f for f in os.listdir(path) if f.endswith(".parquet"))
    result["layouts"][name] = {"dir": path, "rows": rows,
                               "files": [{"path": f, "bytes": os.path.getsize(os.path.join(path, f))} for f in files]}
print(json.dumps(result))
spark.stop()
