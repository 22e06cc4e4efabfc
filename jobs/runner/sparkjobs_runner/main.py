"""Runs one plan: read inputs, run stages in order, write outputs, write the manifest last."""
import argparse
import datetime as dt
import hashlib
import json
import re
import pkgutil
import platform
import sys
import time
import traceback

from . import abtest, allocate, als, checks, classifier, fpgrowth, ingest, kmeans, pca, regressor, score, storage, uplift
from .errors import CONFLICT, INVALID_INPUT, INVALID_OUTPUT, INVALID_PLAN, JOB_FAILED, RunnerError, describe, out_of_space, raised_by_sql, report
from .jsonschema_lite import validate
from .tables import check_columns

MLLIB = {"kmeans": kmeans.run, "classifier": classifier.run, "score": score.run, "abtest": abtest.run, "uplift": uplift.run, "als": als.run, "allocate": allocate.run, "pca": pca.run,
         "regressor": regressor.run, "fpgrowth": fpgrowth.run}
METRICS_ROW_LIMIT = 1000
SERIES = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def log(message):
    sys.stderr.write(f"[runner] {message}\n")
    sys.stderr.flush()


# The progress lines of this application (progress.py), when it reports progress.
PROGRESS = None


def phase(name):
    if PROGRESS is not None:
        PROGRESS.phase(name)


def load_plan(spark, uri):
    text = storage.read_text(spark, uri)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        plan = json.loads(text)
    except ValueError as e:
        raise RunnerError(INVALID_PLAN, f"plan {uri} is not JSON: {e}", where=uri)
    schema = json.loads(pkgutil.get_data("sparkjobs_runner", "schemas/run-plan.schema.json"))
    problems = validate(plan, schema)
    if problems:
        details = "; ".join(f"{p}: {m}" for p, m in problems[:10])
        raise RunnerError(INVALID_PLAN, f"plan {uri} does not match run-plan.schema.json: {details}", where=uri,
                          fix="build plans with `sparkjobs plan`; the runner and the submitter must be the same version")
    return plan, digest


def bind(plan, names, aliases=None):
    """The values of the SQL parameters `names`; `aliases` binds a SQL name to another job parameter."""
    values = {}
    for name in names:
        p = plan["params"][(aliases or {}).get(name, name)]
        values[name] = dt.date.fromisoformat(p["value"]) if p["type"] == "date" else p["value"]
    return values


def now():
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jsonable(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "asDict"):
        return {k: _jsonable(v) for k, v in value.asDict().items()}
    if isinstance(value, float) and value != value:
        return None
    return value


def execute(spark, plan, digest):
    started_at, t0 = now(), time.time()
    tables = plan["tables"]
    metrics, stage_times = {}, []
    # What MLlib stages need from the run, and the models they save (name -> manifest entry).
    ctx = {"runUri": plan["runUri"].rstrip("/"), "params": plan["params"], "planModels": {m["name"]: m["uri"] for m in plan.get("models", [])}, "models": {},
           "tables": tables}

    for item in plan["inputs"]:
        try:
            df = spark.read.parquet(item["uri"])
        except Exception as e:  # AnalysisException: path missing, not Parquet, ...
            raise RunnerError(INVALID_INPUT, f"input {item['name']}: cannot read {item['uri']}: {str(e).splitlines()[0]}",
                              where=item["uri"], fix="check the path or the --param that sets it")
        df = check_columns(df, tables[item["table"]], f"input {item['name']} ({item['uri']})", INVALID_INPUT, exact=False, extra=item.get("extraColumns"))
        df.createOrReplaceTempView(item["name"])
    for item in plan.get("emptyInputs", []):
        # An optional input the run does without (no behaviour events): an empty table of its schema.
        spark.createDataFrame([], ingest.struct_type(tables[item["table"]])).createOrReplaceTempView(item["name"])

    for stage in plan["stages"]:
        t = time.time()
        log(f"stage {stage['name']} ({stage['kind']})")
        phase(f"stage {stage['name']}")
        if stage["kind"] == "sql":
            df = spark.sql(stage["sql"], args=bind(plan, stage["params"], stage.get("bind")))
            if stage["cache"]:
                df = df.cache()
            df.createOrReplaceTempView(stage["name"])
            if stage.get("metrics"):
                rows = df.limit(METRICS_ROW_LIMIT + 1).collect()
                if len(rows) > METRICS_ROW_LIMIT:
                    raise RunnerError(JOB_FAILED, f"stage {stage['name']} gives more than {METRICS_ROW_LIMIT} metric rows",
                                      where=stage["file"], fix="aggregate further: metrics are for small summaries")
                metrics[stage["metrics"]] = [_jsonable(r) for r in rows]
        elif stage["kind"] == "ingest":
            metrics[stage["name"]] = ingest.run(spark, stage, log, ctx)
        else:
            metrics[stage["name"]] = MLLIB[stage["config"]["algorithm"]](spark, stage, log, ctx)
        stage_times.append({"name": stage["name"], "kind": stage["kind"], "ms": int((time.time() - t) * 1000)})

    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    outputs = {}
    for out in plan["outputs"]:
        t = time.time()
        phase(f"write {out['name']}")
        df = check_columns(spark.table(out["view"]), tables[out["table"]], f"output {out['name']}", INVALID_OUTPUT, exact=True, extra=out.get("extraColumns"))
        if out.get("files"):
            df = df.coalesce(out["files"])
        observation = Observation(f"rows_{out['name']}")
        try:
            df.observe(observation, F.count(F.lit(1)).alias("rows")).write.mode("overwrite").parquet(out["uri"])
        except Exception as e:  # noqa: BLE001 - Spark is lazy: a stage's SQL fails here, when its output is written
            rejected = raised_by_sql(e) or out_of_space(e, out["uri"])
            if rejected:
                raise rejected from e
            raise RunnerError(JOB_FAILED, f"writing output {out['name']} (from {out['view']}) failed: {describe(e)}",
                              where=out["uri"], fix="the SQL or MLlib stage behind this output failed; see the driver log")
        outputs[out["name"]] = {
            "uri": out["uri"],
            "table": out["table"],
            "rows": int(observation.get["rows"]),
            "files": storage.list_data_files(spark, out["uri"]),
            "columns": [{"name": f.name, "type": f.dataType.simpleString(), "nullable": f.nullable} for f in df.schema.fields],
            **({"extraColumns": out["extraColumns"]} if out.get("extraColumns") else {}),
        }
        stage_times.append({"name": f"write {out['name']}", "kind": "write", "ms": int((time.time() - t) * 1000)})
        log(f"wrote {out['name']}: {outputs[out['name']]['rows']} rows")

    history = plan.get("history")
    previous = None
    if history and any("drift" in c for c in plan.get("checks", [])):
        previous = checks.previous_entry(spark, history["uri"].rstrip("/"), plan["runId"], log)
    t = time.time()
    phase("checks")
    results, profiles = checks.evaluate(spark, plan, {name: o["rows"] for name, o in outputs.items()}, previous, log)
    if results:
        stage_times.append({"name": "checks", "kind": "checks", "ms": int((time.time() - t) * 1000)})

    return {
        "manifestVersion": 1,
        "runId": plan["runId"],
        "job": {"name": plan["job"]["name"], "version": plan["job"]["version"]},
        "planSha256": digest,
        "status": "succeeded",
        "engine": {"sparkVersion": spark.version, "master": spark.sparkContext.master,
                   "applicationId": spark.sparkContext.applicationId,
                   "python": {"version": platform.python_version(), "executable": sys.executable}},
        "startedAt": started_at,
        "finishedAt": now(),
        "durationMs": int((time.time() - t0) * 1000),
        "outputs": outputs,
        "metrics": metrics,
        **({"models": ctx["models"]} if ctx["models"] else {}),
        "stages": stage_times,
        **({"checks": results} if results else {}),
    }, profiles


def already_complete(spark, plan, digest, manifest_uri):
    """True when the run is complete with this very plan: a duplicate submit (an EMR step added
    twice, a retried task) runs nothing and leaves the finished run as it is. A run complete with
    another plan is a conflict; it is never run over."""
    text = storage.read_text_if_exists(spark, manifest_uri)
    if text is None:
        return False
    try:
        previous = json.loads(text)
    except ValueError:
        return False  # not a manifest a run wrote: the run is not complete, run it
    if not isinstance(previous, dict) or previous.get("status") != "succeeded":
        return False
    if previous.get("planSha256") == digest:
        log(f"run {plan['runId']} is already complete with this plan ({manifest_uri}): this submit runs nothing")
        return True
    raise RunnerError(CONFLICT, f"run {plan['runId']} already completed with another plan (sha256 {previous.get('planSha256')}, this one {digest}): it is not run over",
                      where=manifest_uri, fix="a run id always means one plan: submit this plan under a new run id")


def run_plan(spark, plan_uri, series):
    """Runs one plan in this SparkSession: (exit code, the reported error or None). Never stops Spark."""
    plan = None
    try:
        plan, digest = load_plan(spark, plan_uri)
        plan["history"] = {"uri": checks.history_uri(plan, series), "series": series}
        spark.sparkContext.setJobGroup(plan["runId"], f"sparkjobs {plan['job']['name']} {plan['runId']}")
        if PROGRESS is not None:
            PROGRESS.reset(plan["runId"])
        manifest_uri = plan["runUri"].rstrip("/") + "/_manifest.json"
        if already_complete(spark, plan, digest, manifest_uri):
            return 0, None
        # A rerun starts by removing any manifest, so a crash halfway can never look complete.
        storage.delete(spark, manifest_uri)
        manifest, profiles = execute(spark, plan, digest)
        storage.write_text_atomically(spark, manifest_uri, json.dumps(manifest, indent=2, allow_nan=False))
        log(f"run {plan['runId']} succeeded; manifest {manifest_uri}")
        try:
            entry = checks.write_entry(spark, plan, manifest, profiles, manifest.get("checks", []))
            if entry:
                log(f"history entry {entry}")
        except Exception as e:  # noqa: BLE001 - the run is complete; a missing entry only leaves the next drift gate without a baseline
            log(f"warning: the history entry of run {plan['runId']} was not written: {describe(e)}")
        return 0, None
    except RunnerError as e:
        report(e)
        return e.exit_code, e.as_json()
    except Exception as e:  # noqa: BLE001 - the one place that turns a crash into a reported failure
        rejected = raised_by_sql(e) or out_of_space(e, plan["runUri"] if plan else plan_uri)
        if rejected:
            report(rejected)
            return rejected.exit_code, rejected.as_json()
        traceback.print_exc()
        error = RunnerError(JOB_FAILED, describe(e))
        report(error)
        return JOB_FAILED, error.as_json()


def _with_plan_conf(spark, plan_uri):
    """The plan's Spark SQL settings (spark.sql.*, which a running session can change), set for its
    run; returns how to put the session's back. Other settings are the application's, fixed at its
    start: the submitter sends a plan here only when they are the same."""
    try:
        conf = json.loads(storage.read_text(spark, plan_uri)).get("sparkConf", {})
    except Exception:  # noqa: BLE001 - an unreadable plan is reported by run_plan
        conf = {}
    before = {}
    for key, value in conf.items():
        if key.startswith("spark.sql.") and spark.conf.isModifiable(key):
            before[key] = spark.conf.get(key, None)
            spark.conf.set(key, value)

    def restore():
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
    return restore


def _forget_views(spark):
    """What one plan left in the session (its views and cached tables) is not seen by the next."""
    spark.catalog.clearCache()
    for table in spark.catalog.listTables():
        if table.isTemporary:
            spark.catalog.dropTempView(table.name)


def serve(spark, session_uri, idle_seconds):
    """One Spark application for many plans (a pipeline's steps): runs <session>/<n>.request.json
    in order (a plan URI and a series), writing <session>/<n>.result.json (exit code, error) after
    each, until <session>/end appears or no request comes for idle_seconds."""
    session = session_uri.rstrip("/")
    remote = "://" in session and not session.startswith("file:")
    n, idle_since, delay = 1, time.time(), 0.05
    log(f"session {session}: waiting for plans")
    while True:
        text = storage.read_text_if_exists(spark, f"{session}/{n}.request.json")
        if text is not None:
            request = json.loads(text)
            restore = _with_plan_conf(spark, request["plan"])
            try:
                code, error = run_plan(spark, request["plan"], request.get("series", "default"))
            finally:
                restore()
                _forget_views(spark)
            storage.write_text_atomically(spark, f"{session}/{n}.result.json", json.dumps({"exitCode": code, "error": error}))
            n, idle_since, delay = n + 1, time.time(), 0.05
            continue
        if storage.read_text_if_exists(spark, f"{session}/end") is not None:
            log(f"session {session}: ended after {n - 1} plan(s)")
            return 0
        if time.time() - idle_since > idle_seconds:
            log(f"session {session}: no plan for {idle_seconds} s; ending")
            return 0
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0 if remote else 0.25)


def main(argv):
    parser = argparse.ArgumentParser(prog="runner.py")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--plan", help="URI of the RunPlan JSON")
    which.add_argument("--session", help="URI of a folder of plan requests: run them in one application (a pipeline's steps)")
    parser.add_argument("--series", default="default", help="history series: drift gates compare with its previous complete run")
    parser.add_argument("--idle-seconds", type=int, default=900, help="with --session: end after this long without a request")
    parser.add_argument("--progress-seconds", type=float, default=0, help="a [progress] line on stderr this often while Spark works (0, the default: none; the local and standalone targets, whose stderr the submitter reads as it comes, ask for it)")
    args = parser.parse_args(argv)
    if not SERIES.match(args.series):
        parser.error(f"--series {args.series!r} is not 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit")

    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("sparkjobs").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    global PROGRESS
    if args.progress_seconds > 0:
        from .progress import Progress

        PROGRESS = Progress(spark, every=args.progress_seconds).start()
    try:
        if args.session:
            return serve(spark, args.session, args.idle_seconds)
        return run_plan(spark, args.plan, args.series)[0]
    finally:
        if PROGRESS is not None:
            PROGRESS.stop()
        spark.stop()
