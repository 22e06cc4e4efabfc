"""allocate.py: one option per entity within a budget, against the brute-force optimum on small cases."""
import itertools

import numpy as np
import pytest

from sparkjobs_runner import allocate
from sparkjobs_runner.errors import INVALID_INPUT, RunnerError

SCHEMA = "customer_id string, channel string, expected_profit double, cost double"


def solve(spark, rows, budget):
    spark.createDataFrame(rows, SCHEMA).createOrReplaceTempView("a_offers")
    config = {"algorithm": "allocate", "entity": "customer_id", "value": "expected_profit", "cost": "cost",
              "budget": {"param": "budget"}, "outputs": {"chosen": "a_chosen"}}
    ctx = {"params": {"budget": {"type": "double", "value": budget}}}
    metrics = allocate.run(spark, {"name": "alloc", "input": "a_offers", "config": config}, lambda m: None, ctx)
    return metrics, {r["customer_id"]: r["channel"] for r in spark.table("a_chosen").collect()}


def brute_force(rows, budget):
    by_customer = {}
    for c, ch, v, k in rows:
        by_customer.setdefault(c, []).append((ch, v, k))
    best = 0.0
    for pick in itertools.product(*[[None, *opts] for opts in by_customer.values()]):
        chosen = [o for o in pick if o is not None]
        if sum(o[2] for o in chosen) <= budget + 1e-9:
            best = max(best, sum(o[1] for o in chosen))
    return best


@pytest.mark.parametrize("seed", range(2))
def test_within_budget_and_close_to_the_optimum(spark, seed):
    rng = np.random.default_rng(seed)
    rows = [(f"c{i}", ch, float(rng.normal(2, 1.5)), cost) for i in range(6) for ch, cost in (("push", 0.5), ("email", 1.0), ("social", 3.0))]
    budget = float(rng.uniform(2, 6))
    metrics, chosen = solve(spark, rows, budget)
    value = {(c, ch): (v, k) for c, ch, v, k in rows}
    spent = sum(value[(c, ch)][1] for c, ch in chosen.items())
    earned = sum(value[(c, ch)][0] for c, ch in chosen.items())
    assert spent <= budget + 1e-9 and metrics["cost"] == pytest.approx(spent)
    best = brute_force(rows, budget)
    # The Lagrangian answer is within one customer's best option of the optimum.
    largest = max(v for _, _, v, _ in rows)
    assert earned >= best - largest - 1e-9
    assert all(value[(c, ch)][0] > 0 for c, ch in chosen.items())


def test_unbinding_budget_takes_every_customer_best_option(spark):
    rows = [("a", "push", 1.0, 0.1), ("a", "email", 3.0, 0.5), ("b", "push", -1.0, 0.1), ("b", "email", -0.5, 0.5)]
    metrics, chosen = solve(spark, rows, 100.0)
    assert chosen == {"a": "email"} and metrics["priceOfBudget"] == 0.0


def test_a_budget_of_zero_chooses_nobody(spark):
    metrics, chosen = solve(spark, [("a", "push", 1.0, 0.1), ("b", "email", 3.0, 0.5)], 0.0)
    assert chosen == {} and metrics["chosen"] == 0 and metrics["cost"] == 0.0


def test_a_budget_of_zero_chooses_nobody_when_value_over_cost_rounds(spark):
    # 15.175392 - (15.175392 / 1.5) x 1.5 is 1.8e-15 in floating point, not 0: the option that sets
    # the highest price of budget must still not be worth taking at that price.
    assert 15.175392 - (15.175392 / 1.5) * 1.5 > 0
    metrics, chosen = solve(spark, [("a", "social", 15.175392, 1.5), ("b", "email", 1.0, 0.5)], 0.0)
    assert chosen == {} and metrics["chosen"] == 0 and metrics["cost"] == 0.0


def test_contacts_that_fit_the_budget_exactly_are_within_it(spark):
    # Costs of 0.10 and 0.20 fit a budget of 0.30 exactly; their double sum, 0.30000000000000004, does not.
    assert 0.1 + 0.2 > 0.3
    metrics, chosen = solve(spark, [("a", "email", 2.0, 0.1), ("b", "sms", 3.0, 0.2), ("c", "email", 0.5, 0.1)], 0.3)
    assert chosen == {"a": "email", "b": "sms"} and metrics["cost"] == 0.3


def test_a_negative_cost_is_an_error(spark):
    with pytest.raises(RunnerError) as e:
        solve(spark, [("a", "push", 1.0, -0.1)], 1.0)
    assert e.value.exit_code == INVALID_INPUT and "null or negative cost" in e.value.message
