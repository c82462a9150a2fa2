"""The README's settings tables name every setting, as the variable a user sets, and nothing else: the platform's
(``streams.settings.Settings``) and the order domain's (``agents.settings.OrderSettings``)."""

from __future__ import annotations

import re
from pathlib import Path

from agents.settings import OrderSettings
from streams.settings import variables

README = Path(__file__).resolve().parents[2] / "README.md"


def _table() -> list[str]:
    section = README.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE)


def test_every_setting_is_in_the_readme_table_once() -> None:
    rows = _table()
    assert len(rows) == len(set(rows)), rows
    assert sorted(rows) == sorted(variable for variable, _ in [*variables(), *variables(OrderSettings)])


def test_the_domains_settings_have_a_table_of_their_own_after_the_platforms() -> None:
    section = README.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    domain = section.split("\n### Settings of the order domain\n", 1)[1]
    rows = re.findall(r"^\| `([A-Z_]+)` \|", domain, flags=re.MULTILINE)
    assert rows == [variable for variable, _ in variables(OrderSettings)]
