"""Static membership and heartbeat settings: defaults, the instance id kept in the data dir, validation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from streams.app import build_app
from streams.membership import INSTANCE_ID_FILE, heartbeat_interval_s, instance_id
from streams.settings import Settings, explain_invalid


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STREAMS_INSTANCE_ID", "STREAMS_HEARTBEAT_INTERVAL_S", "STREAMS_SESSION_TIMEOUT_S",
                 "STREAMS_APP_ID", "STREAMS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_the_default_id_is_made_on_first_start_and_kept_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "w", app_id="orders-app")
    first = instance_id(settings)
    assert first is not None
    assert re.fullmatch(r"orders-app-[0-9a-f]{8}", first), first
    assert (tmp_path / "w" / INSTANCE_ID_FILE).read_text().split()[0] == first
    assert instance_id(settings) == first  # a restart reads it back
    assert instance_id(Settings(data_dir=tmp_path / "w", app_id="other")) == first  # whatever the app id now
    other = instance_id(Settings(data_dir=tmp_path / "v", app_id="orders-app"))
    assert other not in (None, first)  # another worker, another data dir: another id


def test_an_unusable_kept_id_is_replaced(tmp_path: Path) -> None:
    (tmp_path / INSTANCE_ID_FILE).write_text("")  # e.g. a file truncated by hand
    made = instance_id(Settings(data_dir=tmp_path, app_id="a b/c"))
    assert made is not None
    assert re.fullmatch(r"a-b-c-[0-9a-f]{8}", made), made  # only Kafka's legal characters
    assert (tmp_path / INSTANCE_ID_FILE).read_text().split()[0] == made


def test_a_worker_on_another_address_gets_a_new_id(tmp_path: Path) -> None:
    """Its old id would bring back its assignment without a rebalance, and the others would keep its old address."""
    first = instance_id(Settings(data_dir=tmp_path, web_port=7001))
    assert instance_id(Settings(data_dir=tmp_path, web_port=7001)) == first
    moved = instance_id(Settings(data_dir=tmp_path, web_port=7002))
    assert moved not in (None, first)
    assert instance_id(Settings(data_dir=tmp_path, web_port=7002)) == moved
    assert instance_id(Settings(data_dir=tmp_path, web_host="10.0.0.5", web_port=7002)) not in (None, moved)


def test_the_setting_wins_and_empty_turns_static_membership_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMS_INSTANCE_ID", "worker-7")
    assert instance_id(Settings(data_dir=tmp_path)) == "worker-7"
    monkeypatch.setenv("STREAMS_INSTANCE_ID", "")
    assert instance_id(Settings(data_dir=tmp_path)) is None
    assert not (tmp_path / INSTANCE_ID_FILE).exists()  # nothing made when it is not used


def test_an_illegal_instance_id_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMS_INSTANCE_ID", "worker 7")
    with pytest.raises(ValidationError) as caught:
        Settings()
    line = explain_invalid(caught.value)
    assert line.startswith("STREAMS_INSTANCE_ID='worker 7' is not valid"), line
    assert "STREAMS_INSTANCE_ID=orders-app-1f2e3d4c" in line, line


@pytest.mark.parametrize(("session", "expected"), [(60.0, 3.0), (10.0, 10 / 3), (6.0, 2.0)])
def test_the_heartbeat_defaults_to_a_third_of_the_session_timeout_at_most_3_s(
        monkeypatch: pytest.MonkeyPatch, session: float, expected: float) -> None:
    monkeypatch.setenv("STREAMS_SESSION_TIMEOUT_S", str(session))
    assert heartbeat_interval_s(Settings()) == pytest.approx(min(expected, 3.0))
    monkeypatch.setenv("STREAMS_HEARTBEAT_INTERVAL_S", "1.5")
    assert heartbeat_interval_s(Settings()) == 1.5


def test_a_heartbeat_not_shorter_than_the_session_timeout_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMS_SESSION_TIMEOUT_S", "10")
    monkeypatch.setenv("STREAMS_HEARTBEAT_INTERVAL_S", "10")
    with pytest.raises(ValidationError) as caught:
        Settings()
    line = explain_invalid(caught.value)
    assert line.startswith("STREAMS_HEARTBEAT_INTERVAL_S='10' is not valid: must be less than "
                           "STREAMS_SESSION_TIMEOUT_S (10 s)"), line
    assert "(a good value: STREAMS_HEARTBEAT_INTERVAL_S=3)" in line, line
    monkeypatch.setenv("STREAMS_HEARTBEAT_INTERVAL_S", "9.5")
    assert Settings().heartbeat_interval_s == 9.5


def test_the_app_gives_faust_the_id_and_the_heartbeat(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, session_timeout_s=12)
    app = build_app(settings)
    assert app.conf.consumer_group_instance_id == instance_id(settings)
    assert app.conf.broker_heartbeat_interval == 3.0
    assert app.conf.broker_session_timeout == 12
    off = build_app(Settings(data_dir=tmp_path / "off", instance_id=""))
    assert off.conf.consumer_group_instance_id is None
