"""A/B test stage: per group, treatment against control response rates, lift with a confidence
interval and a two-proportion test. The input holds one row of counts per group (a few rows)."""
from .errors import INVALID_INPUT, RunnerError
from .metrics import two_proportion_test

COLUMNS = ("treatment_rate double, control_rate double, lift double, relative_lift double, ci_low double, "
           "ci_high double, z double, p_value double, significant boolean, note string")


def run(spark, stage, log, ctx=None):  # noqa: ARG001 - saves no model
    config = stage["config"]
    t, c, keys = config["treatment"], config["control"], config["keys"]
    source = spark.table(stage["input"])
    missing = [col for col in [*keys, t["rows"], t["positives"], c["rows"], c["positives"]] if col not in source.columns]
    if missing:
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {stage['input']} has no column {missing[0]!r}",
                          where=stage["input"], fix="name the count columns of the SQL stage as the configuration does")
    rows = source.collect()
    if len(rows) > 10_000:
        raise RunnerError(INVALID_INPUT, f"stage {stage['name']}: {len(rows)} groups in {stage['input']}; an A/B test stage takes one row of counts per test",
                          where=stage["input"], fix="aggregate to one row per test in the SQL stage")
    out, significant = [], 0
    for r in rows:
        result = two_proportion_test(r[t["rows"]], r[t["positives"]], r[c["rows"]], r[c["positives"]], config["confidence"])
        result["significant"] = result["p_value"] is not None and result["p_value"] < 1 - config["confidence"]
        significant += result["significant"]
        out.append({**{k: r[k] for k in keys}, "treatment_rows": r[t["rows"]], "control_rows": r[c["rows"]], **result})
        log(f"{stage['name']}: {', '.join(str(r[k]) for k in keys)}: lift {result['lift']} [{result['ci_low']}, {result['ci_high']}] p={result['p_value']}")
    key_types = ", ".join(f"{k} string" for k in keys)
    df = spark.createDataFrame(out, f"{key_types}, treatment_rows bigint, control_rows bigint, {COLUMNS}")
    df.createOrReplaceTempView(config["outputs"]["tests"])
    return {"tests": len(out), "significant": significant, "confidence": config["confidence"]}
