"""Where order events go besides the read models: the fan-out rules, as data.

Each row: the event type it applies to (``*``: every type), an optional
content filter (an EventBridge event pattern over the event's Avro fields),
the target topic, and an optional transform of the event into a command.
Only events the order lifecycle accepted go out (a rejected transition is not
a fact to act on), except to ``analytics``, which takes every event
(``rejected=True``: a refused transition still happened, and is worth
counting).  ``streams.routing.Fanout`` checks every row at start-up.

Money is in minor units: the fraud-review threshold of 1000.00 in the order's
currency is ``total_minor > 100000``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.routing import ANY_EVENT, Rule

__all__ = ["FRAUD_REVIEW_OVER_MINOR", "RULES"]

FRAUD_REVIEW_OVER_MINOR = 100_000


def authorize_payment(placed: Mapping[str, Any]) -> dict[str, Any]:
    return {"order_id": placed["order_id"], "customer_id": placed["customer_id"],
            "amount_minor": placed["total_minor"], "currency": placed["currency"]}


def reserve_inventory(placed: Mapping[str, Any]) -> dict[str, Any]:
    return {"order_id": placed["order_id"],
            "lines": [{"sku": item["sku"], "quantity": item["quantity"]} for item in placed["items"]]}


RULES: tuple[Rule, ...] = (
    Rule("payments", source="OrderPlaced", target="payments",
         command="AuthorizePayment", transform=authorize_payment),
    Rule("inventory", source="OrderPlaced", target="inventory",
         command="ReserveInventory", transform=reserve_inventory),
    Rule("notifications", source="OrderPlaced", target="notifications"),
    Rule("fraud-review", source="OrderPlaced", target="fraud-review",
         pattern={"total_minor": [{"numeric": [">", FRAUD_REVIEW_OVER_MINOR]}]}),
    Rule("analytics", source=ANY_EVENT, target="analytics", rejected=True),
)
