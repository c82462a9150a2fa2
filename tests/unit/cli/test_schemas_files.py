"""``streams schemas check|register`` with no schemas to work on is an error (one line, what to do, exit 1),
not a silent pass: the README puts ``check`` in CI.  Decided before the registry is asked (none runs here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from streams.cli import main
from streams.cli.schemas_cmd import _files
from streams.devstack.ports import free_port
from tests.unit.cli.runner import run_main

ROOT = Path(__file__).resolve().parents[3]


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setenv("STREAMS_SCHEMA_REGISTRY_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.delenv("STREAMS_SCHEMAS_DIR", raising=False)
    return run_main(monkeypatch, capsys, *args)


@pytest.mark.parametrize("command", ["check", "register"])
def test_run_from_another_directory(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                    tmp_path: Path, command: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = run(monkeypatch, capsys, "schemas", command)
    assert code == 1
    assert err.splitlines() == [f"streams: error: no schema directory {tmp_path.resolve() / 'schemas'} (run it "
                                "from the project's root, pass --dir <directory of .avsc files> or set "
                                "STREAMS_SCHEMAS_DIR)"]


@pytest.mark.parametrize("command", ["check", "register"])
def test_a_directory_without_schemas(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path, command: str) -> None:
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "Old.v1.avsc").write_text("{}")  # history alone is nothing to check
    code, err = run(monkeypatch, capsys, "schemas", command, "--dir", str(tmp_path))
    assert code == 1
    assert len(err.splitlines()) == 1
    assert f"no .avsc files in {tmp_path.resolve()}" in err
    assert "--dir" in err


def test_the_current_schemas_only_never_history() -> None:
    files = _files(ROOT / "schemas")
    assert ROOT / "schemas" / "OrderPlaced.avsc" in files
    assert [f for f in files if f.parent.name != "schemas"] == []
    assert len(files) == len(list((ROOT / "schemas").glob("*.avsc")))


def test_check_names_the_registry_without_its_password(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The summary names the directory checked (here STREAMS_SCHEMAS_DIR) and the registry, minus credentials
    (a registry that knows none of the subjects: every schema new)."""
    class NotFound:
        status_code = 404

    asked: list[str] = []

    def post(http: object, base: str, path: str, body: dict[str, str]) -> tuple[NotFound, dict[str, int]]:
        asked.append(base)
        return NotFound(), {"error_code": 40401}

    monkeypatch.setattr("streams.cli.schemas_cmd._post", post)
    monkeypatch.setenv("STREAMS_SCHEMA_REGISTRY_URL", "https://user:s3cret@reg:8081")
    monkeypatch.setenv("STREAMS_SCHEMAS_DIR", str(ROOT / "schemas"))
    monkeypatch.setattr(sys, "argv", ["streams", "schemas", "check"])
    monkeypatch.setenv("COLUMNS", "400")
    with pytest.raises(SystemExit) as info:
        main()
    out = capsys.readouterr().out
    assert info.value.code in (0, None), out
    assert set(asked) == {"https://user:s3cret@reg:8081"}  # the requests do carry them
    assert "s3cret" not in out
    assert f"from {(ROOT / 'schemas').resolve()} against https://reg:8081:" in out
