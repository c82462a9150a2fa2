"""Faust's own producer is idempotent, as every other producer of the project.

faust-streaming builds its aiokafka producer from ``Producer._settings_default`` (``producer_acks``, set to
all), the credentials, then ``Producer._settings_extra``, which asks for idempotence only in Faust's
exactly-once mode.  The records it still sends (Faust's leader topic; a table or topic a user's agent
writes with Faust's own ``send``) then could be written twice by a retry.  ``IdempotentProducer`` adds
``enable_idempotence`` in ``_settings_extra`` (both pinned in ``pins``): what the project's records go
through, the outbox and the durable producer, is librdkafka with ``enable.idempotence`` already.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

__all__ = ["IdempotentProducer"]


class IdempotentProducer(faust_aiokafka.Producer):
    def _settings_extra(self) -> Mapping[str, Any]:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}
