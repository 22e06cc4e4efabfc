"""The runner's edges: small-file IO through Hadoop's FileSystem (exact bytes, atomic writes) and error descriptions."""
import hashlib

from sparkjobs_runner import storage


def test_read_text_keeps_every_byte_through_hadoop(spark, tmp_path):
    # The plan's hash is taken over what the runner reads: a lost final newline changes it.
    text = '{\n  "a": "é"\n}\n\n'
    path = tmp_path / "plan.json"
    path.write_bytes(text.encode("utf-8"))
    via_hadoop = storage.read_text(spark, path.as_uri())
    assert via_hadoop == text
    assert hashlib.sha256(via_hadoop.encode()).hexdigest() == hashlib.sha256(text.encode()).hexdigest()
    assert storage.read_text(spark, str(path)) == text


def test_write_text_atomically_replaces_the_file_and_leaves_no_temporary(spark, tmp_path):
    uri = (tmp_path / "out" / "_manifest.json").as_uri()
    storage.write_text_atomically(spark, uri, "first")
    storage.write_text_atomically(spark, uri, "second\n")
    assert storage.read_text(spark, uri) == "second\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.endswith(".crc")) == ["_manifest.json"]


def test_describe_names_the_root_cause_of_a_java_error_not_the_jvm_call(spark):
    from sparkjobs_runner.errors import describe

    try:
        spark.sql("SELECT assert_true(id < 0, 'planted failure: ids are not negative') FROM range(3)").collect()
    except Exception as e:  # noqa: BLE001
        text = describe(e)
    assert "planted failure: ids are not negative" in text
    assert "An error occurred while calling" not in text
    assert describe(ValueError("bad\nsecond line")) == "ValueError: bad"


def test_a_complete_run_is_never_run_over(spark, tmp_path):
    """A duplicate submit of a complete run's plan runs nothing; one with another plan is a conflict (11);
    a manifest that is not a finished run's is no reason to stop."""
    import json

    import pytest

    from sparkjobs_runner.errors import CONFLICT, RunnerError
    from sparkjobs_runner.main import already_complete

    uri = str(tmp_path / "_manifest.json")
    plan = {"runId": "r1"}
    assert already_complete(spark, plan, "a" * 64, uri) is False
    (tmp_path / "_manifest.json").write_text(json.dumps({"status": "succeeded", "planSha256": "a" * 64}))
    assert already_complete(spark, plan, "a" * 64, uri) is True
    with pytest.raises(RunnerError) as e:
        already_complete(spark, plan, "b" * 64, uri)
    assert e.value.exit_code == CONFLICT == 11
    assert "already completed with another plan" in str(e.value)
    (tmp_path / "_manifest.json").write_text("{ half written")
    assert already_complete(spark, plan, "a" * 64, uri) is False


def test_read_text_if_exists_through_hadoop_and_locally(spark, tmp_path):
    (tmp_path / "a.txt").write_text("héllo")
    assert storage.read_text_if_exists(spark, str(tmp_path / "a.txt")) == "héllo"
    assert storage.read_text_if_exists(spark, (tmp_path / "a.txt").as_uri()) == "héllo"
    assert storage.read_text_if_exists(spark, str(tmp_path / "none.txt")) is None
    assert storage.read_text_if_exists(spark, (tmp_path / "none.txt").as_uri()) is None
