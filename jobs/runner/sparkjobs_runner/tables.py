"""Checks a DataFrame's columns against a table's exported JSON Schema (schemas/json/tables)."""
from .errors import RunnerError

# Spark type names (DataType.simpleString) accepted for each sparkType of the schemas.
_ACCEPTED = {
    "string": {"string"},
    "int": {"int", "smallint", "tinyint"},
    "bigint": {"bigint", "int", "smallint", "tinyint"},
    "double": {"double", "float"},
    "boolean": {"boolean"},
    "date": {"date"},
    "timestamp": {"timestamp"},
    "timestamp_ntz": {"timestamp_ntz", "timestamp"},
}


def spark_type(prop):
    """sparkType and nullability of one JSON Schema property."""
    if "anyOf" in prop:
        non_null = [p for p in prop["anyOf"] if p.get("type") != "null"]
        return non_null[0]["sparkType"], True
    return prop["sparkType"], False


def check_columns(df, schema, what, exit_code, exact, extra=None):
    """Every column of the schema must exist with an accepted type; with exact, no other columns
    but the `extra` ones ({name, type}: a source's customer features).

    Returns the DataFrame with the schema's columns, in the schema's order, cast to the exact types
    (so an int column where bigint is expected is widened, never narrowed), then the extra columns."""
    actual = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    props = schema["properties"]
    extra = extra or []
    problems = [f"column {e['name']!r} is missing (a feature the run that wrote it declares)" for e in extra if e["name"] not in actual]
    for name, prop in props.items():
        want, _ = spark_type(prop)
        if name not in actual:
            problems.append(f"column {name!r} is missing (expected {want})")
        elif actual[name] not in _ACCEPTED[want]:
            problems.append(f"column {name!r} has type {actual[name]}, expected {want}")
    if exact:
        for name in actual:
            if name not in props and name not in {e["name"] for e in extra}:
                problems.append(f"column {name!r} is not in the schema {schema.get('title')}")
    if problems:
        raise RunnerError(
            exit_code,
            f"{what} does not match the table schema {schema.get('title')}: " + "; ".join(problems),
            where=what,
            fix=f"make it match schemas/json/tables/{schema.get('title')}.schema.json",
        )
    from pyspark.sql import functions as F

    return df.select([F.col(n).cast(spark_type(p)[0]).alias(n) for n, p in props.items()]
                     + [F.col(e["name"]).cast(e["type"]).alias(e["name"]) for e in extra])
