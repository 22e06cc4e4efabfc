"""Writes tables into a local Hive metastore (embedded Derby) for the catalog-table test: a
database `shop` with `shop.orders` (order lines under a team's own column names, stored as
Parquet in the warehouse) and `shop.members` (customer attributes), through Spark's Hive catalog.

usage: python make_hive_tables.py <dir>
The metastore goes to <dir>/metastore_db, the warehouse to <dir>/warehouse; run it in <dir>, where
Derby writes its log. Prints the rows written as JSON.
"""
import json
import sys
from datetime import datetime

from pyspark.sql import SparkSession


def catalog_conf(d):
    """The settings that point Spark's Hive catalog at the metastore under d (the test passes the same ones to sparkjobs)."""
    return {
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": f"{d}/warehouse",
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={d}/metastore_db;create=true",
    }


ORDERS = [
    ("INV-1", 101, datetime(2024, 3, 1, 10, 0), "SKU-A", 2, 4.5),
    ("INV-1", 101, datetime(2024, 3, 1, 10, 0), "SKU-B", 1, 12.0),
    ("INV-2", 102, datetime(2024, 3, 2, 15, 30), "SKU-A", 1, 4.5),
    ("INV-3", 101, datetime(2024, 3, 9, 9, 15), "SKU-C", 3, 2.25),
    ("INV-4", 103, datetime(2024, 3, 10, 18, 45), "SKU-B", 2, 12.0),
]
MEMBERS = [(101, "2023-01-15", "Lyon"), (102, "2023-06-01", "Paris"), (103, "2024-02-20", "Nice")]


def main(d):
    builder = SparkSession.builder.master("local[1]").appName("hive-tables")
    for k, v in catalog_conf(d).items():
        builder = builder.config(k, v)
    spark = builder.enableHiveSupport().getOrCreate()
    spark.sql("CREATE DATABASE IF NOT EXISTS shop")
    spark.createDataFrame(ORDERS, "invoice string, member_no int, invoiced_at timestamp, sku string, qty int, price double") \
        .write.mode("overwrite").format("parquet").saveAsTable("shop.orders")
    spark.createDataFrame(MEMBERS, "member_no int, joined string, city string").write.mode("overwrite").format("parquet").saveAsTable("shop.members")
    print(json.dumps({"orders": len(ORDERS), "members": len(MEMBERS), "tables": sorted(t.name for t in spark.catalog.listTables("shop"))}))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
