"""A short Spark application that loads the classes the jobs' runs load: Spark SQL over Parquet
(joins, aggregates, windows, sorts, writes), and the MLlib estimators of the job suite. The JVM
running it saves them in a class-data-sharing archive at its exit (submitter/src/env/class-archive.ts);
what it computes is thrown away. Usage: spark-submit jvm-warmup.py <scratch folder>"""
import sys

from pyspark.ml.classification import GBTClassifier, LogisticRegression
from pyspark.ml.clustering import KMeans
from pyspark.ml.evaluation import BinaryClassificationEvaluator, ClusteringEvaluator
from pyspark.ml.feature import PCA, StandardScaler, VectorAssembler
from pyspark.ml.fpm import FPGrowth
from pyspark.ml.recommendation import ALS
from pyspark.ml.regression import GBTRegressor
from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F


def main(scratch):
    spark = SparkSession.builder.appName("sparkjobs-jvm-warmup").getOrCreate()
    rows = (spark.range(0, 3000)
            .select(F.col("id"), (F.col("id") % 97).alias("customer"), (F.col("id") % 13).alias("product"),
                    (F.rand(1) * 100).alias("amount"), F.expr("date_add(date'2024-01-01', cast(id % 365 as int))").alias("day"),
                    F.concat(F.lit("c"), F.col("id") % 7).alias("category"), (F.rand(2) > 0.5).cast("int").alias("label")))
    rows.write.mode("overwrite").parquet(f"{scratch}/rows")
    rows = spark.read.parquet(f"{scratch}/rows")
    rows.createOrReplaceTempView("rows")
    features = spark.sql("""
        SELECT customer, count(*) AS orders, sum(amount) AS monetary, datediff(date'2025-01-01', max(day)) AS recency,
               avg(amount) AS aov, max(label) AS label, percentile_approx(amount, 0.5) AS median_amount
        FROM rows WHERE amount IS NOT NULL AND NOT isnan(amount) GROUP BY customer""")
    ranked = features.join(rows.groupBy("customer", "category").count(), "customer", "left") \
        .withColumn("rank", F.row_number().over(Window.partitionBy("customer").orderBy(F.desc("count"))))
    ranked.filter("rank = 1").orderBy("customer").write.mode("overwrite").parquet(f"{scratch}/features")
    features = spark.read.parquet(f"{scratch}/features").cache()
    features.groupBy("category").agg(F.count("*"), F.stddev_samp("monetary")).collect()

    vectors = VectorAssembler(inputCols=["orders", "monetary", "recency", "aov"], outputCol="raw").transform(features)
    vectors = StandardScaler(inputCol="raw", outputCol="features", withMean=True, withStd=True).fit(vectors).transform(vectors)
    clusters = KMeans(k=3, seed=1, maxIter=5).fit(vectors).transform(vectors)
    ClusteringEvaluator(featuresCol="features", predictionCol="prediction").evaluate(clusters)
    PCA(k=2, inputCol="features", outputCol="pcs").fit(vectors).transform(vectors).count()
    train, test = vectors.randomSplit([0.7, 0.3], seed=1)
    for model in (GBTClassifier(maxIter=3, maxDepth=2, seed=1), LogisticRegression(maxIter=5)):
        scored = model.fit(train).transform(test)
        BinaryClassificationEvaluator().evaluate(scored)
    GBTRegressor(maxIter=3, maxDepth=2, labelCol="monetary", seed=1).fit(train).transform(test).count()
    ratings = rows.groupBy("customer", "product").agg(F.count("*").cast("float").alias("rating"))
    ALS(userCol="customer", itemCol="product", ratingCol="rating", implicitPrefs=True, rank=2, maxIter=2, seed=1) \
        .fit(ratings).recommendForAllUsers(3).count()
    baskets = rows.groupBy((F.col("id") % 400).alias("basket")).agg(F.collect_set("product").alias("items"))
    FPGrowth(itemsCol="items", minSupport=0.05, minConfidence=0.1).fit(baskets).associationRules.count()
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
