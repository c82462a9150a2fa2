"""The domain code the hand-written loop and the Quix Streams app share with our worker, without the worker.

Both baselines run the same pure functions as our agents (``apply_order``, ``apply_customer``, ``apply_sku``,
``apply_stats``), so that they do the same work and give answers that can be held to the same check.  They import
them without the ``agents`` and ``streams`` packages' ``__init__`` (which load Faust and the whole app): the Quix
app runs in a venv of its own (``bench.baselines``: Quix Streams cannot be installed beside our confluent-kafka
pin), where neither Faust nor pydantic are, and the loop's memory should not count Faust's.

Decoding is what a plain consumer of our topics does: the Confluent wire format (magic byte, schema id, Avro) read
with fastavro against the writer schema fetched once per id from the registry, the event type and id from the
envelope headers.  No validation (our worker validates each event with pydantic and checks its key), no dead
letters: a record that does not decode stops the app.
"""

from __future__ import annotations

import io
import json
import sys
import types
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import fastavro

ROOT = Path(__file__).resolve().parent.parent


def _bare(package: str) -> None:
    """``package`` as a namespace without its ``__init__``: its submodules import on their own."""
    if package not in sys.modules:
        module = types.ModuleType(package)
        module.__path__ = [str(ROOT.joinpath(*package.split(".")))]
        sys.modules[package] = module


for _package in ("agents", "streams", "agents.orders", "agents.readmodels"):
    _bare(_package)

from agents.orders.projection import EventMeta, OrderOutcome, apply_order  # noqa: E402
from agents.readmodels.customers import apply_customer  # noqa: E402
from agents.readmodels.inventory import apply_sku  # noqa: E402
from agents.readmodels.stats import STATS_KEY, apply_stats  # noqa: E402
from streams.position import Position  # noqa: E402

__all__ = ["STATS_KEY", "Decoder", "EventMeta", "OrderOutcome", "Position", "apply_customer", "apply_order",
           "apply_sku", "apply_stats"]


def _event(value: Any) -> Any:
    """The decoded record as the projection reads it: attributes, nested records too."""
    if isinstance(value, dict):
        return types.SimpleNamespace(**{k: _event(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_event(v) for v in value]
    return value


class Decoder:
    """Avro in the Confluent wire format, writer schemas fetched from the registry once per id."""

    def __init__(self, registry_url: str) -> None:
        self.registry_url = registry_url.rstrip("/")
        self._schemas: dict[int, Any] = {}

    def _schema(self, schema_id: int) -> Any:
        schema = self._schemas.get(schema_id)
        if schema is None:
            with urllib.request.urlopen(f"{self.registry_url}/schemas/ids/{schema_id}", timeout=10) as answer:
                schema = fastavro.parse_schema(json.loads(json.load(answer)["schema"]))
            self._schemas[schema_id] = schema
        return schema

    def decode(self, value: bytes, headers: Any, position: Position) -> tuple[Any, EventMeta]:
        """The event (attributes) and what the envelope and Kafka say of it."""
        if value[:1] != b"\x00":
            raise ValueError(f"not the Confluent wire format at {position}")
        record = fastavro.schemaless_reader(io.BytesIO(value[5:]), self._schema(int.from_bytes(value[1:5], "big")),
                                            None)
        envelope = {name: raw.decode() for name, raw in headers or () if raw is not None}
        meta = EventMeta(event_id=envelope["event_id"], event_type=envelope["event_type"], position=position,
                         occurred_at=datetime.fromisoformat(envelope["occurred_at"].replace("Z", "+00:00")))
        return _event(record), meta
