"""The saga's inbox: what its records are and how each is read.

The inbox is an internal topic keyed by order id, co-partitioned with ``orders``.  It holds three kinds of record:

* a copy of each order event the saga acts on (``INBOX_RULES``: fan-out rules, one per type in ``INPUTS``, for
  events the order lifecycle refused too, since a late reply is refused by the lifecycle and still needs the saga);
* ``SagaTimer``: a step's deadline passed (``agents.saga.timers``), JSON ``{"step", "attempt"}``;
* ``SagaRetry``: an operator asked a stuck saga to try again (``POST /sagas/{order_id}/retry``), JSON ``{}``.

Timers and retries go through the inbox, not straight to the table, so that they are decided by the agent like any
event: once, in order with the order's replies, under the platform's commit protocol.
"""

from __future__ import annotations

import json
from typing import Any

from agents.decoding import OrderEventDecoder
from agents.fanout import SAGA_INBOX
from agents.saga.state import FORWARD, INPUTS, Reply, Retry, SagaInput, Timer
from streams import headers as h
from streams.envelope import Envelope
from streams.errors import DecodeError, ValidationError
from streams.recordpath.records import RawRecord, header
from streams.routing import Rule

__all__ = ["INBOX_RULES", "RETRY", "TIMER", "SagaInbox", "signal"]

TIMER = "SagaTimer"
RETRY = "SagaRetry"
_STEPS = (*FORWARD, "refund", "release")

INBOX_RULES: tuple[Rule, ...] = tuple(Rule(f"saga-{name}", source=name, target=SAGA_INBOX, rejected=True)
                                      for name in INPUTS)
"""The fan-out rules that fill the inbox: each event type the saga acts on, refused or not."""


def signal(kind: str, order_id: str, event_id: str, producer: str, body: dict[str, Any]) -> tuple[
        bytes, bytes, list[tuple[str, bytes]]]:
    """The key, value and headers of a timer or retry record for ``order_id``'s saga."""
    envelope = Envelope.new(kind, producer, event_id=event_id, correlation_id=order_id)
    return order_id.encode(), json.dumps(body).encode(), envelope.to_headers()


class SagaInbox:
    def __init__(self, decoder: OrderEventDecoder) -> None:
        self._decoder = decoder

    async def decode(self, record: RawRecord) -> tuple[str, SagaInput]:
        """The order id and what the record says; ``DecodeError``/``ValidationError`` (a dead letter) if neither."""
        kind = header(record.headers, h.EVENT_TYPE)
        if kind in (TIMER.encode(), RETRY.encode()):
            return self._signal(record, kind.decode())
        decoded = await self._decoder.decode(record)
        envelope = decoded.envelope
        reply = Reply(decoded.meta.event_type, envelope.causation_id, envelope.correlation_id, decoded.fields)
        return decoded.event.order_id, reply

    @staticmethod
    def _signal(record: RawRecord, kind: str) -> tuple[str, SagaInput]:
        if not record.key:
            raise ValidationError(f"a {kind} record needs the order id as its key")
        try:
            body = json.loads(record.value or b"")
            order_id = record.key.decode()
        except (UnicodeDecodeError, ValueError) as exc:
            raise DecodeError(f"a {kind} record that is not JSON with a UTF-8 key: {exc}") from exc
        event_id = Envelope.from_headers(record.headers).event_id
        if kind == RETRY:
            return order_id, Retry(event_id)
        step, attempt = (body.get("step"), body.get("attempt")) if isinstance(body, dict) else (None, None)
        if step not in _STEPS or not isinstance(attempt, int) or attempt < 1:
            raise ValidationError(f"a {kind} record needs a step (one of {', '.join(_STEPS)}) and an attempt >= 1")
        return order_id, Timer(step, attempt, event_id)
