"""The order domain's settings: a bad value is one line naming the variable and a good value, never a traceback."""

from __future__ import annotations

import pytest

from agents.settings import order_settings
from streams.errors import ConfigError


def test_defaults_run_the_saga_without_the_simulated_services(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STREAMS_SAGA", "STREAMS_SIMULATED_SERVICES", "STREAMS_SIM_SILENT"):
        monkeypatch.delenv(name, raising=False)
    settings = order_settings()
    assert (settings.saga, settings.simulated_services, settings.silent) == (True, False, frozenset())


def test_silent_services_are_named_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMS_SIM_SILENT", " shipping, payments ")
    assert order_settings().silent == {"shipping", "payments"}


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("STREAMS_SIM_SILENT", "billing", "STREAMS_SIM_SILENT='billing' is not valid: unknown service(s) billing"),
    ("STREAMS_SAGA_MAX_ATTEMPTS", "0", "STREAMS_SAGA_MAX_ATTEMPTS='0' is not valid"),
    ("STREAMS_SAGA_STEP_TIMEOUT_S", "soon", "STREAMS_SAGA_STEP_TIMEOUT_S='soon' is not valid"),
    ("STREAMS_SIM_WAREHOUSE", "  ", "STREAMS_SIM_WAREHOUSE='  ' is not valid"),
])
def test_a_bad_value_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str,
                                                     says: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        order_settings()
    assert says in caught.value.message
    assert "\n" not in caught.value.message
    assert f"(a good value: {variable}=" in caught.value.message
