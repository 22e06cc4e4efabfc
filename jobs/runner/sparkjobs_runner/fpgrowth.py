"""Association rules stage: FP-Growth over baskets (the distinct items of each basket), rules with
support, confidence and lift, strongest lift first. Only the counts and the first rules come to the
driver."""
import time

from pyspark.ml.fpm import FPGrowth
from pyspark.sql import Window
from pyspark.sql import functions as F

from .errors import INVALID_INPUT, RunnerError
from .params import number

SEPARATOR = " + "


def run(spark, stage, log, ctx):
    config = stage["config"]
    min_support, min_confidence = number(config["minSupport"], ctx), number(config["minConfidence"], ctx)
    basket, item = config["basket"], config["item"]
    rows = spark.table(stage["input"])
    missing = [c for c in (basket, item) if c not in rows.columns]
    if missing:
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {stage['input']} has no column {missing[0]!r}",
                          where=stage["input"], fix=f"select the basket ({basket}) and item ({item}) columns in the SQL stage")
    baskets = (rows.where(F.col(basket).isNotNull() & F.col(item).isNotNull())
               .groupBy(basket).agg(F.collect_set(F.col(item).cast("string")).alias("items"))
               .cache())
    counts = baskets.agg(F.count(F.lit(1)).alias("baskets"), F.sum(F.size("items")).alias("lines")).first()
    n = counts["baskets"]
    if not n:
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {stage['input']} holds no basket with an item",
                          where=stage["input"], fix="check the inputs: no rows reached the rules")
    t = time.time()
    model = FPGrowth(itemsCol="items", minSupport=min_support, minConfidence=min_confidence).fit(baskets)
    itemsets = model.freqItemsets.cache()
    n_itemsets = itemsets.count()
    if config["maxItemsets"] and n_itemsets > config["maxItemsets"]:
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: a minimum support of {min_support} leaves {n_itemsets} frequent itemsets "
                          f"in {n} baskets, above maxItemsets {config['maxItemsets']}",
                          where=stage["name"], fix="raise the minimum support (the job's min_support parameter), or maxItemsets in the stage config")
    rules = (model.associationRules
             .where(F.size("antecedent") <= config["maxAntecedent"])
             .select(F.array_join(F.array_sort("antecedent"), SEPARATOR).alias("antecedent"),
                     F.col("consequent")[0].alias("consequent"),
                     F.size("antecedent").cast("int").alias("antecedent_items"),
                     F.round(F.col("support") * n).cast("long").alias("baskets"),
                     "support", "confidence", "lift"))
    order = [F.desc("lift"), F.desc("support"), "antecedent", "consequent"]
    ranked = (rules.withColumn("rank", F.row_number().over(Window.orderBy(*order)).cast("int"))
              .where(F.col("rank") <= config["maxRules"])
              .cache())
    summary = ranked.agg(F.count(F.lit(1)).alias("rules")).first()
    top = [r.asDict() for r in ranked.where(F.col("rank") <= 10).orderBy("rank").collect()]
    log(f"{stage['name']}: {n} baskets, {n_itemsets} frequent itemsets, {summary['rules']} rules in {time.time() - t:.1f}s")
    ranked.select("rank", "antecedent", "consequent", "antecedent_items", "baskets", "support", "confidence", "lift") \
        .createOrReplaceTempView(config["outputs"]["rules"])
    return {
        "minSupport": min_support,
        "minConfidence": min_confidence,
        "baskets": n,
        "meanBasketSize": counts["lines"] / n,
        "frequentItemsets": n_itemsets,
        "rules": summary["rules"],
        "top": [{k: r[k] for k in ("antecedent", "consequent", "support", "confidence", "lift")} for r in top],
    }
