"""The floor under a job: Spark reading the same input columns and doing nothing else.

Reads every column of the given Parquet folders with the same Spark and settings a sparkjobs run
uses, and forces every value to be decoded (a no-op write). Prints one JSON object with the rows and
the seconds inside the Spark session (the spark-submit wall time is measured by the caller).

    spark-submit bench/peers/bare_scan.py DIR [DIR ...]
"""
import json
import sys
import time

from pyspark.sql import SparkSession


def main(paths):
    spark = SparkSession.builder.appName("sparkjobs-bench-bare-scan").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    t = time.time()
    rows = {}
    for path in paths:
        df = spark.read.parquet(path)
        df.write.format("noop").mode("overwrite").save()
        rows[path] = df.count()
    seconds = time.time() - t
    spark.stop()
    print(json.dumps({"rows": rows, "seconds": seconds}))


if __name__ == "__main__":
    main(sys.argv[1:])
