"""Which new traces are recorded: a ratio, minus the requests operators make all day, plus what batches join.

Parent-based, as OpenTelemetry's ``parentbased_traceidratio``: a span with a parent
(a record's ``traceparent``, a request's) follows its parent's choice, so a trace is
recorded whole or not at all.  For a root span this sampler adds two rules:

* scrapes and probes (``GET /metrics``, ``/health``, ``/api/lag``, the dashboard) start
  no trace: Prometheus would otherwise fill the tracing backend with one a scrape;
* a span that links to a recorded span (a read-model batch joining several events'
  traces) is recorded, so every recorded trace finds the batch that applied it.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

__all__ = ["QUIET_ROUTES", "RootSampler", "sampler"]

QUIET_ROUTES = frozenset({"GET /metrics", "GET /health", "GET /api/lag", "GET /api/cards", "GET /dashboard",
                          "GET /openapi.json"})
"""Server spans (``<method> <route>``, as the aiohttp instrumentation names them) that never start a trace."""


class RootSampler(Sampler):
    """The choice for spans without a parent; ``ratio`` of the rest, by trace id."""

    def __init__(self, ratio: float) -> None:
        self.ratio = TraceIdRatioBased(ratio)

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str,
                      kind: SpanKind | None = None, attributes: Attributes = None,
                      links: Sequence[Link] | None = None, trace_state: TraceState | None = None) -> SamplingResult:
        if kind is SpanKind.SERVER and name in QUIET_ROUTES:
            return SamplingResult(Decision.DROP)
        if links and any(link.context.trace_flags.sampled for link in links):
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)
        return self.ratio.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"StreamsRoot{{{self.ratio.get_description()}}}"


def sampler(ratio: float) -> Sampler:
    """``STREAMS_TRACE_SAMPLE_RATIO``'s sampler: parent-based, ``RootSampler`` for roots."""
    return ParentBased(root=RootSampler(ratio))
