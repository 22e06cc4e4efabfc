"""The A/B test: the two-proportion test against scipy's chi-square test (z^2 = chi^2 without
continuity correction), the interval against scipy's normal quantile, and the stage's empty cases."""
import math

import numpy as np
import pytest
from scipy.stats import chi2_contingency, norm

from sparkjobs_runner import abtest
from sparkjobs_runner.metrics import two_proportion_test


@pytest.mark.parametrize("seed", range(8))
def test_p_value_equals_the_chi_square_test(seed):
    rng = np.random.default_rng(seed)
    n_t, n_c = int(rng.integers(50, 5000)), int(rng.integers(50, 1500))
    x_t, x_c = int(rng.binomial(n_t, 0.12)), int(rng.binomial(n_c, 0.08))
    r = two_proportion_test(n_t, x_t, n_c, x_c)
    chi2, p, _, _ = chi2_contingency([[x_t, n_t - x_t], [x_c, n_c - x_c]], correction=False)
    assert r["p_value"] == pytest.approx(p, rel=1e-9)
    assert r["z"] ** 2 == pytest.approx(chi2, rel=1e-9)
    se = math.sqrt(x_t / n_t * (1 - x_t / n_t) / n_t + x_c / n_c * (1 - x_c / n_c) / n_c)
    assert r["ci_high"] - r["lift"] == pytest.approx(norm.ppf(0.975) * se, rel=1e-12)
    assert r["lift"] - r["ci_low"] == pytest.approx(norm.ppf(0.975) * se, rel=1e-12)


def test_undefined_cases_say_why():
    assert two_proportion_test(100, 10, 0, 0)["note"] == "no control group"
    r = two_proportion_test(100, 0, 50, 0)
    assert r["lift"] == 0 and r["p_value"] is None and r["note"] == "every row has the same outcome: the test is undefined"
    assert two_proportion_test(100, 10, 50, 0)["relative_lift"] is None


def test_the_stage_on_counts(spark):
    spark.createDataFrame(
        [("CMP-1", "coupon", 1000, 150, 250, 20), ("CMP-2", "loyalty", 800, 40, 0, 0)],
        "campaign_id string, campaign_type string, treatment_rows bigint, treatment_responders bigint, control_rows bigint, control_responders bigint",
    ).createOrReplaceTempView("counts")
    config = {"algorithm": "abtest", "keys": ["campaign_id", "campaign_type"], "confidence": 0.95,
              "treatment": {"rows": "treatment_rows", "positives": "treatment_responders"},
              "control": {"rows": "control_rows", "positives": "control_responders"}, "outputs": {"tests": "t_ab"}}
    metrics = abtest.run(spark, {"name": "ab", "input": "counts", "config": config}, lambda m: None)
    assert metrics == {"tests": 2, "significant": 1, "confidence": 0.95}
    rows = {r["campaign_id"]: r for r in spark.table("t_ab").collect()}
    assert rows["CMP-1"]["lift"] == pytest.approx(0.15 - 0.08) and rows["CMP-1"]["significant"]
    assert rows["CMP-2"]["note"] == "no control group" and rows["CMP-2"]["significant"] is False


def test_qini_coefficient_of_random_and_perfect_targeting():
    from sparkjobs_runner.uplift import qini_coefficient

    # Random targeting: incremental responders grow linearly, no area above the diagonal.
    assert qini_coefficient([(0.0, 0.0), (0.5, 50.0), (1.0, 100.0)]) == pytest.approx(0.0)
    # All 100 incremental responders in the first 20%: the area is 0.2*100/2 + 0.8*100 - 50.
    assert qini_coefficient([(0.0, 0.0), (0.2, 100.0), (1.0, 100.0)]) == pytest.approx(40.0)
