"""A malformed ``STREAMS_*`` value: every command says so in one line (the variable, what is wrong, a good
value) and exits 2, before it starts anything (no broker needed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.cli.runner import run_main

ROOT = Path(__file__).resolve().parents[3]

# every command with the arguments it needs to get as far as reading its settings
COMMANDS = [
    ["dev"], ["worker"], ["registry"], ["produce", "OrderPlaced", "--data", "{}"], ["lag"], ["demo"],
    ["replay", "--to-earliest"], ["schemas", "register"], ["schemas", "check"], ["dlq", "list"], ["dlq", "show"],
    ["dlq", "redrive"], ["dlq", "release", "--key", "k"], ["dlq", "history"],
]


@pytest.fixture(autouse=True)
def _keep_sigint() -> Iterator[None]:
    handler = signal.getsignal(signal.SIGINT)  # `streams dev` installs its own
    yield
    signal.signal(signal.SIGINT, handler)


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str]:
    return run_main(monkeypatch, capsys, *args)


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize(("variable", "value", "wrong", "good"), [
    ("STREAMS_BROKER", "notaurl", "not a broker URL", "STREAMS_BROKER=kafka://127.0.0.1:9092"),
    ("STREAMS_WEB_PORT", "abc", "valid integer", "STREAMS_WEB_PORT=6066"),
])
def test_every_command_says_which_variable_in_one_line_and_exits_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str],
        variable: str, value: str, wrong: str, good: str) -> None:
    monkeypatch.setenv(variable, value)
    code, err = run(monkeypatch, capsys, args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"streams: error: {variable}={value!r}")
    assert wrong in lines[0]
    assert good in lines[0]


@pytest.mark.parametrize(("variable", "value", "wrong"), [
    ("STREAMS_BROKER", "kafka://host:port", "port"),
    ("STREAMS_SCHEMA_REGISTRY_URL", "localhost:8081", "http"),
    ("STREAMS_LAG_WINDOW", "1", "greater than or equal to 2"),
])
def test_values_that_would_fail_later_are_refused_up_front(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str,
        wrong: str) -> None:
    monkeypatch.setenv(variable, value)
    code, err = run(monkeypatch, capsys, ["lag"])
    assert code == 2, err
    assert err.startswith(f"streams: error: {variable}={value!r}")
    assert wrong in err


def test_two_bad_variables_are_both_named_on_the_line(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STREAMS_BROKER", "notaurl")
    monkeypatch.setenv("STREAMS_WEB_PORT", "abc")
    code, err = run(monkeypatch, capsys, ["lag"])
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "STREAMS_BROKER=" in err
    assert "STREAMS_WEB_PORT=" in err


def test_a_worker_flag_out_of_range_is_a_usage_error_naming_the_flag(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(monkeypatch, capsys, ["worker", "--web-port", "70000"])
    assert code == 2
    assert "--web-port" in err


def test_the_installed_worker_command_says_it_too() -> None:
    """The entry point users and `streams dev` start a worker with, as a process of its own."""
    result = subprocess.run([sys.executable, "-m", "streams.cli", "worker"], capture_output=True, text=True,
                            env={**os.environ, "STREAMS_WEB_PORT": "abc"}, cwd=ROOT, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "streams: error: STREAMS_WEB_PORT='abc' is not valid: input should be a valid integer, unable to parse "
        "string as an integer (a good value: STREAMS_WEB_PORT=6066)"]


@pytest.mark.parametrize(("variable", "value", "secret", "shown"), [
    ("STREAMS_SCHEMA_REGISTRY_URL", "https://user:s3cret@reg:80x1", "s3cret", "'https://reg:80x1'"),
    ("STREAMS_BROKER", "kafka://u:pw@h:9x", "pw@", "'kafka://h:9x'"),
    ("STREAMS_BROKER", "kafka://a:1,kafka://u:pw@h:9x", "pw@", "'kafka://a:1,kafka://h:9x'"),
])
def test_a_password_in_a_url_is_never_echoed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                             variable: str, value: str, secret: str, shown: str) -> None:
    monkeypatch.setenv(variable, value)
    code, err = run(monkeypatch, capsys, ["lag"])
    assert code == 2, err
    assert secret not in err
    assert err.startswith(f"streams: error: {variable}={shown} is not valid: the port is not a number")


def test_the_worker_entry_point_echoes_no_password_either() -> None:
    result = subprocess.run([sys.executable, "-m", "streams.cli", "worker"], capture_output=True, text=True,
                            env={**os.environ, "STREAMS_SCHEMA_REGISTRY_URL": "https://user:s3cret@reg:80x1",
                                 "STREAMS_BROKER": "kafka://u:pw@h:9x"}, cwd=ROOT, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "s3cret" not in result.stderr + result.stdout
    assert "pw@" not in result.stderr + result.stdout
    assert "STREAMS_SCHEMA_REGISTRY_URL='https://reg:80x1'" in result.stderr
    assert "STREAMS_BROKER='kafka://h:9x'" in result.stderr


def test_an_unreachable_broker_is_named_without_its_password(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A command's own error line (not a settings one) strips credentials too."""
    from streams.errors import TransientError

    def refuse(*args: object, **kwargs: object) -> None:
        raise TransientError("cannot reach the registry at https://user:s3cret@reg:8081: refused")

    monkeypatch.setattr("streams.cli.lag_cmd.Settings", refuse)
    code, err = run(monkeypatch, capsys, ["lag"])
    assert code == 1
    assert "s3cret" not in err
    assert "https://reg:8081" in err
