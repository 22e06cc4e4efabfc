"""The real cleaning SQL (jobs/spark-sql/clean/) on hand-made transactions, with parameters bound by
Spark exactly as the runner binds them (main.bind -> spark.sql(text, args=...))."""
import datetime as dt
import json

import pytest
from pyspark.sql import types as T

from sparkjobs_runner.errors import INVALID_INPUT
from sparkjobs_runner.main import bind
from sparkjobs_runner.tables import check_columns

UTC = dt.timezone.utc
SNAPSHOT = dt.date(2024, 1, 31)
MAX_QUANTITY = 100
MAX_UNIT_PRICE = 500.0

SCHEMA = T.StructType(
    [
        T.StructField("order_id", T.StringType()),
        T.StructField("line_no", T.IntegerType()),
        T.StructField("customer_id", T.StringType()),
        T.StructField("order_ts", T.TimestampType()),
        T.StructField("product_id", T.StringType()),
        T.StructField("category", T.StringType()),
        T.StructField("quantity", T.IntegerType()),
        T.StructField("unit_price", T.DoubleType()),
        T.StructField("payment_method", T.StringType()),
        T.StructField("region", T.StringType()),
        T.StructField("status", T.StringType()),
    ]
)

DAY = dt.datetime(2024, 1, 15, 10, 30, tzinfo=UTC)


def line(order_id, line_no, **changes):
    row = dict(
        order_id=order_id, line_no=line_no, customer_id="c1", order_ts=DAY, product_id="p1", category="books",
        quantity=2, unit_price=12.5, payment_method="card", region="north", status="completed",
    )
    row.update(changes)
    return tuple(row[f.name] for f in SCHEMA.fields)


# One row per rule, each breaking that rule only, plus kept rows (some on the edge of a rule).
PLANTED = {
    "missing_customer": [line("o10", 1, customer_id=None)],
    "cancelled": [line("o11", 1, status="cancelled")],
    "returned": [line("o12", 1, status="returned")],
    "invalid_quantity": [line("o13", 1, quantity=0)],
    "missing_product": [line("o14", 1, product_id=None)],
    "future_date": [line("o15", 1, order_ts=dt.datetime(2024, 2, 1, 0, 0, tzinfo=UTC))],
    "outlier": [line("o16", 1, quantity=MAX_QUANTITY + 1)],
    "duplicate": [line("o1", 2)],  # an exact repeat of o1 line 1, except line_no
}
KEPT = [
    line("o1", 1),
    # the last microsecond of the snapshot day is not in the future
    line("o2", 1, order_ts=dt.datetime(2024, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    # at the limits, not above them
    line("o3", 1, quantity=MAX_QUANTITY, unit_price=MAX_UNIT_PRICE),
    # a missing category is imputed, not dropped
    line("o4", 1, category=None),
    # same order, another product: not a duplicate
    line("o1", 3, product_id="p2"),
]
RULES = list(PLANTED)


@pytest.fixture(scope="module")
def sql(repo):
    return lambda path: (repo / "jobs" / "spark-sql" / path).read_text()


@pytest.fixture(scope="module")
def plan():
    """The params part of a plan, as the CLI writes it (JSON), so bind() does what the runner does."""
    return json.loads(json.dumps({
        "params": {
            "snapshot_date": {"type": "date", "value": SNAPSHOT.isoformat()},
            "max_quantity": {"type": "int", "value": MAX_QUANTITY},
            "max_unit_price": {"type": "double", "value": MAX_UNIT_PRICE},
            "note": {"type": "string", "value": "'; DROP TABLE x; --"},
        }
    }))


@pytest.fixture(scope="module")
def transactions_schema(repo):
    return json.loads((repo / "schemas" / "json" / "tables" / "transactions.schema.json").read_text())


@pytest.fixture(scope="module")
def clean(spark, sql, plan, transactions_schema):
    """Runs flag_transactions.sql, then transaction_counts.sql, on the given rows, as the runner
    does: input checked against its table, views named after the stages, parameters bound.
    Returns ({(order_id, line_no): drop_reason}, {rule: row of counts})."""

    def run(rows, **arg_overrides):
        df = spark.createDataFrame(rows, SCHEMA)
        check_columns(df, transactions_schema, "input transactions", INVALID_INPUT, exact=True).createOrReplaceTempView("transactions")
        try:
            args = dict(bind(plan, ["max_quantity", "max_unit_price", "snapshot_date"]), **arg_overrides)
            flagged = spark.sql(sql("clean/flag_transactions.sql"), args=args).cache()
            flagged.createOrReplaceTempView("flagged_transactions")
            reasons = {(r["order_id"], r["line_no"]): r["drop_reason"] for r in flagged.collect()}
            counts = {r["rule"]: r.asDict() for r in spark.sql(sql("clean/transaction_counts.sql")).collect()}
            flagged.unpersist()
            return reasons, counts
        finally:
            spark.catalog.dropTempView("flagged_transactions")
            spark.catalog.dropTempView("transactions")

    return run


@pytest.fixture(scope="module")
def planted(clean):
    return clean([r for rs in PLANTED.values() for r in rs] + KEPT)


def test_bind_gives_a_date_for_date_params(plan):
    args = bind(plan, ["snapshot_date", "max_quantity", "max_unit_price"])
    assert args == {"snapshot_date": SNAPSHOT, "max_quantity": MAX_QUANTITY, "max_unit_price": MAX_UNIT_PRICE}
    assert type(args["snapshot_date"]) is dt.date


def test_each_planted_row_is_dropped_by_its_rule(planted):
    reasons, _ = planted
    assert len(reasons) == sum(len(rows) for rows in PLANTED.values()) + len(KEPT)
    for rule, rows in PLANTED.items():
        for row in rows:
            assert reasons[(row[0], row[1])] == rule, (rule, row)
    for row in KEPT:
        assert reasons[(row[0], row[1])] is None, row


def test_transaction_counts_add_up(planted):
    _, counts = planted
    n_input = sum(len(rows) for rows in PLANTED.values()) + len(KEPT)
    assert counts["input"] == {"rule": "input", "action": "count", "matching": n_input, "dropped": 0}
    assert counts["kept"]["matching"] == len(KEPT)
    for rule in RULES:
        assert counts[rule]["action"] == "drop"
        assert counts[rule]["dropped"] == len(PLANTED[rule]), rule
        # each planted row breaks its own rule only
        assert counts[rule]["matching"] == len(PLANTED[rule]), rule
    assert counts["missing_category"] == {"rule": "missing_category", "action": "impute", "matching": 1, "dropped": 0}
    assert sum(counts[r]["dropped"] for r in RULES) == n_input - len(KEPT)
    assert set(counts) == {"input", "kept", "missing_category", *RULES}


def test_the_first_broken_rule_wins_and_every_rule_is_counted(clean):
    # One line breaking three rules: dropped once (by the first), matched by all three.
    reasons, counts = clean([line("C9", 1, customer_id=None, quantity=-1), line("o1", 1)])
    assert reasons[("C9", 1)] == "missing_customer"
    pairs = {rule: (c["matching"], c["dropped"]) for rule, c in counts.items()}
    assert pairs["missing_customer"] == (1, 1)
    assert pairs["cancelled"] == (1, 0)  # order id starting with C
    assert pairs["invalid_quantity"] == (1, 0)
    assert pairs["kept"] == (1, 0)


def test_the_parameters_change_the_result(clean):
    # The same SQL with other values: the values are bound, not baked into the text.
    rows = [line("o3", 1, quantity=MAX_QUANTITY, unit_price=MAX_UNIT_PRICE), line("o2", 1, order_ts=dt.datetime(2024, 1, 31, 12, 0, tzinfo=UTC))]
    reasons, _ = clean(rows, max_unit_price=499.99, snapshot_date=dt.date(2024, 1, 30))
    assert reasons == {("o3", 1): "outlier", ("o2", 1): "future_date"}


def test_a_string_parameter_holding_sql_is_a_value(spark, plan):
    evil = plan["params"]["note"]["value"]
    assert evil == "'; DROP TABLE x; --"
    spark.range(3).createOrReplaceTempView("x")
    rows = [line("o98", 1, customer_id="c1"), line("o99", 1, customer_id=evil)]
    spark.createDataFrame(rows, SCHEMA).createOrReplaceTempView("with_evil")
    try:
        args = bind(plan, ["note"])
        assert args == {"note": evil}
        assert spark.sql("SELECT :note AS v", args=args).collect()[0]["v"] == evil
        # As a comparison value it finds exactly the row holding that text ...
        found = spark.sql("SELECT order_id FROM with_evil WHERE customer_id = :note", args=args).collect()
        assert [r["order_id"] for r in found] == ["o99"]
        # ... and the view x it "drops" is still there.
        assert spark.table("x").count() == 3
    finally:
        spark.catalog.dropTempView("with_evil")
        spark.catalog.dropTempView("x")


def test_a_date_parameter_is_typed_not_text(spark):
    # Bound as a DATE literal: date arithmetic works and the type is date.
    df = spark.sql("SELECT date_add(:d, 1) AS next_day", args={"d": SNAPSHOT})
    assert df.schema["next_day"].dataType == T.DateType()
    assert df.collect()[0]["next_day"] == dt.date(2024, 2, 1)


def test_raise_error_with_the_invalid_input_prefix_is_a_clear_input_error(spark):
    from sparkjobs_runner.errors import raised_by_sql

    df = spark.sql("SELECT CASE WHEN id > 1 THEN raise_error('invalid input: the rows hold no uplift; fix: pass an uplift run') END AS x FROM range(3)")
    with pytest.raises(Exception) as e:
        df.collect()
    found = raised_by_sql(e.value)
    assert found.exit_code == INVALID_INPUT
    assert found.message == "the rows hold no uplift" and found.fix == "pass an uplift run"
    # Any other failure is not an input error.
    with pytest.raises(Exception) as other:
        spark.sql("SELECT raise_error('boom') FROM range(1)").collect()
    assert raised_by_sql(other.value) is None
