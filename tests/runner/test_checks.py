"""Gates evaluated in Spark over written outputs (unique, references, accepted, reconcile) and
drift against the previous run of a series, each recomputed here with pandas and numpy."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from sparkjobs_runner import checks


def write(spark, tmp_path, name, frame):
    uri = str(tmp_path / "run" / name)
    spark.createDataFrame(frame).write.mode("overwrite").parquet(uri)
    return {"name": name, "view": name, "table": name, "uri": uri}


def plan_of(tmp_path, outputs, gates, series="s1"):
    return {"runId": "r-now", "runUri": str(tmp_path / "run"), "outputs": outputs, "checks": gates,
            "history": {"uri": str(tmp_path / "history"), "series": series}}


def by_name(results):
    return {r["name"]: r for r in results}


def segments(shares, n=1000, seed=0):
    """n customers whose segments have exactly these shares, in random order."""
    labels = [seg for seg, share in shares.items() for _ in range(round(share * n))]
    rng = np.random.default_rng(seed)
    rng.shuffle(labels)
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(labels))], "segment": labels,
                         "p": rng.beta(2, 5, len(labels))})


def test_data_gates_count_every_failing_row_and_write_a_sample(spark, tmp_path):
    features = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "monetary": [10.0, 20.0, 30.5, 40.0]})
    seg = pd.DataFrame({"customer_id": ["a", "b", "b", "x", "y", None], "segment": ["loyal", "loyal", "bogus", "churning", "nope", "loyal"]})
    outputs = [write(spark, tmp_path, "customer_features", features), write(spark, tmp_path, "customer_segments", seg)]
    gates = [
        {"name": "key", "unique": {"output": "customer_segments", "columns": ["customer_id"]}},
        {"name": "features_key", "unique": {"output": "customer_features", "columns": ["customer_id"]}},
        {"name": "known", "references": {"output": "customer_segments", "columns": ["customer_id"], "to": "customer_features"}},
        {"name": "names", "accepted": {"output": "customer_segments", "column": "segment", "values": ["loyal", "churning"]}, "severity": "warn"},
        {"name": "sum_ok", "reconcile": {"left": {"sql": "SELECT sum(monetary) FROM customer_features"},
                                         "right": {"sql": "SELECT 100.5D"}, "tolerance": 1e-9}},
        {"name": "sum_off", "reconcile": {"left": {"sql": "SELECT sum(monetary) FROM customer_features"},
                                          "right": {"sql": "SELECT 101D"}, "tolerance": 1e-9}},
        {"name": "no_view", "references": {"output": "customer_segments", "columns": ["customer_id"], "to": "products"}},
    ]
    results, profiles = checks.evaluate(spark, plan_of(tmp_path, outputs, gates), {}, None, lambda m: None)
    r = by_name(results)
    assert profiles == {}

    duplicated = seg["customer_id"].dropna()
    expected_dups = int((duplicated.value_counts() > 1).sum())
    assert r["key"]["outcome"] == "error" and r["key"]["failing"] == expected_dups == 1
    sample = json.loads(open(r["key"]["sample"]).read())
    assert sample["rows"] == [{"customer_id": "b", "count": 2}] and r["key"]["sample"] in r["key"]["detail"]
    assert r["features_key"]["outcome"] == "ok" and "sample" not in r["features_key"]

    missing = seg[seg["customer_id"].notna() & ~seg["customer_id"].isin(features["customer_id"])]
    assert r["known"]["outcome"] == "error" and r["known"]["failing"] == len(missing) == 2
    assert sorted(row["customer_id"] for row in json.loads(open(r["known"]["sample"]).read())["rows"]) == sorted(missing["customer_id"])

    outside = seg[~seg["segment"].isin(["loyal", "churning"])]
    assert r["names"]["outcome"] == "warn" and r["names"]["failing"] == len(outside) == 2

    assert r["sum_ok"]["outcome"] == "ok" and r["sum_ok"]["value"] == 0
    assert r["sum_off"]["outcome"] == "error" and math.isclose(r["sum_off"]["value"], abs(features["monetary"].sum() - 101))
    assert r["no_view"]["outcome"] == "ok" and "absent" in r["no_view"]["detail"]


def test_a_reconcile_query_that_gives_several_rows_fails_the_gate_with_the_reason(spark, tmp_path):
    outputs = [write(spark, tmp_path, "t", pd.DataFrame({"v": [1.0, 2.0]}))]
    gates = [{"name": "bad", "reconcile": {"left": {"sql": "SELECT v FROM t"}, "right": {"sql": "SELECT 1D"}}}]
    results, _ = checks.evaluate(spark, plan_of(tmp_path, outputs, gates), {}, None, lambda m: None)
    assert results[0]["outcome"] == "error" and "one row of one column, not 2 row(s)" in results[0]["detail"]


DRIFT = [
    {"name": "shares", "drift": {"shares": {"output": "customer_segments", "column": "segment"}}, "warn": 0.05, "error": 0.10},
    {"name": "psi", "drift": {"psi": {"output": "customer_segments", "column": "p", "bins": 10, "range": [0, 1]}}, "warn": 0.1, "error": 0.25},
    {"name": "rows", "drift": {"rows": "customer_segments"}, "warn": 0.2, "severity": "warn"},
]


def run_once(spark, tmp_path, frame, run_id, series="s1"):
    """One run of a series: evaluate against the previous entry, then record this run's entry."""
    outputs = [write(spark, tmp_path, "customer_segments", frame)]
    plan = plan_of(tmp_path, outputs, DRIFT, series)
    plan["runId"] = run_id
    previous = checks.previous_entry(spark, plan["history"]["uri"], run_id, lambda m: None)
    results, profiles = checks.evaluate(spark, plan, {"customer_segments": len(frame)}, previous, lambda m: None)
    finished = f"2026-12-02T10:00:0{run_id[-1]}.000Z"
    manifest = {"runId": run_id, "job": {"name": "customer-segmentation", "version": 1}, "planSha256": "a" * 64, "finishedAt": finished,
                "outputs": {"customer_segments": {"rows": len(frame)}}, "metrics": {"segmentation": {"silhouette": 0.5, "k": 4}, "rows": [1]}}
    checks.write_entry(spark, plan, manifest, profiles, results)
    return by_name(results)


def test_two_runs_of_the_same_data_pass_and_a_planted_ten_point_shift_is_flagged(spark, tmp_path):
    base = {"high-value": 0.20, "loyal": 0.30, "potential": 0.30, "churning": 0.20}
    first = run_once(spark, tmp_path, segments(base), "r1")
    assert all(r["outcome"] == "ok" and "nothing to compare" in r["detail"] for r in first.values())

    same = run_once(spark, tmp_path, segments(base, seed=1), "r2")
    assert same["shares"]["outcome"] == "ok" and same["shares"]["value"] == 0 and same["shares"]["previousRunId"] == "r1"
    assert same["rows"]["outcome"] == "ok" and same["psi"]["outcome"] == "ok"

    shifted_shares = {"high-value": 0.10, "loyal": 0.40, "potential": 0.30, "churning": 0.20}
    shifted_frame = segments(shifted_shares, seed=2)
    shifted = run_once(spark, tmp_path, shifted_frame, "r3")
    before = segments(base, seed=1)["segment"].value_counts(normalize=True)
    after = shifted_frame["segment"].value_counts(normalize=True)
    move = (after - before).abs().max()
    assert math.isclose(move, 0.10)
    assert shifted["shares"]["outcome"] == "error" and math.isclose(shifted["shares"]["value"], move)
    assert "since run r2" in shifted["shares"]["detail"] and "points" in shifted["shares"]["detail"]

    # the history holds one entry per run, newest last by name, each with its profile and results
    entries = sorted((tmp_path / "history").glob("*.json"))
    assert [json.loads(p.read_text())["runId"] for p in entries] == ["r1", "r2", "r3"]
    last = json.loads(entries[-1].read_text())
    assert last["profiles"]["shares"]["counts"] == {k: int(v) for k, v in shifted_frame["segment"].value_counts().items()}
    assert last["metrics"] == {"segmentation.silhouette": 0.5, "segmentation.k": 4}


def test_psi_matches_an_independent_computation_and_drives_warn_and_error(spark, tmp_path):
    rng = np.random.default_rng(7)
    old = pd.DataFrame({"customer_id": [f"c{i}" for i in range(2000)], "segment": "a", "p": rng.beta(2, 5, 2000)})
    new = pd.DataFrame({"customer_id": [f"c{i}" for i in range(1500)], "segment": "a", "p": rng.beta(3, 3, 1500)})
    run_once(spark, tmp_path, old, "r1", series="psi")
    r = run_once(spark, tmp_path, new, "r2", series="psi")
    edges = np.linspace(0, 1, 11)
    p = np.maximum(np.histogram(old["p"], edges)[0] / len(old), 1e-4)
    q = np.maximum(np.histogram(new["p"], edges)[0] / len(new), 1e-4)
    expected = float(np.sum((q - p) * np.log(q / p)))
    assert math.isclose(r["psi"]["value"], expected, rel_tol=1e-9)
    assert r["psi"]["outcome"] == ("error" if expected >= 0.25 else "warn" if expected >= 0.1 else "ok")
    assert expected >= 0.1
    # 25% fewer rows: past the warn threshold of a warn-only gate
    assert r["rows"]["outcome"] == "warn" and math.isclose(r["rows"]["value"], 0.25)


def test_a_broken_entry_is_passed_over_and_an_empty_series_has_no_baseline(spark, tmp_path):
    run_once(spark, tmp_path, segments({"a": 0.5, "b": 0.5}), "r1", series="one")
    (tmp_path / "history").mkdir(exist_ok=True)
    (tmp_path / "history" / "29991231T000000000Z_rX.json").write_text("{ half")
    previous = checks.previous_entry(spark, str(tmp_path / "history"), "r2", lambda m: None)
    assert previous["runId"] == "r1"
    assert checks.previous_entry(spark, str(tmp_path / "other"), "r2", lambda m: None) is None
    # the entry of the run itself is never its own baseline
    assert checks.previous_entry(spark, str(tmp_path / "history"), "r1", lambda m: None) is None


@pytest.mark.parametrize("value,outcome", [(0.0999999999, "error"), (0.0999, "warn"), (0.04, "ok"), (0.5, "error")])
def test_a_threshold_is_reached_when_equal_up_to_rounding(value, outcome):
    assert checks.outcome_of(value, 0.05, 0.10, "error") == outcome
    assert checks.outcome_of(0.5, 0.05, 0.10, "warn") == "warn"
