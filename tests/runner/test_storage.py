"""Small-file IO through Hadoop's FileSystem: exact bytes, atomic writes."""
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
