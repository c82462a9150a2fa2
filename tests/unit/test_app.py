"""``streams.app.StreamsApp``: what it changes of Faust's app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faust
import pytest

from streams.app import build_app, outbox_config
from streams.settings import Settings


async def test_the_app_keeps_no_monitor_sensor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def faust_part(app: Any) -> list[Any]:  # what Faust's on_init_dependencies does with the monitor
        app.sensors.add(app.monitor)
        return []

    monkeypatch.setattr(faust.App, "on_init_dependencies", faust_part)
    app = build_app(Settings(data_dir=tmp_path, app_id="sensors"))
    app.on_init_dependencies()
    assert app.monitor not in list(app.sensors)


def test_the_app_keeps_the_standby_replicas_it_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMS_STANDBY_REPLICAS", raising=False)
    assert build_app(Settings(data_dir=tmp_path / "one")).conf.table_standby_replicas == 1  # the default
    assert build_app(Settings(data_dir=tmp_path / "none", standby_replicas=0)).conf.table_standby_replicas == 0


def test_the_outbox_lingers_as_long_as_it_is_told_and_is_transactional_only_in_exactly_once() -> None:
    assert outbox_config(Settings(outbox_linger_ms=7), "app.w1") == {"linger.ms": 7}
    assert outbox_config(Settings(outbox_linger_ms=0, processing_guarantee="exactly_once",
                                  transaction_timeout_s=30), "app.w1") == {
        "linger.ms": 0, "transactional.id": "app.w1", "transaction.timeout.ms": 30000}
