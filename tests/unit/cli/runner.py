"""Running the ``streams`` command in this process, as a user's shell would, for tests without a broker."""

from __future__ import annotations

import sys

import pytest

from streams.cli import main


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``streams *args``: its exit code and what it wrote to stderr."""
    monkeypatch.setattr(sys, "argv", ["streams", *args])
    with pytest.raises(SystemExit) as info:
        main()
    code = info.value.code
    assert isinstance(code, int)
    return code, capsys.readouterr().err
