from pathlib import Path

import pytest
from pydantic import ValidationError

from streams.settings import Settings, explain_invalid


def test_defaults_are_the_design_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STREAMS_BROKER", "STREAMS_SCHEMA_REGISTRY_URL", "STREAMS_WEB_PORT", "STREAMS_DATA_DIR",
                 "STREAMS_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.broker == "kafka://127.0.0.1:9092"
    assert settings.schema_registry_url == "http://127.0.0.1:8081"
    assert settings.web_port == 6066
    assert settings.data_dir == Path("./.streams")
    assert settings.api_token is None
    assert settings.bootstrap_servers == "127.0.0.1:9092"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMS_BROKER", "kafka://a:1,kafka://b:2")
    monkeypatch.setenv("STREAMS_WEB_PORT", "7000")
    monkeypatch.setenv("STREAMS_API_TOKEN", "s3cret")
    settings = Settings()
    assert settings.bootstrap_servers == "a:1,b:2"
    assert settings.web_port == 7000
    assert settings.api_token is not None
    assert "s3cret" not in repr(settings)
    assert settings.api_token.get_secret_value() == "s3cret"


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.web_port = 1  # type: ignore[misc]


def test_bad_broker_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a broker URL"):
        Settings(broker="nonsense")


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_api_token_means_no_token(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("STREAMS_API_TOKEN", value)
    assert Settings().api_token is None


def test_repartition_linger_defaults_to_50_ms_and_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMS_REPARTITION_LINGER_MS", raising=False)
    assert Settings().repartition_linger_ms == 50.0
    monkeypatch.setenv("STREAMS_REPARTITION_LINGER_MS", "5")
    assert Settings().repartition_linger_ms == 5.0
    for bad in ("0", "-1", "60000"):
        monkeypatch.setenv("STREAMS_REPARTITION_LINGER_MS", bad)
        with pytest.raises(ValidationError, match="repartition_linger_ms"):
            Settings()


def test_an_agent_turns_the_loop_after_every_event_by_default_and_the_hold_is_bounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMS_AGENT_TURN_MS", raising=False)
    assert Settings().agent_turn_ms == 0.0
    monkeypatch.setenv("STREAMS_AGENT_TURN_MS", "1")
    assert Settings().agent_turn_ms == 1.0
    for bad in ("-1", "1000"):
        monkeypatch.setenv("STREAMS_AGENT_TURN_MS", bad)
        with pytest.raises(ValidationError, match="agent_turn_ms"):
            Settings()


def _explained(**values: object) -> str:
    with pytest.raises(ValidationError) as info:
        Settings(**values)  # type: ignore[arg-type]
    return explain_invalid(info.value)


def test_a_secret_setting_is_never_echoed() -> None:
    line = _explained(api_token=123456789)
    assert "123456789" not in line
    assert line.startswith("STREAMS_API_TOKEN=<hidden> is not valid")


def test_an_aliased_setting_is_named_as_the_variable_the_user_set() -> None:
    assert _explained(KAFKA_HOME=1).startswith("KAFKA_HOME=1 is not valid")
    assert "(a good value: KAFKA_HOME=/opt/kafka)" in _explained(KAFKA_HOME=1)
    assert _explained(STREAMS_KAFKA_HOME=1).startswith("STREAMS_KAFKA_HOME=1 is not valid")


def test_validator_messages_do_not_repeat_the_value() -> None:
    line = _explained(schema_registry_url="ftp://user:s3cret@reg:1")
    assert "s3cret" not in line
    assert line.count("reg:1") == 1


def test_the_guarantee_defaults_to_at_least_once_and_takes_only_the_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMS_PROCESSING_GUARANTEE", raising=False)
    assert Settings().processing_guarantee == "at_least_once"
    monkeypatch.setenv("STREAMS_PROCESSING_GUARANTEE", "exactly_once")
    assert Settings().processing_guarantee == "exactly_once"
    monkeypatch.setenv("STREAMS_PROCESSING_GUARANTEE", "exactly-once")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "STREAMS_PROCESSING_GUARANTEE" in explain_invalid(refused.value)


def test_a_transaction_timeout_must_leave_room_for_a_commit_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMS_COMMIT_INTERVAL_S", "5")
    monkeypatch.setenv("STREAMS_TRANSACTION_TIMEOUT_S", "10")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "more than twice STREAMS_COMMIT_INTERVAL_S (5)" in explain_invalid(refused.value)
    monkeypatch.setenv("STREAMS_TRANSACTION_TIMEOUT_S", "11")
    assert Settings().transaction_timeout_s == 11
