"""jsonschema_lite.validate against the real exported run-plan schema and plans made by the real CLI."""
import copy
import json
import os
import subprocess
from pathlib import Path

import pytest

from sparkjobs_runner.jsonschema_lite import validate

SOURCES = ("submitter/src", "schemas/src")


def _build_is_stale(repo):
    """True when a TypeScript source is newer than its compiled file in dist/ (or dist/ is missing)."""
    for top in SOURCES:
        for ts in (repo / top).rglob("*.ts"):
            js = repo / "dist" / ts.relative_to(repo).with_suffix(".js")
            if not js.exists() or js.stat().st_mtime < ts.stat().st_mtime:
                return True
    return False


@pytest.fixture(scope="session")
def cli(repo):
    """Runs the real CLI (built with `npx tsc -p tsconfig.json` first when dist/ is stale)."""
    if _build_is_stale(repo):
        r = subprocess.run(["npx", "--no-install", "tsc", "-p", "tsconfig.json"], cwd=repo, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            pytest.fail(f"npx tsc -p tsconfig.json failed (exit {r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}")
    cli_js = repo / "dist" / "submitter" / "src" / "cli.js"

    def run(*args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPARKJOBS_")}
        return subprocess.run(["node", str(cli_js), *args], cwd=repo, capture_output=True, text=True, timeout=120, env=env)

    return run


def _plan(cli, tmp_path_factory, job, run_id, *extra):
    root = tmp_path_factory.mktemp(f"root-{job}")
    r = cli("plan", job, "--root", str(root), "--run-id", run_id, *extra)
    assert r.returncode == 0, f"sparkjobs plan {job} failed (exit {r.returncode}):\n{r.stderr}"
    plan = json.loads(r.stdout)
    # Nothing runs and nothing is written by `plan`.
    assert list(Path(root).iterdir()) == []
    return plan


@pytest.fixture(scope="session")
def schema(repo):
    return json.loads((repo / "schemas" / "json" / "run-plan.schema.json").read_text())


@pytest.fixture(scope="session")
def generate_plan(cli, tmp_path_factory):
    return _plan(cli, tmp_path_factory, "generate", "t-generate-1", "--param", "customers=500", "--param", "seed=3")


@pytest.fixture(scope="session")
def ingest_plan(cli, tmp_path_factory, repo):
    """A plan with an ingest stage (the source definition resolved into it); the Online Retail file must be there."""
    data = repo.parent / "shared" / "datasets" / "online_retail" / "online_retail.parquet"
    assert data.exists(), f"{data} is missing: the shared data sets must sit beside the repository"
    return _plan(cli, tmp_path_factory, "ingest", "t-ingest-1", "--param", f"sources={repo / 'sources' / 'online-retail.yaml'}")


@pytest.fixture(scope="session")
def retail_plan(cli, tmp_path_factory, repo):
    """A plan with inputs and an MLlib stage: customer-segmentation over a small complete run of
    Online Retail lines (its footers are checked, so the files are real Parquet)."""
    import sys

    import pyarrow.parquet as pq

    sys.path.insert(0, str(repo / "fixtures"))
    from make_bad_inputs import transactions, write_run

    data = repo.parent / "shared" / "datasets" / "online_retail" / "online_retail.parquet"
    assert data.exists(), f"{data} is missing: the shared data sets must sit beside the repository"
    root = tmp_path_factory.mktemp("root-retail")
    write_run(str(root), "t-source", lambda p: pq.write_table(transactions(str(data)).slice(0, 50), p))
    r = cli("plan", "customer-segmentation", "--root", str(root), "--run-id", "t-retail-1", "--param", "source=t-source")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def mutated(plan, change):
    p = copy.deepcopy(plan)
    change(p)
    return p


def paths(errors):
    return [p for p, _ in errors]


# ---------------------------------------------------------------- real plans validate


def test_the_generate_plan_from_the_cli_validates_clean(generate_plan, schema):
    assert generate_plan["runId"] == "t-generate-1"
    assert generate_plan["params"]["customers"] == {"type": "int", "value": 500}
    assert validate(generate_plan, schema) == []


def test_the_ingest_plan_with_its_source_definition_validates_clean(ingest_plan, schema):
    stage = ingest_plan["stages"][0]
    assert stage["kind"] == "ingest"
    assert stage["sources"]["tables"]["transactions"]["timezone"] == "Europe/London"
    assert stage["sources"]["absent"] == ["products", "events", "customers", "campaigns"]
    assert [o["name"] for o in ingest_plan["outputs"]] == ["transactions", "quarantine"]
    assert validate(ingest_plan, schema) == []


def test_the_cli_rejects_bad_params_before_planning(cli):
    r = cli("plan", "generate", "--root", "/nonexistent", "--param", "as_of=2011-12-10'; DROP TABLE x; --")
    assert r.returncode == 2
    assert "--param as_of" in r.stderr
    assert r.stdout == ""


# ---------------------------------------------------------------- mutations


def _mllib_index(plan):
    return next(i for i, s in enumerate(plan["stages"]) if s["kind"] == "mllib")


MUTATIONS = [
    # (what, plan fixture, change, expected (path, message))
    ("unknown top-level key", "generate", lambda p: p.update(extra=1), ("extra", "is not allowed (unknown key)")),
    ("unknown key in a stage", "generate", lambda p: p["stages"][0].update(sqlFile="x.sql"), ("stages[0].sqlFile", "is not allowed (unknown key)")),
    ("unknown key in an MLlib config", "retail", lambda p: p["stages"][_mllib_index(p)]["config"].update(seeds=[1]), ("stages[{m}].config.seeds", "is not allowed (unknown key)")),
    ("wrong type: cache", "generate", lambda p: p["stages"][0].update(cache="yes"), ("stages[0].cache", "expected boolean, got str")),
    ("wrong type: planVersion", "generate", lambda p: p.update(planVersion="1"), ("planVersion", "expected number, got str")),
    ("wrong type: outputs", "generate", lambda p: p.update(outputs={"a": 1}), ("outputs", "expected array, got dict")),
    ("wrong type: sparkConf value", "generate", lambda p: p["sparkConf"].update({"spark.x": 8}), ("sparkConf.spark.x", "expected string, got int")),
    ("bad enum", "retail", lambda p: p["stages"][_mllib_index(p)]["config"]["params"].update(initMode="kmeans++"), ("stages[{m}].config.params.initMode", "expected one of ['k-means||', 'random']")),
    ("bad const", "generate", lambda p: p.update(planVersion=2), ("planVersion", "expected 1")),
    ("bad const: input format", "retail", lambda p: p["inputs"][0].update(format="csv"), ("inputs[0].format", "expected 'parquet'")),
    ("missing required: runUri", "generate", lambda p: p.pop("runUri"), ("runUri", "is required")),
    ("missing required: stage sql", "generate", lambda p: p["stages"][1].pop("sql"), ("stages[1].sql", "is required")),
    ("pattern: run id", "generate", lambda p: p.update(runId="bad id!"), ("runId", "does not match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")),
    ("pattern: output name", "generate", lambda p: p["outputs"][2].update(name="Events"), ("outputs[2].name", "does not match ^[a-z][a-z0-9_]{0,62}$")),
    ("pattern: param name (propertyNames)", "generate", lambda p: p["params"].update({"Bad-Name": {"type": "int", "value": 1}}), ("params.Bad-Name", "key does not match ^[a-z][a-z0-9_]{0,62}$")),
    ("minimum: fixedK", "retail", lambda p: p["stages"][_mllib_index(p)].update(fixedK=1), ("stages[{m}].fixedK", "below the minimum 2")),
    ("exclusive minimum: files", "generate", lambda p: p["outputs"][1].update(files=0), ("outputs[1].files", "must be above 0")),
    ("minItems: stages", "generate", lambda p: p.update(stages=[]), ("stages", "needs at least 1 items")),
    ("minLength: sql", "generate", lambda p: p["stages"][0].update(sql=""), ("stages[0].sql", "shorter than 1")),
]


@pytest.mark.parametrize("what,which,change,expected", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_a_mutation_gives_an_error_naming_the_dotted_path(request, schema, what, which, change, expected):
    plan = request.getfixturevalue(f"{which}_plan")
    bad = mutated(plan, change)
    path, message = expected
    if "{m}" in path:
        path = path.format(m=_mllib_index(plan))
    errors = validate(bad, schema)
    assert (path, message) in errors, errors
    # The original is untouched and still valid: the error comes from the mutation alone.
    assert validate(plan, schema) == []


def test_every_error_at_once(generate_plan, schema):
    bad = mutated(generate_plan, lambda p: (p.update(extra=1, runId="bad id!"), p["stages"][0].update(cache="yes")))
    assert sorted(paths(validate(bad, schema))) == ["extra", "runId", "stages[0].cache"]


def test_a_non_object_plan(schema):
    assert validate([], schema) == [("(root)", "expected object, got list")]


# ---------------------------------------------------------------- where Python's re differs from JSON Schema's regexes


def test_a_run_id_with_a_trailing_newline_is_refused(generate_plan, schema):
    # JSON Schema patterns are ECMA-262 regexes: `$` matches only at the very end. Python's `$`
    # also matches before a final "\n", so re.search alone lets "t1\n" through.
    bad = mutated(generate_plan, lambda p: p.update(runId="t1\n"))
    assert "runId" in paths(validate(bad, schema))


def test_a_date_with_non_ascii_digits_is_refused(generate_plan, schema):
    # ECMA-262 \d is [0-9]; Python's \d in a str pattern is any Unicode decimal digit.
    bad = mutated(generate_plan, lambda p: p["params"]["as_of"].update(value="\u0662\u0660\u0662\u0664-01-01"))
    assert validate(bad, schema) != []


# ---------------------------------------------------------------- discriminated unions (oneOf by a const field)


@pytest.mark.parametrize(
    "param,value,path",
    [
        ("customers", "10000", "params.customers.value"),  # int param holding a string
        ("as_of", "2024-02-30", "params.as_of.value"),  # not a calendar date
    ],
)
def test_a_bad_param_value_is_reported_at_the_value(generate_plan, schema, param, value, path):
    # params.<name> is a oneOf of {type: const, value}; the branch whose type matches is the one
    # to report, not the first branch that happens to have as few errors.
    bad = mutated(generate_plan, lambda p: p["params"][param].update(value=value))
    errors = validate(bad, schema)
    assert errors != []
    assert paths(errors) == [path], errors


def test_every_kind_of_gate_validates_and_a_psi_range_is_a_pair(generate_plan, schema):
    """The plan schema's tuples (prefixItems, items: false): the PSI range of a drift gate."""
    gates = [
        {"name": "a", "unique": {"output": "transactions", "columns": ["order_id"]}, "severity": "warn"},
        {"name": "b", "references": {"output": "transactions", "columns": ["product_id"], "to": "products"}},
        {"name": "c", "accepted": {"output": "transactions", "column": "status", "values": ["paid", 1, True]}},
        {"name": "d", "reconcile": {"left": {"sql": "SELECT 1"}, "right": {"sql": "SELECT 1"}, "tolerance": 0}},
        {"name": "e", "drift": {"rows": "transactions"}, "warn": 0.2},
        {"name": "f", "drift": {"shares": {"output": "customers", "column": "region"}}, "error": 0.1},
        {"name": "g", "drift": {"psi": {"output": "transactions", "column": "unit_price", "bins": 10, "range": [0, 1]}}, "warn": 0.1, "error": 0.25},
    ]
    assert validate(mutated(generate_plan, lambda p: p["checks"].extend(gates)), schema) == []
    for bad in ([0, 1, 2], [0], [0, "x"]):
        wrong = copy.deepcopy(gates[-1])
        wrong["drift"]["psi"]["range"] = bad
        assert validate(mutated(generate_plan, lambda p: p["checks"].append(wrong)), schema) != [], bad
