"""Turning tracing on for one process: the tracer provider, its exporter and sampler, trace ids in logs.

``start_tracing(settings, service)`` once per process.  With ``STREAMS_OTLP_ENDPOINT``
unset (or ``OTEL_SDK_DISABLED=true``) it returns ``Tracing.off()`` and touches nothing:
the record path then checks one attribute per record and creates no span.

On, spans are batched (``BatchSpanProcessor``) and exported as OTLP protobuf over
HTTP.  OpenTelemetry's own variables keep their meaning: ``OTEL_SERVICE_NAME`` and
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_EXPORTER_OTLP_*`` (headers, timeout, compression,
certificate), ``OTEL_BSP_*`` (batching), ``OTEL_PROPAGATORS`` and
``OTEL_TRACES_SAMPLER`` (which, when set, replaces ``STREAMS_TRACE_SAMPLE_RATIO``).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.logging import LoggingInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from streams.settings import Settings, without_credentials
from streams.tracing.sampling import sampler

__all__ = ["CLI_SERVICE", "TRACES_PATH", "WORKER_SERVICE", "Tracing", "start_tracing", "traces_url"]

log = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
WORKER_SERVICE = "streams-worker"
"""``service.name`` of a worker's spans, unless ``STREAMS_SERVICE_NAME`` or ``OTEL_SERVICE_NAME`` names one."""
CLI_SERVICE = "streams-cli"
"""The same, of ``streams produce``, ``streams demo`` and ``streams dlq redrive``."""
INSTRUMENTATION = "streams"


def traces_url(endpoint: str) -> str:
    """``STREAMS_OTLP_ENDPOINT`` as the exporter wants it: the collector's base URL gets ``/v1/traces``."""
    path = urlsplit(endpoint).path
    return endpoint if path.rstrip("/") else endpoint.rstrip("/") + TRACES_PATH


@dataclass
class Tracing:
    """A process's tracing: ``enabled`` is what the record path checks before it makes any span."""

    enabled: bool
    tracer: trace.Tracer = field(default_factory=lambda: trace.NoOpTracer())
    provider: TracerProvider | None = None
    endpoint: str | None = None

    @classmethod
    def off(cls) -> Tracing:
        return cls(enabled=False)

    def describe(self) -> str:
        """For the startup line: where traces go, or that they don't."""
        if not self.enabled or self.endpoint is None:
            return "tracing off"
        return f"traces to {without_credentials(self.endpoint)}"

    def instrument_web(self) -> None:
        """Trace the requests of every aiohttp application built from now on (the worker's web server).

        The instrumentation replaces ``aiohttp.web.Application`` with a subclass that adds its middleware;
        aiohttp warns about subclassing, which here is the instrumentation's documented way."""
        if not self.enabled:
            return
        from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            instrumentor = AioHttpServerInstrumentor()
            if not instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.instrument(tracer_provider=self.provider)

    def close(self) -> None:
        """Export what is still batched (bounded by the exporter's timeout), then stop."""
        if self.provider is not None:
            self.provider.shutdown()


def start_tracing(settings: Settings, service: str) -> Tracing:
    """Tracing for this process as ``settings`` say; ``service``: its ``service.name`` unless a setting names one.

    Sets the global tracer provider (what instrumentations use) and puts trace and span ids on every log
    record (``otelTraceID``, ``otelSpanID``: ``streams.tracing.logs``)."""
    global _started
    if settings.otlp_endpoint is None or settings.otel_sdk_disabled:
        return Tracing.off()
    if _started is not None:
        return _started  # one tracer provider per process (OpenTelemetry's global)
    attributes = {SERVICE_NAME: settings.service_name} if settings.service_name else {}
    resource = Resource.create(attributes)  # OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service}))
    chosen = None if settings.otel_traces_sampler else sampler(settings.trace_sample_ratio)
    provider = TracerProvider(resource=resource, sampler=chosen)  # sampler None: OTEL_TRACES_SAMPLER's
    endpoint = traces_url(settings.otlp_endpoint)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    quiet = _OneLineExportErrors(without_credentials(endpoint))
    for name in _EXPORT_LOGGERS:
        logging.getLogger(name).addFilter(quiet)
    trace.set_tracer_provider(provider)
    LoggingInstrumentor().instrument(tracer_provider=provider, inject_trace_context=True,
                                     enable_log_auto_instrumentation=False)  # ids on records; logs stay local
    _started = Tracing(enabled=True, tracer=provider.get_tracer(INSTRUMENTATION), provider=provider, endpoint=endpoint)
    return _started


_started: Tracing | None = None

_EXPORT_LOGGERS = ("opentelemetry.exporter.otlp.proto.http.trace_exporter", "opentelemetry.exporter.otlp.common.http")


class _OneLineExportErrors(logging.Filter):
    """The exporter's complaints about an unreachable collector as one line naming the setting.

    OpenTelemetry logs each retry (three or four warnings, with urllib3's whole error, per batch); an operator
    needs to know that traces are not arriving, where they were meant to go, and what to check."""

    def __init__(self, endpoint: str) -> None:
        super().__init__()
        self.endpoint = endpoint

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        if text.startswith("Transient error"):
            return False  # it retries; the outcome is logged once, below
        if text.startswith("Failed to export"):
            record.msg = ("traces not sent to STREAMS_OTLP_ENDPOINT=%s: the collector did not take a batch (%s); "
                          "its spans are dropped, processing goes on")
            record.args = (self.endpoint, (text % record.args) if record.args else text)
        return True
