"""Vector columns as arrays of doubles, without pandas.

pyspark.ml.functions.vector_to_array imports pandas when its module loads (Spark 3.5), and a
cluster's Python has numpy but not always pandas: the runner needs nothing beyond pyspark and
numpy. This calls the same JVM function (org.apache.spark.ml.functions.vector_to_array).
"""
from pyspark.sql import Column, SparkSession
from pyspark.sql.column import _to_java_column


def vector_to_array(col, dtype="float64"):
    jvm = SparkSession.getActiveSession().sparkContext._jvm
    return Column(jvm.org.apache.spark.ml.functions.vector_to_array(_to_java_column(col), dtype))
