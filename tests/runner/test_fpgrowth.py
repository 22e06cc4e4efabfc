"""fpgrowth.py on a real SparkSession: rules counted by hand on small baskets, items counted once per
basket, the parameter-bound support, and the errors a user meets (no baskets, a support so low that
the itemsets explode)."""
import itertools

import pytest

from sparkjobs_runner import fpgrowth
from sparkjobs_runner.errors import INVALID_INPUT, RunnerError

CONFIG = {"basket": "order_id", "item": "product_id", "minSupport": {"param": "min_support"}, "minConfidence": 0.0,
          "maxAntecedent": 2, "maxRules": 1000, "maxItemsets": 0, "outputs": {"rules": "rules_out"}}


def run_rules(spark, lines, min_support=0.2, **config):
    spark.createDataFrame(lines, "order_id string, product_id string").createOrReplaceTempView("t_lines")
    ctx = {"params": {"min_support": {"type": "double", "value": min_support}}}
    stage = {"kind": "mllib", "name": "rules", "input": "t_lines", "config": {**CONFIG, **config}}
    metrics = fpgrowth.run(spark, stage, lambda m: None, ctx)
    return metrics, {(r["antecedent"], r["consequent"]): r.asDict() for r in spark.table("rules_out").collect()}


def by_hand(baskets, antecedent, consequent):
    n = len(baskets)
    a = sum(1 for b in baskets if antecedent <= b)
    both = sum(1 for b in baskets if antecedent <= b and consequent in b)
    c = sum(1 for b in baskets if consequent in b)
    return both / n, both / a, (both / a) / (c / n), both


def test_support_confidence_and_lift_equal_counts_by_hand(spark):
    baskets = [{"a", "b"}, {"a", "b", "c"}, {"a", "c"}, {"b", "c"}, {"a", "b", "d"}, {"d"}, {"a", "b", "c"}, {"c"}]
    # A repeated line in a basket counts once.
    lines = [(f"o{i}", item) for i, b in enumerate(baskets) for item in sorted(b)] + [("o0", "a")]
    metrics, rules = run_rules(spark, lines, min_support=0.2)
    assert metrics["baskets"] == len(baskets) and metrics["minSupport"] == 0.2
    expected = 0
    items = sorted(set().union(*baskets))
    for size in (1, 2):
        for left in itertools.combinations(items, size):
            for right in items:
                if right in left:
                    continue
                if sum(1 for b in baskets if set(left) <= b) / len(baskets) < 0.2:
                    continue
                support, confidence, lift, both = by_hand(baskets, set(left), right)
                if support < 0.2:
                    continue
                expected += 1
                r = rules[(" + ".join(left), right)]
                assert r["support"] == pytest.approx(support) and r["confidence"] == pytest.approx(confidence)
                assert r["lift"] == pytest.approx(lift) and r["baskets"] == both and r["antecedent_items"] == size
    assert len(rules) == expected
    ranks = sorted(rules.values(), key=lambda r: r["rank"])
    assert [r["rank"] for r in ranks] == list(range(1, expected + 1))
    assert all(x["lift"] >= y["lift"] for x, y in zip(ranks, ranks[1:]))


def test_max_rules_keeps_the_highest_lift(spark):
    baskets = [{"a", "b"}] * 5 + [{"a", "c"}] * 3 + [{"c", "d"}] * 4 + [{"b"}] * 2
    lines = [(f"o{i}", item) for i, b in enumerate(baskets) for item in sorted(b)]
    _, every = run_rules(spark, lines, min_support=0.1)
    _, top = run_rules(spark, lines, min_support=0.1, maxRules=2)
    best = sorted(every.values(), key=lambda r: r["rank"])[:2]
    assert sorted(top) == sorted((r["antecedent"], r["consequent"]) for r in best)


def test_no_basket_is_an_error(spark):
    with pytest.raises(RunnerError) as e:
        run_rules(spark, [("o1", None)])
    assert e.value.exit_code == INVALID_INPUT and "holds no basket" in e.value.message


def test_too_many_itemsets_is_an_error_naming_the_parameter(spark):
    # 12 items always bought together: 4095 frequent itemsets at any support.
    lines = [(f"o{i}", f"p{j}") for i in range(3) for j in range(12)]
    with pytest.raises(RunnerError) as e:
        run_rules(spark, lines, min_support=0.5, maxItemsets=1000)
    assert e.value.exit_code == INVALID_INPUT
    assert "a minimum support of 0.5 leaves 4095 frequent itemsets in 3 baskets" in e.value.message and "min_support" in e.value.fix
