"""The ingest stage on hand-made files: every rule on planted rows (and no other row), malformed CSV
lines kept with their text, naive times read in the source's time zone, generated keys, the
rejection gate, and a definition's problems all reported at once."""
import datetime as dt
import json

import pytest

from sparkjobs_runner import ingest
from sparkjobs_runner.errors import INVALID_INPUT, REJECTED, RunnerError

UTC = dt.timezone.utc
CSV = {"header": True, "delimiter": ",", "quote": '"', "escape": "\\", "encoding": "UTF-8", "multiLine": False}


@pytest.fixture(scope="module")
def tables(repo):
    return {name: json.loads((repo / "schemas" / "json" / "tables" / f"{name}.schema.json").read_text())
            for name in ["transactions", "products", "events", "customers", "campaigns", "quarantine"]}


def stage(tmp_path, tables_spec, share=1.0, sample=0):
    return {"kind": "ingest", "name": "ingest", "file": "shop.yaml", "maxRejectedShare": share, "sample": sample,
            "sources": {"name": "shop", "file": "shop.yaml", "tables": tables_spec, "absent": []}}


def ctx(tmp_path, tables):
    return {"runUri": str(tmp_path / "run"), "params": {}, "planModels": {}, "models": {}, "tables": tables}


def table(path, columns, **extra):
    spec = {"paths": [str(path)], "format": "csv", "csv": dict(CSV), "nullValues": [], "columns": columns, "timezone": "UTC"}
    spec.update(extra)
    return spec


ORDERS = """order,cust,when,sku,qty,price,state
A1,c1,2011-01-10 10:00:00,P1,2,9.5,done
A1,c1,2011-01-10 10:00:00,P2,1,3,done
A2,c2,2011-06-01 10:00:00,P1,x,9.5,done
A3,c3,2011-06-02 12:00:00,P3,1
A4,c4,2011-06-03 12:00:00,P3,1,2.0,done,surplus
A5,nan,2011-06-04 12:00:00,P4,1,2.0,done
,c6,2011-06-05 12:00:00,P4,1,2.0,done
A7,c7,2011-06-06 12:00:00,P4,1,2.0,shipped
A8,c8,2011-06-07 12:00:00,P5,1,2.0,done
"""
ORDER_COLUMNS = {
    "order_id": "order", "customer_id": "cust", "order_ts": "`when`", "product_id": "sku",
    "quantity": "qty", "unit_price": "CAST(price AS DOUBLE)",
    "status": "CASE state WHEN 'done' THEN 'completed' ELSE state END",
}


def test_every_rule_on_its_planted_row_and_no_other(spark, tmp_path, tables):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    metrics = ingest.run(spark, stage(tmp_path, {"transactions": table(path, ORDER_COLUMNS, nullValues=["nan"], timezone="Europe/London")}), print, ctx(tmp_path, tables))

    quarantine = {(r["rule"], r["column"]): r for r in spark.table("quarantine").collect()}
    assert set(quarantine) == {("malformed", None), ("cast_failed", "quantity"), ("missing_value", "order_id"), ("not_allowed", "status")}
    # Two malformed lines (one field short, one too many), kept with their text and file.
    malformed = [r for r in spark.table("quarantine").collect() if r["rule"] == "malformed"]
    assert sorted(r["line"] for r in malformed) == ["A3,c3,2011-06-02 12:00:00,P3,1", "A4,c4,2011-06-03 12:00:00,P3,1,2.0,done,surplus"]
    assert all(r["source_file"].endswith("orders.csv") for r in malformed)
    # Their lines in the file, the header being line 1, counted here from the text itself.
    numbers = {line: i + 1 for i, line in enumerate(ORDERS.splitlines())}
    assert sorted((r["line_number"], r["line"]) for r in malformed) == sorted((numbers[r["line"]], r["line"]) for r in malformed)
    assert sorted(r["line_number"] for r in malformed) == [5, 6]
    assert all(r["line_number"] is None for r in spark.table("quarantine").collect() if r["rule"] != "malformed")
    assert quarantine[("cast_failed", "quantity")]["value"] == "x"
    assert json.loads(quarantine[("cast_failed", "quantity")]["source_row"])["order"] == "A2"
    assert quarantine[("not_allowed", "status")]["value"] == "shipped"

    counts = metrics["tables"]["transactions"]
    assert (counts["read"], counts["accepted"], counts["rejected"], counts["filtered"]) == (9, 4, 5, 0)
    assert sorted((r["rule"], r["rows"]) for r in counts["rules"]) == [("cast_failed", 1), ("malformed", 2), ("missing_value", 1), ("not_allowed", 1)]

    accepted = {(r["order_id"], r["line_no"]): r for r in spark.table("transactions").collect()}
    assert set(accepted) == {("A1", 1), ("A1", 2), ("A5", 1), ("A8", 1)}
    # Naive times are London time: GMT in January, BST (UTC+1) in June.
    assert accepted[("A1", 1)]["order_ts"].astimezone(UTC) == dt.datetime(2011, 1, 10, 10, 0, tzinfo=UTC)
    assert accepted[("A5", 1)]["order_ts"].astimezone(UTC) == dt.datetime(2011, 6, 4, 11, 0, tzinfo=UTC)
    # "nan" is null; the generated line numbers follow the other columns' order within an order.
    assert accepted[("A5", 1)]["customer_id"] is None
    assert [accepted[("A1", n)]["product_id"] for n in (1, 2)] == ["P1", "P2"]
    assert (counts["firstDay"], counts["lastDay"], counts["asOf"]) == ("2011-01-10", "2011-06-07", "2011-06-08")


def test_identical_malformed_lines_in_two_files_each_get_their_own_line_number(spark, tmp_path, tables):
    short = "c9,2020-01-31"
    for name, text in [("a.csv", f"id,signup,age\n{short}\nc1,2020-01-31,34\n{short}\nc2,2021-02-15,51,extra\n"),
                       ("b.csv", f"id,signup,age\nc3,2020-05-01,20\n{short}\n")]:
        (tmp_path / name).write_text(text)
    spec = table(tmp_path / "a.csv", {"customer_id": "id", "signup_date": "signup", "age": "CAST(age AS INT)"})
    spec["paths"] = [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    ingest.run(spark, stage(tmp_path, {"customers": spec}), print, ctx(tmp_path, tables))
    found = sorted((r["source_file"].rsplit("/", 1)[-1], r["line_number"], r["line"]) for r in spark.table("quarantine").collect() if r["rule"] == "malformed")
    assert found == [("a.csv", 2, short), ("a.csv", 4, short), ("a.csv", 5, "c2,2021-02-15,51,extra"), ("b.csv", 3, short)]


def test_duplicate_keys_keep_one_copy_and_quarantine_the_rest(spark, tmp_path, tables):
    path = tmp_path / "customers.csv"
    path.write_text("id,signup,age\nc1,2020-01-31,34\nc1,2020-01-31,35\nc2,2021-02-15,51\nc3,not a date,20\n")
    columns = {"customer_id": "id", "signup_date": "signup", "age": "CAST(age AS INT)"}
    metrics = ingest.run(spark, stage(tmp_path, {"customers": table(path, columns)}), print, ctx(tmp_path, tables))
    rows = spark.table("customers").collect()
    assert sorted(r["customer_id"] for r in rows) == ["c1", "c2"]
    assert [r["age"] for r in rows if r["customer_id"] == "c1"] == [34]  # the first copy in a fixed order
    rejected = sorted((r["rule"], r["column"], r["value"]) for r in spark.table("quarantine").collect())
    assert rejected == [("cast_failed", "signup_date", "not a date"), ("duplicate_key", "customer_id", '{"customer_id":"c1"}')]
    assert metrics["tables"]["customers"]["rejected"] == 2


def test_a_filter_drops_rows_without_quarantining_them(spark, tmp_path, tables):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    spec = table(path, ORDER_COLUMNS, filter="cust IN ('c1', 'c8')")
    counts = ingest.run(spark, stage(tmp_path, {"transactions": spec}), print, ctx(tmp_path, tables))["tables"]["transactions"]
    assert (counts["read"], counts["filtered"], counts["accepted"], counts["rejected"]) == (9, 6, 3, 0)


def test_more_rejected_than_allowed_stops_the_run_after_writing_the_quarantine(spark, tmp_path, tables):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    with pytest.raises(RunnerError) as e:
        ingest.run(spark, stage(tmp_path, {"transactions": table(path, ORDER_COLUMNS)}, share=0.25), print, ctx(tmp_path, tables))
    assert e.value.exit_code == REJECTED
    assert "5 of 9 rows (55.6%)" in e.value.message
    written = spark.read.parquet(str(tmp_path / "run" / "quarantine"))
    assert written.count() == 5


def test_a_definition_that_does_not_fit_reports_every_problem_at_once(spark, tmp_path, tables):
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS)
    customers = tmp_path / "customers.csv"
    customers.write_text("id,signup\nc1,2020-01-31\nc2,2021-02-15\n")
    spec = {
        "transactions": table(orders, {**ORDER_COLUMNS, "customer_id": "customer"}),
        "events": table(orders, {"session_id": "order", "event_ts": "to_timestamp(`when`,", "event_type": "'view'"}),
        "customers": table(customers, {"customer_id": "id", "signup_date": "to_date(signup, 'dd/MM/yyyy')"}),
        "campaigns": {"paths": [], "table": "nosuchdb.exposures", "format": "parquet", "nullValues": [], "columns": {}, "timezone": "UTC"},
    }
    with pytest.raises(RunnerError) as e:
        ingest.run(spark, stage(tmp_path, spec, sample=100), print, ctx(tmp_path, tables))
    assert e.value.exit_code == INVALID_INPUT
    by_path = {p["path"]: p["message"] for p in e.value.problems}
    assert set(by_path) == {"tables.transactions.columns.customer_id", "tables.events.columns.event_ts",
                            "tables.customers.columns.signup_date", "tables.campaigns"}
    assert "reads a column the source does not have: customer" in by_path["tables.transactions.columns.customer_id"]
    assert "does not compile" in by_path["tables.events.columns.event_ts"]
    assert "gives no signup_date on any of the 2 sampled rows" in by_path["tables.customers.columns.signup_date"]
    assert "the catalog table nosuchdb.exposures does not exist" in by_path["tables.campaigns"]


def test_a_required_column_without_expression_or_namesake_is_named_with_the_columns_there(spark, tmp_path, tables):
    path = tmp_path / "products.csv"
    path.write_text("sku,cat\nP1,toys\n")
    with pytest.raises(RunnerError) as e:
        ingest.run(spark, stage(tmp_path, {"products": table(path, {"product_id": "sku", "category": "cat"})}), print, ctx(tmp_path, tables))
    assert [p["path"] for p in e.value.problems] == ["tables.products.columns.list_price"]
    assert "the source's columns: sku, cat" in e.value.problems[0]["message"]
