"""Trace and span ids in the worker's log lines, so that a line leads to its trace.

With tracing on, every log record carries ``otelTraceID`` and ``otelSpanID``
(OpenTelemetry's logging instrumentation, ``streams.tracing.setup``); the worker's
formats (mode's, which Faust uses) get them appended.  A line logged while a record
or request is processed names its span; any other shows zeros.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TRACE_FIELDS", "worker_logging_config"]

TRACE_FIELDS = " trace_id=%(otelTraceID)s span_id=%(otelSpanID)s"


def worker_logging_config() -> dict[str, Any]:
    """``logging_config`` for ``faust.Worker``: mode's two formatters, each with the trace fields."""
    from mode.utils.logging import DEFAULT_COLOR_FORMAT, DEFAULT_COLORS, DEFAULT_FORMAT

    return {
        "merge": True,  # mode's handlers and levels, these formatters (it pops the key)
        "formatters": {
            "default": {"()": "mode.utils.logging.DefaultFormatter", "format": DEFAULT_FORMAT + TRACE_FIELDS},
            "colored": {"()": "mode.utils.logging.ExtensionFormatter", "format": DEFAULT_COLOR_FORMAT + TRACE_FIELDS,
                        "log_colors": DEFAULT_COLORS},
        },
    }
