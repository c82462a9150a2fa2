"""Where order events go besides the read models: the fan-out rules, as data.

Each row: the event type it applies to (``*``: every type), an optional
content filter (an EventBridge event pattern over the event's Avro fields),
and the target topic.  Only events the order lifecycle accepted go out (a
rejected transition is not a fact to act on), except to ``analytics``, which
takes every event (``rejected=True``: a refused transition still happened, and
is worth counting), and to the saga's inbox.  ``streams.routing.Fanout`` checks
every row at start-up.  (A rule may also turn an event into a command; none
does here: the commands to the payment, inventory and shipping services are the
order saga's, ``agents.saga``, each sent when its step comes.)

Money is in minor units: the fraud-review threshold of 1000.00 in the order's
currency is ``total_minor > 100000``.
"""

from __future__ import annotations

from streams.routing import ANY_EVENT, Rule

__all__ = ["FRAUD_REVIEW_OVER_MINOR", "RULES", "SAGA_INBOX"]

SAGA_INBOX = "saga-inbox"  # the target of the saga's rules (``agents.saga.inbox.INBOX_RULES``); the topic is internal

FRAUD_REVIEW_OVER_MINOR = 100_000


RULES: tuple[Rule, ...] = (
    Rule("notifications", source="OrderPlaced", target="notifications"),
    Rule("fraud-review", source="OrderPlaced", target="fraud-review",
         pattern={"total_minor": [{"numeric": [">", FRAUD_REVIEW_OVER_MINOR]}]}),
    Rule("analytics", source=ANY_EVENT, target="analytics", rejected=True),
)
