"""Budget allocation stage: at most one option per entity (a channel per customer), maximising the
total value within a budget. This is a multiple-choice knapsack; its Lagrangian relaxation is solved
by bisection on the price of budget: at price lam every entity takes the option with the highest
value - lam x cost, or none when that is not positive, and total cost falls as lam rises. The
answer is the cheapest price whose choices fit the budget, within one entity's value of the best
the relaxation allows. Each step is one aggregation over the options: nothing is collected.
"""
from pyspark.sql import Window
from pyspark.sql import functions as F

from .errors import INVALID_INPUT, RunnerError
from .params import number

STEPS = 40


def _choose(options, entity, value, cost, lam):
    adjusted = F.col(value) - F.lit(lam) * F.col(cost)
    best = Window.partitionBy(entity).orderBy(adjusted.desc(), F.col(cost), *[F.col(c) for c in options.columns if c not in (entity, value, cost)])
    return options.where(adjusted > 0).withColumn("__pick", F.row_number().over(best)).where("__pick = 1").drop("__pick")


def _exact_sum(cost):
    """The sum of a cost column in decimals (to 1e-9), as a double: contact costs are decimal
    amounts, and a double sum of 3,000 contacts at 0.10 comes to 300.0000000000021, over a budget
    of 300 that they fit exactly."""
    return F.coalesce(F.sum(F.col(cost).cast("decimal(38,9)")).cast("double"), F.lit(0.0))


def _cost(chosen, cost):
    return chosen.agg(_exact_sum(cost)).first()[0]


def run(spark, stage, log, ctx):
    config = stage["config"]
    entity, value, cost = config["entity"], config["value"], config["cost"]
    budget = number(config["budget"], ctx)
    options = spark.table(stage["input"])
    negative = options.where(F.col(cost).isNull() | (F.col(cost) < 0) | F.col(value).isNull()).count()
    if negative:
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {negative} options of {stage['input']} have a null value, or a null or negative cost",
                          where=stage["input"], fix=f"give every option a {value} and a {cost} of at least 0")
    options = options.where(F.col(value) > 0).cache()
    free = _choose(options, entity, value, cost, 0.0)
    spend = _cost(free, cost)
    lam, steps = 0.0, 0
    if spend > budget:
        top = options.where(F.col(cost) > 0).agg(F.max(F.col(value) / F.col(cost))).first()[0] or 0.0
        # At hi no option with a cost is worth taking: a hair above the best value per cost, as
        # value - top x cost can round to just above 0 for the option that sets top.
        lo, hi = 0.0, float(top) * (1 + 1e-9)
        for steps in range(1, STEPS + 1):
            mid = (lo + hi) / 2
            if _cost(_choose(options, entity, value, cost, mid), cost) > budget:
                lo = mid
            else:
                hi = mid
        lam = hi
    chosen = (free if lam == 0.0 else _choose(options, entity, value, cost, lam)).cache()
    summary = chosen.agg(F.count(F.lit(1)).alias("n"), _exact_sum(cost).alias("c"), F.coalesce(F.sum(value), F.lit(0.0)).alias("v")).first()
    log(f"{stage['name']}: price of budget {lam:.6g} after {steps} bisection steps: {summary['n']} chosen, cost {summary['c']:.2f} of {budget:.2f}")
    chosen.withColumn("rank", F.row_number().over(Window.orderBy(F.desc(value), entity)).cast("int")).createOrReplaceTempView(config["outputs"]["chosen"])
    return {"budget": budget, "priceOfBudget": lam, "bisectionSteps": steps, "chosen": int(summary["n"]),
            "cost": float(summary["c"]), "value": float(summary["v"]), "unconstrainedCost": float(spend)}
