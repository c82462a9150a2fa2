"""Distributed tracing with OpenTelemetry: W3C trace context in Kafka headers, spans along the record path.

* ``setup``: ``start_tracing(settings, service)``, once per process (off unless
  ``STREAMS_OTLP_ENDPOINT`` is set);
* ``sampling``: parent-based ratio, no traces for scrapes, batches follow their links;
* ``carrier``: trace context in Kafka headers and in repartition items;
* ``spans``: the record path's spans (``RecordSpans``), made only when tracing is on;
* ``logs``: trace and span ids in the worker's log lines.

HTTP requests are traced by OpenTelemetry's aiohttp-server instrumentation, records
sent by ``POST /events``, ``streams produce`` and redrive by its confluent-kafka one
(``streams.producer``); what neither covers (Faust's consumer, the outbox) is here.
"""

from streams.tracing.carrier import TRACE_HEADERS, continuing, extract, with_context, within
from streams.tracing.logs import worker_logging_config
from streams.tracing.setup import CLI_SERVICE, WORKER_SERVICE, Tracing, start_tracing
from streams.tracing.spans import ATTR, RecordSpans, Traced

__all__ = [
    "ATTR", "CLI_SERVICE", "TRACE_HEADERS", "WORKER_SERVICE", "RecordSpans", "Traced", "Tracing", "continuing",
    "extract", "start_tracing", "with_context", "within", "worker_logging_config",
]
