"""tables.check_columns against the exported table schemas, with real DataFrames."""
import datetime as dt
import json

import pytest
from pyspark.sql import types as T

from sparkjobs_runner.errors import INVALID_INPUT, INVALID_OUTPUT, RunnerError
from sparkjobs_runner.tables import check_columns, spark_type

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def schemas(repo):
    def load(name):
        return json.loads((repo / "schemas" / "json" / "tables" / f"{name}.schema.json").read_text())

    return load


# Spark types for each sparkType of the schemas, as the runner would meet them.
SPARK = {
    "string": T.StringType(),
    "int": T.IntegerType(),
    "bigint": T.LongType(),
    "double": T.DoubleType(),
    "boolean": T.BooleanType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "timestamp_ntz": T.TimestampNTZType(),
}


def exact_struct(schema, overrides=None, drop=(), extra=()):
    """A StructType with the schema's columns at their exact types, then the changes."""
    overrides = overrides or {}
    fields = []
    for name, prop in schema["properties"].items():
        if name in drop:
            continue
        fields.append(T.StructField(name, overrides.get(name, SPARK[spark_type(prop)[0]]), True))
    fields.extend(T.StructField(n, t, True) for n, t in extra)
    return T.StructType(fields)


def empty(spark, struct):
    return spark.createDataFrame([], struct)


def raised(fn):
    with pytest.raises(RunnerError) as info:
        fn()
    return info.value


def test_every_exported_column_type_is_known(schemas):
    for table in ["transactions", "customer_features", "customer_segments", "segment_profiles", "quarantine", "campaigns", "customers"]:
        for name, prop in schemas(table)["properties"].items():
            assert spark_type(prop)[0] in SPARK, (table, name)


def test_accepts_the_exact_types_and_keeps_the_schema_order(spark, schemas):
    schema = schemas("transactions")
    struct = exact_struct(schema)
    shuffled = T.StructType(list(reversed(struct.fields)))
    out = check_columns(empty(spark, shuffled), schema, "input transactions", INVALID_INPUT, exact=True)
    assert out.columns == list(schema["properties"])
    assert [f.dataType for f in out.schema.fields] == [f.dataType for f in struct.fields]


def test_reports_nullability_from_anyof(schemas):
    props = schemas("transactions")["properties"]
    assert spark_type(props["customer_id"]) == ("string", True)
    assert spark_type(props["order_id"]) == ("string", False)
    assert spark_type(props["quantity"]) == ("int", False)


@pytest.mark.parametrize(
    "table,column,narrow,wide",
    [
        ("transactions", "line_no", T.ShortType(), T.IntegerType()),
        ("transactions", "quantity", T.ByteType(), T.IntegerType()),
        ("transactions", "unit_price", T.FloatType(), T.DoubleType()),
        ("customer_features", "views", T.IntegerType(), T.LongType()),
        ("customer_features", "carts", T.ShortType(), T.LongType()),
        ("ab_tests", "treatment_rows", T.IntegerType(), T.LongType()),
    ],
)
def test_accepts_widening_types_and_casts_them_to_the_schema_type(spark, schemas, table, column, narrow, wide):
    schema = schemas(table)
    out = check_columns(empty(spark, exact_struct(schema, {column: narrow})), schema, f"input {table}", INVALID_INPUT, exact=True)
    assert out.schema[column].dataType == wide


def test_widening_keeps_the_values(spark, schemas):
    schema = schemas("segment_profiles")
    struct = exact_struct(schema, {"customers": T.IntegerType(), "avg_frequency": T.FloatType()})
    row = {f.name: None for f in struct.fields}
    row.update(cluster=2, segment="loyal", customers=2_000_000_000, avg_frequency=2.5)
    df = spark.createDataFrame([tuple(row[f.name] for f in struct.fields)], struct)
    out = check_columns(df, schema, "output segment_profiles", INVALID_OUTPUT, exact=True).collect()[0]
    assert out["customers"] == 2_000_000_000
    assert out["avg_frequency"] == 2.5
    assert out["segment"] == "loyal"


def test_a_missing_column(spark, schemas):
    schema = schemas("transactions")
    e = raised(lambda: check_columns(empty(spark, exact_struct(schema, drop=["unit_price"])), schema, "input transactions (/data/t)", INVALID_INPUT, exact=False))
    assert e.exit_code == INVALID_INPUT == 4
    assert e.message == (
        "input transactions (/data/t) does not match the table schema transactions: "
        "column 'unit_price' is missing (expected double)"
    )
    assert e.where == "input transactions (/data/t)"
    assert e.fix == "make it match schemas/json/tables/transactions.schema.json"


@pytest.mark.parametrize(
    "table,column,actual,expected",
    [
        ("transactions", "quantity", T.StringType(), "int"),
        ("transactions", "quantity", T.LongType(), "int"),  # narrowing is refused
        ("transactions", "unit_price", T.DecimalType(10, 2), "double"),
        ("transactions", "order_ts", T.StringType(), "timestamp"),
        ("transactions", "order_ts", T.TimestampNTZType(), "timestamp"),  # no zone: refused
        ("customer_features", "views", T.DoubleType(), "bigint"),
        ("customer_features", "snapshot_date", T.TimestampType(), "date"),
    ],
)
def test_a_wrong_type(spark, schemas, table, column, actual, expected):
    schema = schemas(table)
    e = raised(lambda: check_columns(empty(spark, exact_struct(schema, {column: actual})), schema, f"output {table}", INVALID_OUTPUT, exact=True))
    assert e.exit_code == INVALID_OUTPUT == 6
    assert e.message == (
        f"output {table} does not match the table schema {table}: "
        f"column '{column}' has type {actual.simpleString()}, expected {expected}"
    )


def test_an_extra_column_with_exact(spark, schemas):
    schema = schemas("customer_segments")
    df = empty(spark, exact_struct(schema, extra=[("__f_recency", T.DoubleType())]))
    e = raised(lambda: check_columns(df, schema, "output customer_segments", INVALID_OUTPUT, exact=True))
    assert e.exit_code == INVALID_OUTPUT
    assert e.message == (
        "output customer_segments does not match the table schema customer_segments: "
        "column '__f_recency' is not in the schema customer_segments"
    )


def test_an_extra_column_without_exact_is_dropped(spark, schemas):
    schema = schemas("customer_segments")
    df = empty(spark, exact_struct(schema, extra=[("debug", T.StringType())]))
    out = check_columns(df, schema, "input customer_segments", INVALID_INPUT, exact=False)
    assert "debug" not in out.columns
    assert out.columns == list(schema["properties"])


def test_every_problem_at_once(spark, schemas):
    schema = schemas("transactions")
    df = empty(spark, exact_struct(schema, {"quantity": T.StringType()}, drop=["status"], extra=[("note", T.StringType())]))
    e = raised(lambda: check_columns(df, schema, "output clean", INVALID_OUTPUT, exact=True))
    assert e.message == (
        "output clean does not match the table schema transactions: "
        "column 'quantity' has type string, expected int; "
        "column 'status' is missing (expected string); "
        "column 'note' is not in the schema transactions"
    )


def test_the_error_as_json(spark, schemas):
    schema = schemas("transactions")
    e = raised(lambda: check_columns(empty(spark, exact_struct(schema, drop=["status"])), schema, "input t", INVALID_INPUT, exact=False))
    assert e.as_json() == {
        "exitCode": 4,
        "message": "input t does not match the table schema transactions: column 'status' is missing (expected string)",
        "where": "input t",
        "fix": "make it match schemas/json/tables/transactions.schema.json",
    }


def test_real_rows_with_timestamps_and_nulls(spark, schemas):
    schema = schemas("transactions")
    struct = exact_struct(schema)
    rows = [
        ("o1", 1, None, dt.datetime(2024, 1, 1, 12, 0, tzinfo=UTC), "p1", None, 2, 3.5, None, None, "completed"),
    ]
    out = check_columns(spark.createDataFrame(rows, struct), schema, "input t", INVALID_INPUT, exact=True).collect()
    assert out[0]["customer_id"] is None
    # PySpark hands back naive local datetimes; the instant is what must survive.
    assert out[0]["order_ts"].timestamp() == dt.datetime(2024, 1, 1, 12, 0, tzinfo=UTC).timestamp()
    assert out[0]["quantity"] == 2 and out[0]["unit_price"] == 3.5
