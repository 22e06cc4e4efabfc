"""Gates evaluated in Spark where the data is, over the outputs as written: unique keys,
references, accepted values, reconciliation of two totals, and drift against the previous
complete run of the job in the same series (its history entry).

Each gate gives one result for the manifest; a gate that fails writes a sample of the failing
rows beside the manifest (<run>/_checks/<gate>.json) and names it. The comparisons themselves
(share moves, population stability index, thresholds) are pure functions below."""
import datetime as dt
import decimal
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor

from . import storage

SAMPLE_ROWS = 20
PARALLEL_GATES = 4
MAX_CATEGORIES = 1000
KINDS = ("unique", "references", "accepted", "reconcile", "drift")
# A move equal to a threshold reaches it, whatever the float rounding of a difference of shares.
EPSILON = 1e-9


def kind_of(check):
    return next((k for k in KINDS if k in check), None)


# ---------------------------------------------------------------- pure comparisons

def shares(counts):
    total = sum(counts.values())
    return {k: (v / total if total else 0.0) for k, v in counts.items()}


def largest_share_move(previous, current):
    """(category, previous share, current share) of the category whose share moved most."""
    p, c = shares(previous), shares(current)
    best = None
    for key in sorted(set(p) | set(c)):
        move = abs(c.get(key, 0.0) - p.get(key, 0.0))
        if best is None or move > best[0]:
            best = (move, key, p.get(key, 0.0), c.get(key, 0.0))
    return best[1:] if best else (None, 0.0, 0.0)


def psi(previous_bins, current_bins, floor=1e-4):
    """Population stability index: sum over bins of (c - p) ln(c / p), shares floored so an empty bin counts."""
    p_total, c_total = sum(previous_bins), sum(current_bins)
    if not p_total or not c_total:
        return 0.0
    value = 0.0
    for pb, cb in zip(previous_bins, current_bins):
        p, c = max(pb / p_total, floor), max(cb / c_total, floor)
        value += (c - p) * math.log(c / p)
    return value


def outcome_of(value, warn, error, severity):
    """ok, warn or error for a measured change against the gate's thresholds (reached when equal)."""
    if error is not None and value >= error - EPSILON:
        return "warn" if severity == "warn" else "error"
    if warn is not None and value >= warn - EPSILON:
        return "warn"
    return "ok"


def drift_value(spec, previous, current):
    """(value, detail) of a drift gate from two profiles of the same kind."""
    if "rows" in spec:
        p, c = previous["rows"], current["rows"]
        value = abs(c - p) / max(p, 1)
        return value, f"{spec['rows']} has {c} rows, {p} in the previous run ({(c - p) / max(p, 1):+.1%})"
    if "shares" in spec:
        key, p, c = largest_share_move(previous["counts"], current["counts"])
        value = abs(c - p)
        what = f"{spec['shares']['output']}.{spec['shares']['column']}"
        if key is None:
            return 0.0, f"{what} has no rows in either run"
        return value, f"the share of {key} in {what} moved from {p:.1%} to {c:.1%} ({(c - p) * 100:+.1f} points), the largest move"
    value = psi(previous["bins"], current["bins"])
    return value, f"population stability index of {spec['psi']['output']}.{spec['psi']['column']} is {value:.4f}"


# ---------------------------------------------------------------- Spark

def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "asDict"):
        return {k: _plain(v) for k, v in value.asDict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _sample(spark, run_uri, name, failing, rows):
    uri = f"{run_uri}/_checks/{name}.json"
    storage.write_text_atomically(spark, uri, json.dumps({"check": name, "failing": failing, "rows": [_plain(r) for r in rows]},
                                                         indent=2, allow_nan=False, default=str))
    return uri


def _data_gate(spark, check, kind):
    """(failing, detail, sample rows) of a unique, references or accepted gate."""
    from pyspark.sql import functions as F

    spec = check[kind]
    out = spec["output"]
    if kind == "unique":
        cols = spec["columns"]
        dups = spark.table(out).groupBy(*cols).count().where(F.col("count") > 1)
        n = dups.count()
        key = f"({', '.join(cols)})"
        if not n:
            return 0, f"every {key} of {out} is on one row", []
        return n, f"{n} value(s) of {key} in {out} are on more than one row", dups.orderBy(F.desc("count"), *cols).limit(SAMPLE_ROWS).collect()
    if kind == "references":
        cols, to_cols = spec["columns"], spec.get("toColumns") or spec["columns"]
        left = spark.table(out)
        for c in cols:
            left = left.where(F.col(c).isNotNull())
        if not spark.catalog.tableExists(spec["to"]):
            return 0, f"{spec['to']} is absent in this run (an optional input): not checked", []
        right = spark.table(spec["to"]).select(*[F.col(t).alias(c) for t, c in zip(to_cols, cols)]).distinct()
        missing = left.join(right, on=cols, how="left_anti")
        n = missing.count()
        what, target = f"({', '.join(cols)}) of {out}", f"{spec['to']} ({', '.join(to_cols)})"
        if not n:
            return 0, f"every {what} is in {target}", []
        return n, f"{n} row(s) of {out} refer to {', '.join(cols)} not in {target}", missing.limit(SAMPLE_ROWS).collect()
    col = F.col(spec["column"])
    bad = spark.table(out).where(col.isNotNull() & ~col.isin(spec["values"]))
    n = bad.count()
    shown = ", ".join(map(str, spec["values"][:10])) + (", ..." if len(spec["values"]) > 10 else "")
    if not n:
        return 0, f"every {spec['column']} of {out} is one of {shown}", []
    return n, f"{n} row(s) of {out} have a {spec['column']} that is not one of {shown}", bad.limit(SAMPLE_ROWS).collect()


def _one_number(spark, sql, where):
    rows = spark.sql(sql).collect()
    if len(rows) != 1 or len(rows[0]) != 1:
        raise ValueError(f"{where}: the query must give one row of one column, not {len(rows)} row(s)")
    value = rows[0][0]
    return None if value is None else float(value)


def _reconcile(spark, check):
    spec = check["reconcile"]
    left, right = _one_number(spark, spec["left"]["sql"], "left"), _one_number(spark, spec["right"]["sql"], "right")
    if left is None or right is None:
        return False, None, f"left is {left}, right is {right}: a total over no rows"
    diff = abs(left - right)
    allowed = max(spec.get("tolerance", 1e-9) * max(abs(left), abs(right)), spec.get("absolute") or 0.0)
    ok = diff <= allowed
    return ok, diff, f"left {left:.6g} and right {right:.6g} differ by {diff:.6g} ({'within' if ok else 'more than'} the {allowed:.3g} allowed)"


def profile(spark, spec, rows_of):
    """What a drift gate measures on this run."""
    from pyspark.sql import functions as F

    if "rows" in spec:
        return {"rows": int(rows_of[spec["rows"]])}
    if "shares" in spec:
        s = spec["shares"]
        counts = spark.table(s["output"]).groupBy(s["column"]).count().limit(MAX_CATEGORIES + 1).collect()
        if len(counts) > MAX_CATEGORIES:
            raise ValueError(f"{s['output']}.{s['column']} has more than {MAX_CATEGORIES} values: a share drift needs a categorical column")
        return {"counts": {("null" if r[0] is None else str(r[0])): int(r[1]) for r in counts}}
    p = spec["psi"]
    lo, hi = p["range"]
    bins = p["bins"]
    width = (hi - lo) / bins
    index = F.least(F.greatest(F.floor((F.col(p["column"]).cast("double") - F.lit(lo)) / F.lit(width)), F.lit(0)), F.lit(bins - 1)).cast("int")
    counted = {r[0]: int(r[1]) for r in spark.table(p["output"]).where(F.col(p["column"]).isNotNull()).groupBy(index.alias("bin")).count().collect()}
    return {"bins": [counted.get(i, 0) for i in range(bins)], "range": [lo, hi]}


def evaluate(spark, plan, rows_of, previous, log):
    """Results of the plan's Spark gates (in order) and the drift profiles for the history.

    `rows_of` gives each output's row count; `previous` is the history entry of the previous
    complete run of the series, or None."""
    gates = [c for c in plan.get("checks", []) if kind_of(c)]
    if not gates:
        return [], {}
    run_uri = plan["runUri"].rstrip("/")
    storage.delete(spark, f"{run_uri}/_checks")
    # The gates read the outputs as written, not the stages again.
    for out in plan["outputs"]:
        spark.read.parquet(out["uri"]).createOrReplaceTempView(out["name"])
    profiles = {}

    def one(check):
        kind = kind_of(check)
        severity = check.get("severity", "error")
        result = {"name": check["name"], "kind": kind, "severity": severity}
        started = time.time()
        try:
            if kind in ("unique", "references", "accepted"):
                failing, detail, rows = _data_gate(spark, check, kind)
                result.update(outcome="ok" if failing == 0 else severity, detail=detail, failing=failing)
                if failing:
                    result["sample"] = _sample(spark, run_uri, check["name"], failing, rows)
                    result["detail"] += f"; a sample is in {result['sample']}"
            elif kind == "reconcile":
                ok, diff, detail = _reconcile(spark, check)
                result.update(outcome="ok" if ok else severity, detail=detail, value=diff)
            else:
                spec = check["drift"]
                current = profile(spark, spec, rows_of)
                profiles[check["name"]] = current
                before = (previous or {}).get("profiles", {}).get(check["name"])
                if before is None or set(before) != set(current) or before.get("range") != current.get("range"):
                    series = plan.get("history", {}).get("series", "default")
                    result.update(outcome="ok", detail=f"no previous run of series {series} measured this: nothing to compare with", value=None)
                else:
                    value, detail = drift_value(spec, before, current)
                    outcome = outcome_of(value, check.get("warn"), check.get("error"), severity)
                    limits = ", ".join(f"{k} at {check[k]:g}" for k in ("warn", "error") if check.get(k) is not None)
                    result.update(outcome=outcome, detail=f"{detail} since run {previous['runId']}" + (f" ({limits})" if limits else ""), value=value,
                                  previousRunId=previous["runId"])
        except Exception as e:  # noqa: BLE001 - a gate that cannot be evaluated fails as a gate, with the reason
            result.update(outcome=severity, detail=f"could not be evaluated: {str(e).splitlines()[0]}")
        log(f"check {check['name']} ({time.time() - started:.1f} s): {result['outcome']}: {result['detail']}")
        return result

    # Gates are small Spark jobs whose time is mostly scheduling: several at once keep the cores busy.
    # Results keep the plan's order.
    with ThreadPoolExecutor(max_workers=PARALLEL_GATES) as pool:
        results = list(pool.map(one, gates))
    return results, profiles


# ---------------------------------------------------------------- history

def history_uri(plan, series):
    """<root>/history/<job>/<series>, beside <root>/runs/<run id> (the plan's runUri)."""
    run_uri = plan["runUri"].rstrip("/")
    suffix = f"/runs/{plan['runId']}"
    root = run_uri[: -len(suffix)] if run_uri.endswith(suffix) else run_uri.rsplit("/", 2)[0]
    return f"{root}/history/{plan['job']['name']}/{series}"


def _entry_name(finished_at, run_id):
    stamp = finished_at.replace("-", "").replace(":", "").replace(".", "")
    return f"{stamp}_{run_id}.json"


def previous_entry(spark, history_uri, run_id, log, limit=20):
    """The newest history entry of another run, or None (entries that cannot be read are passed over)."""
    for name in sorted(storage.list_names(spark, history_uri), reverse=True)[:limit]:
        if not name.endswith(".json") or name[:-5].split("_", 1)[-1] == run_id:
            continue
        text = storage.read_text_if_exists(spark, f"{history_uri}/{name}")
        try:
            entry = json.loads(text or "")
        except ValueError:
            log(f"history entry {history_uri}/{name} is not JSON; passed over")
            continue
        if isinstance(entry, dict) and entry.get("runId") and isinstance(entry.get("profiles"), dict):
            return entry
    return None


def numeric_metrics(metrics, prefix=""):
    out = {}
    for key, value in (metrics or {}).items():
        path = f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and math.isfinite(value):
            out[path] = value
        elif isinstance(value, dict):
            out.update(numeric_metrics(value, f"{path}."))
    return out


def write_entry(spark, plan, manifest, profiles, results):
    history = plan.get("history")
    if not history:
        return None
    entry = {
        "runId": manifest["runId"],
        "job": manifest["job"],
        "series": history["series"],
        "planSha256": manifest["planSha256"],
        "finishedAt": manifest["finishedAt"],
        "rows": {name: out["rows"] for name, out in manifest["outputs"].items()},
        "profiles": profiles,
        "checks": results,
        "metrics": numeric_metrics(manifest.get("metrics")),
    }
    # One entry per run id: a run completed again after a failure replaces nothing (it had no entry).
    for name in storage.list_names(spark, history["uri"]):
        if name.endswith(f"_{manifest['runId']}.json"):
            storage.delete(spark, f"{history['uri']}/{name}")
    uri = f"{history['uri'].rstrip('/')}/{_entry_name(manifest['finishedAt'], manifest['runId'])}"
    storage.write_text_atomically(spark, uri, json.dumps(entry, indent=2, allow_nan=False))
    return uri
