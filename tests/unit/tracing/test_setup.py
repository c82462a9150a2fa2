"""Turning tracing on or off from settings, without ever setting the process's global tracer provider here.

``start_tracing`` with an endpoint sets OpenTelemetry's global provider, which a process can set once: these
tests only take the paths that stay off (the worker and CLI tests against a broker cover the rest).
"""

from __future__ import annotations

import logging

import pytest
from opentelemetry import trace
from pydantic import ValidationError

from streams.settings import Settings, explain_invalid
from streams.tracing import setup
from streams.tracing.setup import TRACES_PATH, WORKER_SERVICE, Tracing, start_tracing, traces_url

TRACING_VARIABLES = ("STREAMS_OTLP_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_TRACES_SAMPLER", "STREAMS_SERVICE_NAME")


@pytest.fixture(autouse=True)
def _no_tracing_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What these tests set is all there is: none of the caller's tracing variables."""
    for name in TRACING_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("endpoint", "url"), [
    ("http://collector:4318", "http://collector:4318/v1/traces"),
    ("http://collector:4318/", "http://collector:4318/v1/traces"),
    ("https://user:pw@collector", "https://user:pw@collector/v1/traces"),
    ("http://collector:4318/v1/traces", "http://collector:4318/v1/traces"),
    ("http://gateway/otlp/traces", "http://gateway/otlp/traces"),
])
def test_a_bare_base_url_gets_the_traces_path_and_an_explicit_path_is_kept(endpoint: str, url: str) -> None:
    assert traces_url(endpoint) == url
    assert TRACES_PATH == "/v1/traces"


@pytest.mark.parametrize("endpoint", ["grpc://collector:4317", "collector:4318", "http://", "http://collector:x"])
def test_a_non_http_endpoint_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    monkeypatch.setenv("STREAMS_OTLP_ENDPOINT", endpoint)
    with pytest.raises(ValidationError) as raised:
        Settings()
    explained = explain_invalid(raised.value)
    assert explained.startswith("STREAMS_OTLP_ENDPOINT=")
    assert "(a good value: STREAMS_OTLP_ENDPOINT=http://127.0.0.1:4318)" in explained


def test_a_refused_endpoint_is_shown_without_its_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMS_OTLP_ENDPOINT", "grpc://user:s3cret@collector:4317")
    with pytest.raises(ValidationError) as raised:
        Settings()
    explained = explain_invalid(raised.value)
    assert "s3cret" not in explained
    assert "grpc://collector:4317" in explained


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_endpoint_means_tracing_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("STREAMS_OTLP_ENDPOINT", value)
    settings = Settings()
    assert settings.otlp_endpoint is None
    assert not start_tracing(settings, WORKER_SERVICE).enabled


def test_an_http_endpoint_is_kept_as_given() -> None:
    assert Settings(otlp_endpoint="https://collector:4318").otlp_endpoint == "https://collector:4318"


@pytest.mark.parametrize("given", [
    {},
    {"otlp_endpoint": "http://collector:4318", "OTEL_SDK_DISABLED": "true"},
    {"otlp_endpoint": "http://collector:4318", "OTEL_SDK_DISABLED": True},
], ids=["no endpoint", "sdk disabled (text)", "sdk disabled"])
def test_tracing_stays_off_and_touches_nothing_without_an_endpoint_or_with_the_sdk_disabled(
        given: dict[str, object]) -> None:
    settings = Settings(**given)  # type: ignore[arg-type]  # aliases, as the environment names them
    assert settings.otlp_endpoint is None or settings.otel_sdk_disabled  # else this would set the global provider
    tracing = start_tracing(settings, WORKER_SERVICE)
    assert not tracing.enabled
    assert tracing.provider is None
    assert isinstance(tracing.tracer, trace.NoOpTracer)
    assert tracing.describe() == "tracing off"
    tracing.close()
    tracing.instrument_web()  # off: instruments nothing
    assert setup._started is None
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)  # the global provider was never set


def test_the_sdk_switch_is_read_from_opentelemetrys_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMS_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    settings = Settings()
    assert settings.otel_sdk_disabled
    assert not start_tracing(settings, WORKER_SERVICE).enabled


@pytest.mark.parametrize(("endpoint", "shown"), [
    ("http://user:s3cret@collector:4318/v1/traces", "http://collector:4318/v1/traces"),
    ("https://s3cret@collector/v1/traces", "https://collector/v1/traces"),
])
def test_describe_never_shows_the_endpoints_credentials(endpoint: str, shown: str) -> None:
    assert Tracing(enabled=True, endpoint=endpoint).describe() == f"traces to {shown}"


def test_describe_says_off_when_off() -> None:
    assert Tracing.off().describe() == "tracing off"
    assert Tracing(enabled=True).describe() == "tracing off"  # no endpoint: nothing to name


def test_an_unreachable_collector_is_one_line_naming_the_setting_not_a_warning_per_retry() -> None:
    from streams.tracing.setup import _OneLineExportErrors

    quiet = _OneLineExportErrors("http://collector:4318/v1/traces")
    logger = logging.getLogger("test.otlp.export")
    retry = logger.makeRecord(logger.name, logging.WARNING, __file__, 1,
                              "Transient error %s encountered while exporting %s batch, retrying in %.2fs.",
                              ("HTTPConnectionPool(...): Max retries exceeded", "spans", 0.8), None)
    failed = logger.makeRecord(logger.name, logging.ERROR, __file__, 1,
                               "Failed to export %s batch due to timeout, max retries or shutdown.", ("spans",), None)
    assert not quiet.filter(retry)
    assert quiet.filter(failed)
    line = failed.getMessage()
    assert "\n" not in line
    assert line.startswith("traces not sent to STREAMS_OTLP_ENDPOINT=http://collector:4318/v1/traces:")
    assert "Failed to export spans batch" in line
