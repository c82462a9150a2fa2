"""Loading .avsc files: by name, parsed once, refused with the file named when wrong."""

import os
from pathlib import Path

import pytest

from streams.avro import AvroSchema, load_schema, load_schemas, schemas_by_full_name
from streams.errors import ConfigError

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
RECORD = '{"type":"record","name":"%s","namespace":"t","fields":[{"name":"a","type":"long","doc":"a"}]}'


def test_loads_every_top_level_file_by_short_and_full_name() -> None:
    schemas = load_schemas(SCHEMAS)
    assert len(schemas) == 13
    assert schemas["OrderPlaced"].full_name == "com.acme.orders.OrderPlaced"
    assert "channel" in schemas["OrderPlaced"].text  # the current schema, not history/OrderPlaced.v1.avsc
    assert set(schemas_by_full_name(SCHEMAS)) == {s.full_name for s in schemas.values()}


def test_a_file_is_parsed_once_until_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "R.avsc"
    path.write_text(RECORD % "R")
    first = load_schema(path)
    assert load_schema(path) is first
    path.write_text(RECORD % "S" + "\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_schema(path).full_name == "t.S"


def test_text_is_kept_as_written_but_stripped() -> None:
    schema = AvroSchema.from_text("\n  " + RECORD % "R" + "\n")
    assert schema.text == RECORD % "R"
    assert schema.is_record
    assert (schema.name, schema.full_name) == ("R", "t.R")


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not a valid Avro schema"),
    ('{"type":"record","name":"R","fields":[{"name":"a","type":"Nope"}]}', "not a valid Avro schema"),
    ('"string"', "not a record schema"),
])
def test_bad_files_are_config_errors_naming_the_file(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "Bad.avsc").write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        load_schemas(tmp_path)
    assert "Bad.avsc" in str(info.value)


def test_two_files_defining_one_record_are_refused(tmp_path: Path) -> None:
    (tmp_path / "A.avsc").write_text(RECORD % "R")
    (tmp_path / "B.avsc").write_text(RECORD % "R")
    with pytest.raises(ConfigError, match="both define a record named R"):
        load_schemas(tmp_path)


def test_a_missing_directory_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as info:
        load_schemas(tmp_path / "nope")
    assert info.value.hint == "set STREAMS_SCHEMAS_DIR"
