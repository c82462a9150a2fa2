"""The README's settings table names every setting, as the variable a user sets, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from streams.settings import variables

README = Path(__file__).resolve().parents[2] / "README.md"


def _table() -> list[str]:
    section = README.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE)


def test_every_setting_is_in_the_readme_table_once() -> None:
    rows = _table()
    assert len(rows) == len(set(rows)), rows
    assert sorted(rows) == sorted(variable for variable, _ in variables())
