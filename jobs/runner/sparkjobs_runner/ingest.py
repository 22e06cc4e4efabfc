"""Ingest: a team's tables mapped onto the canonical tables, every row checked, rejects quarantined.

For each table the source has: read it (files in any format Spark reads, or a catalog table), turn
the listed null texts into nulls, keep the rows the filter keeps, evaluate each canonical column's
expression in the source's time zone (so naive timestamps and text are read as local time and stored
as instants), cast it to the canonical type, and give each row the first rule it breaks:

  malformed      a CSV line with too few or too many fields, a JSON line that does not parse
  cast_failed    the expression gave a value that does not cast, or gave none though its source
                 columns had values (a parse that failed), in a column the table requires
  missing_value  null in a column the canonical table requires
  not_allowed    a value outside the column's allowed values or range
  duplicate_key  a key seen before (of the copies, the first in a fixed order is kept)

Accepted rows become the canonical table's view, rejected rows the `quarantine` view. The counts
per table and rule go into the manifest; a table with more rejected rows than the plan allows
stops the run (exit 14) after its quarantine is written, so the rejects can be looked at.
"""
import datetime as dt
import re

from pyspark.sql import Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from .errors import INVALID_INPUT, REJECTED, RunnerError, describe

CORRUPT = "_sparkjobs_corrupt"
FILE = "_sparkjobs_file"
KEEP = "_sparkjobs_keep"
RULE = "_sparkjobs_rule"
RULE_COLUMN = "_sparkjobs_column"
RULE_VALUE = "_sparkjobs_value"
SOURCE_ROW = "_sparkjobs_row"

# Keys a table numbers itself when the source has none.
GENERATED = {"transactions": "line_no", "events": "event_id", "campaigns": "exposure_id"}
# The time column of each table, whose first and last day the manifest records.
TIME_COLUMN = {"transactions": "order_ts", "events": "event_ts", "campaigns": "exposed_ts"}
SPARK_TYPES = {
    "string": T.StringType(), "int": T.IntegerType(), "bigint": T.LongType(), "double": T.DoubleType(),
    "boolean": T.BooleanType(), "date": T.DateType(), "timestamp": T.TimestampType(), "timestamp_ntz": T.TimestampNTZType(),
}


def quoted(name):
    return "`" + name.replace("`", "``") + "`"


def columns_of(schema):
    """(name, sparkType, nullable, property) of each column of a table's JSON Schema, in order."""
    out = []
    for name, prop in schema["properties"].items():
        if "anyOf" in prop:
            inner = [p for p in prop["anyOf"] if p.get("type") != "null"][0]
            out.append((name, inner["sparkType"], True, inner))
        else:
            out.append((name, prop["sparkType"], False, prop))
    return out


def struct_type(schema):
    return T.StructType([T.StructField(n, SPARK_TYPES[t], nullable) for n, t, nullable, _ in columns_of(schema)])


def _first_line(error):
    text = describe(error)
    # AnalysisException texts end with the plan that failed: the first sentence is what matters.
    return text.split("; line ")[0].split(";\n")[0].strip()


def read_source(spark, name, spec, where):
    """The source table as Spark reads it, with the file each row came from and, for CSV and
    JSON, the text of a malformed line."""
    fmt = spec["format"]
    shown = spec.get("table") or ", ".join(spec["paths"])
    try:
        if spec.get("table"):
            df = spark.table(spec["table"])
        elif fmt == "csv":
            o = spec["csv"]
            options = {"header": str(o["header"]).lower(), "sep": o["delimiter"], "quote": o["quote"], "escape": o["escape"],
                       "encoding": o["encoding"], "multiLine": str(o["multiLine"]).lower(), "mode": "PERMISSIVE",
                       "columnNameOfCorruptRecord": CORRUPT}
            if o.get("comment"):
                options["comment"] = o["comment"]
            # Every column as text (the source definition's expressions do the parsing), plus the
            # column that receives a line whose number of fields differs from the header's.
            names = spark.read.options(**options).csv(spec["paths"]).columns
            schema = T.StructType([T.StructField(c, T.StringType()) for c in names] + [T.StructField(CORRUPT, T.StringType())])
            df = spark.read.options(**options).schema(schema).csv(spec["paths"])
        elif fmt == "json":
            df = spark.read.options(mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT).json(spec["paths"])
        else:
            df = spark.read.format(fmt).load(spec["paths"])
        df.schema  # noqa: B018 - resolve now, so a missing table or unreadable file is reported here
    except Exception as e:  # noqa: BLE001 - AnalysisException and Py4J errors alike
        text = _first_line(e)
        if spec.get("table") and ("TABLE_OR_VIEW_NOT_FOUND" in text or "not found" in text.lower()):
            raise RunnerError(INVALID_INPUT, f"tables.{name}: the catalog table {spec['table']} does not exist ({text})", where=where,
                              fix="check the name (db.table) and that the engine's catalog (Hive metastore, AWS Glue) holds it")
        raise RunnerError(INVALID_INPUT, f"tables.{name}: cannot read {shown} as {fmt}: {text}", where=where,
                          fix=f"check the path and the format (format: {fmt}); for CSV, the csv: options")
    return df.withColumn(FILE, F.input_file_name())


def references(df, column):
    """The names of the source columns an expression reads (from Spark's analysed plan)."""
    plan = df.select(column)._jdf.queryExecution().analyzed()
    it = plan.references().iterator()
    names = []
    while it.hasNext():
        names.append(it.next().name())
    return names


def _allowed(typed, prop):
    """The condition a non-null typed value must meet: the column's allowed values and range
    (bounds that only restate an int's range are left out)."""
    conds = []
    if "enum" in prop and prop.get("sparkType") == "string":
        conds.append(typed.isin(prop["enum"]))
    low, high = prop.get("minimum"), prop.get("maximum")
    if low is not None and not (prop.get("sparkType") == "int" and low <= -2**31):
        conds.append(typed >= F.lit(low))
    if high is not None and not (prop.get("sparkType") == "int" and high >= 2**31 - 1):
        conds.append(typed <= F.lit(high))
    if "pattern" in prop and prop.get("sparkType") == "string":
        conds.append(typed.rlike(prop["pattern"]))
    if not conds:
        return None
    cond = conds[0]
    for c in conds[1:]:
        cond = cond & c
    return cond


def _generated(name, column, typed_cols):
    """Expression of a key the table numbers itself."""
    others = [typed_cols[c].alias(c) for c in typed_cols if c != column]
    if name == "transactions":
        order = [typed_cols[c].asc_nulls_first() for c in typed_cols if c not in ("order_id", column)]
        return F.row_number().over(Window.partitionBy(typed_cols["order_id"]).orderBy(*order)).cast("int")
    if name == "events":
        return F.substring(F.sha2(F.to_json(F.struct(*others)), 256), 1, 24)
    return F.concat_ws(":", typed_cols["campaign_id"], typed_cols["customer_id"])


def map_table(spark, name, spec, schema, where, sample, problems):
    """The flagged rows of one table: typed canonical columns, the first rule broken, and what the
    quarantine needs. Problems with the definition itself are appended to `problems`."""
    try:
        src = read_source(spark, name, spec, where)
    except RunnerError as e:
        problems.append({"file": where, "path": f"tables.{name}", "message": e.message.split(": ", 1)[1] + f"; fix: {e.fix}"})
        return None
    if sample:
        src = src.limit(sample)
    source_cols = [c for c in src.columns if c not in (CORRUPT, FILE)]
    at = f"tables.{name}"
    if spec["nullValues"]:
        strings = {f.name for f in src.schema.fields if isinstance(f.dataType, T.StringType)}
        src = src.select(*[F.when(F.col(quoted(c)).isin(spec["nullValues"]), F.lit(None)).otherwise(F.col(quoted(c))).alias(c)
                           if c in strings and c not in (CORRUPT, FILE) else F.col(quoted(c)) for c in src.columns])

    def compile_expr(text, path):
        try:
            column = F.expr(text)
            src.select(column).schema  # noqa: B018 - analyse now
            return column
        except Exception as e:  # noqa: BLE001
            reason = _first_line(e)
            missing = re.search(r"UNRESOLVED_COLUMN.*?name `((?:[^`]|``)*)`", reason)
            if missing:
                message = f"{text!r} reads a column the source does not have: {missing.group(1)} (the source's columns: {', '.join(source_cols)})"
            else:
                message = f"{text!r} does not compile: {reason} (the source's columns: {', '.join(source_cols)})"
            problems.append({"file": where, "path": path, "message": message})
            return None

    keep = F.lit(True)
    if spec.get("filter"):
        compiled = compile_expr(spec["filter"], f"{at}.filter")
        keep = F.coalesce(compiled, F.lit(False)) if compiled is not None else keep

    # The canonical columns, then the features a source declares for its customers (numbers and text).
    features = spec.get("features") or {"numeric": {}, "categorical": {}}
    columns = columns_of(schema) + [(n, "double", True, {}) for n in features["numeric"]] + [(n, "string", True, {}) for n in features["categorical"]]
    expressions = {**spec["columns"], **features["numeric"], **features["categorical"]}
    generated = GENERATED.get(name)
    raw, typed, refs_present, info = {}, {}, {}, {}
    for column, spark_type, nullable, prop in columns:
        text = expressions.get(column)
        if text is None and column in source_cols:
            text = quoted(column)
        if text is None:
            if column == generated:
                continue
            if not nullable:
                problems.append({"file": where, "path": f"{at}.columns.{column}",
                                 "message": f"the canonical column {column} is required and has no expression, and the source has no column named {column} "
                                            f"(the source's columns: {', '.join(source_cols)}); add {column}: <a Spark SQL expression over them>"})
                continue
            raw[column] = F.lit(None).cast(SPARK_TYPES[spark_type])
            typed[column] = raw[column]
            info[column] = (None, nullable, prop, [])
            continue
        compiled = compile_expr(text, f"{at}.columns.{column}")
        if compiled is None:
            continue
        try:
            src.select(compiled.cast(SPARK_TYPES[spark_type])).schema  # noqa: B018 - a cast Spark refuses (boolean to date, ...)
        except Exception as e:  # noqa: BLE001
            problems.append({"file": where, "path": f"{at}.columns.{column}", "message": f"{text!r} cannot become {spark_type}: {_first_line(e)}"})
            continue
        raw[column] = compiled
        typed[column] = compiled.cast(SPARK_TYPES[spark_type])
        refs = [r for r in references(src, compiled) if r not in (CORRUPT, FILE)]
        info[column] = (text, nullable, prop, refs)
        refs_present[column] = F.lit(bool(refs))
        for r in refs:
            refs_present[column] = refs_present[column] & F.col(quoted(r)).isNotNull()
    if any(p["path"].startswith(at) for p in problems):
        return None

    # Evaluated in the source's time zone: the analysed plan keeps it, whatever the session's is later.
    mapped = src.select(
        *[F.col(quoted(c)) for c in source_cols], F.col(FILE),
        (F.col(CORRUPT) if CORRUPT in src.columns else F.lit(None).cast("string")).alias(CORRUPT),
        keep.alias(KEEP),
        *[raw[c].cast("string").alias(f"_raw_{c}") for c in raw],
        *[typed[c].alias(f"_typed_{c}") for c in typed],
        *[refs_present[c].alias(f"_refs_{c}") for c in refs_present],
    )
    typed_cols = {c: F.col(f"_typed_{c}") for c in typed}
    if generated and generated not in typed_cols and any(c == generated for c, *_ in columns):
        mapped = mapped.withColumn(f"_typed_{generated}", _generated(name, generated, typed_cols))
        typed_cols[generated] = F.col(f"_typed_{generated}")
        info[generated] = (None, False, {}, [])
        typed_cols = {c: typed_cols[c] for c, *_ in columns}

    # The first rule each row breaks, with the column and the value that broke it.
    checks = [(F.col(CORRUPT).isNotNull(), "malformed", None, F.lit(None).cast("string"))]
    for column, _, nullable, prop in columns:
        if column not in info:
            continue
        text, _, _, refs = info[column]
        t = typed_cols[column]
        r = F.col(f"_raw_{column}") if f"_raw_{column}" in mapped.columns else F.lit(None).cast("string")
        failed = t.isNull() & r.isNotNull()
        shown = r
        if not nullable and refs:
            failed = failed | (t.isNull() & F.col(f"_refs_{column}"))
            # The expression gave nothing: show what it read.
            shown = F.coalesce(r, F.to_json(F.struct(*[F.col(quoted(c)) for c in refs])))
        checks.append((failed, "cast_failed", column, shown))
        if not nullable:
            checks.append((t.isNull(), "missing_value", column, r))
        allowed = _allowed(t, prop)
        if allowed is not None:
            checks.append((t.isNotNull() & ~allowed, "not_allowed", column, r))
    rule = column_name = value = None
    for cond, rule_name, column, v in reversed(checks):
        rule = F.when(cond, F.lit(rule_name)).otherwise(rule if rule is not None else F.lit(None).cast("string"))
        column_name = F.when(cond, F.lit(column).cast("string")).otherwise(column_name if column_name is not None else F.lit(None).cast("string"))
        value = F.when(cond, v).otherwise(value if value is not None else F.lit(None).cast("string"))
    flagged = mapped.withColumn(RULE, rule).withColumn(RULE_COLUMN, column_name).withColumn(RULE_VALUE, value)

    key = schema.get("primaryKey") or []
    if key:
        valid_first = F.when(F.col(RULE).isNull() & F.col(KEEP), 0).otherwise(1)
        order = [valid_first] + [typed_cols[c].asc_nulls_first() for c in typed_cols if c not in key]
        copy_no = F.row_number().over(Window.partitionBy(*[typed_cols[c] for c in key]).orderBy(*order))
        dup = F.col(RULE).isNull() & F.col(KEEP) & (copy_no > 1)
        flagged = (flagged.withColumn("_copy", dup)
                   .withColumn(RULE, F.when(F.col("_copy"), F.lit("duplicate_key")).otherwise(F.col(RULE)))
                   .withColumn(RULE_COLUMN, F.when(F.col("_copy"), F.lit(",".join(key))).otherwise(F.col(RULE_COLUMN)))
                   .withColumn(RULE_VALUE, F.when(F.col("_copy"), F.to_json(F.struct(*[typed_cols[c].alias(c) for c in key]))).otherwise(F.col(RULE_VALUE))))
    row_json = F.to_json(F.struct(*[F.col(quoted(c)) for c in source_cols]))
    flagged = flagged.select(
        *[typed_cols[c].alias(c) for c, *_ in columns], F.col(KEEP), F.col(RULE), F.col(RULE_COLUMN), F.col(RULE_VALUE),
        F.when(F.col(RULE).isNotNull(), F.col(FILE)).alias(FILE),
        F.when(F.col(RULE).isNotNull(), F.col(CORRUPT)).alias(CORRUPT),
        F.when(F.col(RULE).isNotNull() & F.col(KEEP), row_json).alias(SOURCE_ROW),
        *[F.col(f"_refs_{c}") for c in refs_present],
    )
    return flagged, info


def _counts(flagged, name, info, columns, where, problems, sample):
    """One pass over the flagged rows: counts per rule, each column's values, the time span."""
    time_col = TIME_COLUMN.get(name)
    accepted = F.col(KEEP) & F.col(RULE).isNull()
    aggs = [F.count(F.lit(1)).alias("read"), F.count_if(~F.col(KEEP)).alias("filtered"), F.count_if(accepted).alias("accepted")]
    checked = [c for c in info if info[c][3]]
    for c in checked:
        aggs.append(F.count_if(F.col(KEEP) & F.col(f"_refs_{c}")).alias(f"refs_{c}"))
        aggs.append(F.count_if(F.col(KEEP) & F.col(c).isNotNull()).alias(f"values_{c}"))
    if time_col:
        aggs.append(F.min(F.when(accepted, F.col(time_col))).alias("first"))
        aggs.append(F.max(F.when(accepted, F.col(time_col))).alias("last"))
    totals = flagged.agg(*aggs).collect()[0]
    by_rule = (flagged.where(F.col(KEEP) & F.col(RULE).isNotNull()).groupBy(RULE, RULE_COLUMN).count()
               .orderBy(F.desc("count"), RULE, RULE_COLUMN).collect())
    for c in checked:
        if totals[f"refs_{c}"] > 0 and totals[f"values_{c}"] == 0:
            text, _, _, refs = info[c]
            sampled = f"any of the {totals['read']} sampled rows" if sample else f"any of the {totals['read']} rows"
            problems.append({"file": where, "path": f"tables.{name}.columns.{c}",
                             "message": f"{text!r} gives no {c} on {sampled}, though {', '.join(refs)} "
                                        f"{'has' if len(refs) == 1 else 'have'} values there: the cast or the parse fails for every row; "
                                        f"fix the expression (a date or time format, a number with a comma, ...)"})
    rejected = totals["read"] - totals["filtered"] - totals["accepted"]
    considered = totals["read"] - totals["filtered"]
    out = {
        "read": totals["read"], "filtered": totals["filtered"], "accepted": totals["accepted"], "rejected": rejected,
        "rejectedShare": (rejected / considered) if considered else 0.0,
        "rules": [{"rule": r[RULE], "column": r[RULE_COLUMN], "rows": r["count"]} for r in by_rule],
    }
    if time_col and totals["last"] is not None:
        # Days in UTC, as the canonical timestamps are; asOf (the day after the last) is the
        # snapshot date the analysis jobs use by default.
        out["firstDay"] = totals["first"].date().isoformat()
        out["lastDay"] = totals["last"].date().isoformat()
        out["asOf"] = (totals["last"].date() + dt.timedelta(days=1)).isoformat()
    return out


def run(spark, stage, log, ctx):
    """Creates the canonical tables' views and `quarantine`; returns the counts (the manifest's metrics)."""
    sources = stage["sources"]
    tables = ctx["tables"]
    where = sources["file"]
    sample = stage["sample"]
    problems, flagged = [], {}
    session_zone = spark.conf.get("spark.sql.session.timeZone")
    try:
        for name, spec in sources["tables"].items():
            spark.conf.set("spark.sql.session.timeZone", spec["timezone"])
            result = map_table(spark, name, spec, tables[name], where, sample, problems)
            if result is not None:
                flagged[name] = result
    finally:
        spark.conf.set("spark.sql.session.timeZone", session_zone)
    # A full run stops at once; a check on a sample goes on to find the casts that fail as well.
    if problems and not sample:
        raise _definition_error(where, problems, sample)

    metrics = {"source": sources["name"], "file": where, "absent": sources["absent"], "tables": {}}
    if sources.get("currency"):
        metrics["currency"] = sources["currency"]
    if sample:
        metrics["sample"] = sample
    quarantined = []
    for name, (df, info) in flagged.items():
        df = df.cache()
        spec = sources["tables"][name]
        features = spec.get("features") or {"numeric": {}, "categorical": {}}
        columns = columns_of(tables[name]) + [(n, None, True, {}) for n in [*features["numeric"], *features["categorical"]]]
        if features["numeric"] or features["categorical"]:
            metrics["features"] = {"numeric": list(features["numeric"]), "categorical": list(features["categorical"])}
        counts = _counts(df, name, info, columns, where, problems, sample)
        metrics["tables"][name] = counts
        rules = ", ".join(f"{r['rule']}{'(' + r['column'] + ')' if r['column'] else ''} {r['rows']}" for r in counts["rules"]) or "none"
        log(f"ingest {name}: {counts['read']} rows read, {counts['filtered']} filtered, {counts['accepted']} accepted, {counts['rejected']} rejected ({rules})")
        df.where(F.col(KEEP) & F.col(RULE).isNull()).select(*[c for c, *_ in columns]).createOrReplaceTempView(name)
        rejected = df.where(F.col(KEEP) & F.col(RULE).isNotNull()).select(
            F.lit(name).alias("table"), F.col(RULE).alias("rule"), F.col(RULE_COLUMN).alias("column"), F.col(RULE_VALUE).alias("value"),
            F.when(F.col(FILE) != "", F.col(FILE)).alias("source_file"), F.col(CORRUPT).alias("line"), F.col(SOURCE_ROW).alias("source_row"))
        quarantined.append(with_line_numbers(spark, rejected, spec, counts))
    if problems:
        raise _definition_error(where, problems, sample)
    if not quarantined:
        raise RunnerError(INVALID_INPUT, "no table of the source could be read", where=where)
    quarantine = quarantined[0]
    for q in quarantined[1:]:
        quarantine = quarantine.unionByName(q)
    quarantine.createOrReplaceTempView("quarantine")

    over = {n: t for n, t in metrics["tables"].items() if t["rejectedShare"] > stage["maxRejectedShare"]}
    if over and not sample:
        uri = ctx["runUri"] + "/quarantine"
        quarantine.coalesce(1).write.mode("overwrite").parquet(uri)
        detail = "; ".join(f"{n}: {t['rejected']} of {t['read'] - t['filtered']} rows ({t['rejectedShare']:.1%})" for n, t in over.items())
        raise RunnerError(REJECTED, f"ingest rejected more than {stage['maxRejectedShare']:.1%} of a table's rows: {detail}", where=uri,
                          fix=f"look at the rejected rows and their rule in {uri} (Parquet); fix the source definition {where} or the data, "
                              f"or allow more with --param max_rejected_share=<share>",
                          problems=[{"file": where, "path": f"tables.{n}", "message": f"{t['rejected']} of {t['read'] - t['filtered']} rows rejected ({t['rejectedShare']:.1%}): "
                                     + ", ".join(f"{r['rule']}{' (' + r['column'] + ')' if r['column'] else ''} {r['rows']}" for r in t["rules"][:5])}
                                    for n, t in over.items()])
    return metrics


def with_line_numbers(spark, quarantine, spec, counts):
    """The quarantined rows of a table with, for each malformed line of a CSV or JSON-lines file, its
    number in its file (1 = the first line, a CSV header included), found by reading the files that
    have malformed lines once more as text. Identical malformed lines of one file get distinct
    numbers. Null for every other row, and where the line is not one line of the file (a record of a
    multi-line CSV, a file in another encoding)."""
    none = quarantine.withColumn("line_number", F.lit(None).cast("long"))
    if (spec.get("table") or spec["format"] not in ("csv", "json") or (spec["format"] == "csv" and spec["csv"]["multiLine"])
            or not any(r["rule"] == "malformed" for r in counts["rules"])):
        return none
    malformed = quarantine.where((F.col("rule") == "malformed") & F.col("line").isNotNull() & F.col("source_file").isNotNull())
    files = sorted(r[0] for r in malformed.select("source_file").distinct().collect())
    if not files:
        return none
    numbered = None
    for f in files:
        # One file's lines in order (the text reader splits on line ends, partitions in file order).
        lines = (spark.read.text(f).rdd.zipWithIndex()
                 .map(lambda p, f=f: (f, p[0][0], p[1] + 1))
                 .toDF("source_file string, line string, line_number long"))
        numbered = lines if numbered is None else numbered.unionByName(lines)
    key = ["source_file", "line"]
    nth = F.row_number().over(Window.partitionBy(*key).orderBy("source_row"))
    nth_line = F.row_number().over(Window.partitionBy(*key).orderBy("line_number"))
    found = (malformed.withColumn("__nth", nth)
             .join(numbered.join(malformed.select(*key).distinct(), key).withColumn("__nth", nth_line), [*key, "__nth"], "left")
             .drop("__nth"))
    return found.unionByName(quarantine.where(~((F.col("rule") == "malformed") & F.col("line").isNotNull() & F.col("source_file").isNotNull()))
                             .withColumn("line_number", F.lit(None).cast("long")))


def _definition_error(where, problems, sample):
    return RunnerError(INVALID_INPUT, f"source definition {where} does not fit its data ({len(problems)} problem{'s' if len(problems) != 1 else ''}"
                                      f"{', found on a sample of ' + str(sample) + ' rows per table' if sample else ''})",
                       where=where, fix="correct the expressions listed above (Spark SQL over the source's columns); `sparkjobs sources check` tries them on a sample",
                       problems=problems)
