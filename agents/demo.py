"""The order stories ``streams demo`` tells: events to produce and what the read models must then say.

Pure data, no I/O: ``create_demo(settings, orders=..., seed=...)`` returns a
``streams.demo.Scenario`` that the platform's demo runner produces through
``create_ingest`` and checks over HTTP.  Every story is a path the lifecycle
allows (``agents.orders.state_machine``); each order's events share one
correlation id, and each event's causation id is the event before it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agents.fanout import FRAUD_REVIEW_OVER_MINOR
from streams.demo import DemoCheck, DemoStep, Scenario
from streams.settings import Settings

__all__ = ["STORIES", "Story", "create_demo", "scenario"]

_NAMESPACE = uuid.UUID("5b0c6f1e-8d0a-4c55-9d2e-3f1f8f5d2a71")
_CATALOGUE = (("sku-espresso-beans", 1299), ("sku-grinder", 8900), ("sku-kettle", 4550), ("sku-filter-papers", 399))
_BIG_TICKET = ("sku-espresso-machine", FRAUD_REVIEW_OVER_MINOR + 25_000)


@dataclass(frozen=True)
class Story:
    """One way an order goes: the event types after OrderPlaced, and the status it ends in."""

    name: str
    after_placed: tuple[str, ...]
    final_status: str
    weight: int


STORIES = (
    Story("completed", ("PaymentAuthorized", "InventoryReserved", "OrderShipped", "OrderCompleted"), "completed", 6),
    Story("in transit", ("PaymentAuthorized", "InventoryReserved", "OrderShipped"), "shipped", 2),
    Story("payment failed, cancelled", ("PaymentFailed", "OrderCancelled"), "cancelled", 2),
    Story("out of stock, cancelled and refunded",
          ("PaymentAuthorized", "InventoryReservationFailed", "OrderCancelled", "PaymentRefunded"), "cancelled", 1),
    Story("cancelled by the customer: refunded, stock released",
          ("PaymentAuthorized", "InventoryReserved", "OrderCancelled", "PaymentRefunded", "InventoryReleased"),
          "cancelled", 1),
)


def create_demo(settings: Settings, *, orders: int, seed: int) -> Scenario:
    """What ``streams demo`` loads (beside ``create_app``); ``settings`` is unused: the stories are fixed."""
    del settings
    return scenario(orders=orders, seed=seed)


def scenario(*, orders: int, seed: int, start: datetime | None = None) -> Scenario:
    """``orders`` orders (every story at least once when there are enough), interleaved as a shop's traffic is.

    The first order is a big-ticket one (routed to fraud review).  Ids are derived from ``seed``: a
    second run with the same seed produces the same events again, which the read models then ignore
    (idempotency); another seed tells new stories.
    """
    if orders < 1:
        raise ValueError("orders must be at least 1")
    rng = random.Random(seed)
    run = uuid.uuid5(_NAMESPACE, str(seed)).hex[:6]
    clock = (start or datetime(2026, 11, 22, 9, 0, tzinfo=UTC)).astimezone(UTC)
    stories = [STORIES[i] if i < len(STORIES) else rng.choices(STORIES, [s.weight for s in STORIES])[0]
               for i in range(orders)]
    lanes = [_order_events(run, i, story, rng, clock + timedelta(minutes=i)) for i, story in enumerate(stories)]
    steps: list[DemoStep] = []
    last_step: dict[str, int] = {}
    for lane in _interleave(lanes, rng):
        steps.append(lane)
        last_step[lane.body["data"]["order_id"]] = len(steps) - 1
    checks: list[DemoCheck] = []
    for i, story in enumerate(stories):
        order_id = _order_id(run, i)
        label = f"{order_id}: {story.name}" + (" (fraud review)" if i == 0 else "")
        checks.append(DemoCheck(label, f"/orders/{order_id}", (last_step[order_id],),
                                {"status": story.final_status}))
    for customer in sorted({_customer_id(run, i) for i in range(orders)}):
        placed = _placed_steps(steps, customer)
        checks.append(DemoCheck(f"customer {customer}", f"/customers/{customer}", placed,
                                {"order_count": len(placed)}))
    return Scenario(steps=tuple(steps), checks=tuple(checks), poison_key=f"demo-{run}-poison",
                    links=("/dashboard", "/stats", f"/orders/{_order_id(run, 0)}", "/metrics"))


def _order_id(run: str, i: int) -> str:
    return f"demo-{run}-{i + 1:03d}"


def _customer_id(run: str, i: int) -> str:
    return f"cust-{run}-{i % 3 + 1}"


def _placed_steps(steps: list[DemoStep], customer: str) -> tuple[int, ...]:
    """The steps of this customer's OrderPlaced events: the writes its read model waits for.

    Every one of them, not only the last: the orders live on different partitions, and a wait
    for one partition's position says nothing of the others.
    """
    return tuple(n for n, step in enumerate(steps)
                 if step.body["type"] == "OrderPlaced" and step.body["data"]["customer_id"] == customer)


def _order_events(run: str, i: int, story: Story, rng: random.Random, at: datetime) -> list[DemoStep]:
    order_id = _order_id(run, i)
    lines = [(*_BIG_TICKET, 1)] if i == 0 else \
        [(sku, price, rng.randint(1, 4)) for sku, price in rng.sample(_CATALOGUE, rng.randint(1, 3))]
    items = [{"sku": sku, "quantity": quantity, "unit_price_minor": price} for sku, price, quantity in lines]
    total = sum(price * quantity for _, price, quantity in lines)
    ids = [str(uuid.uuid5(_NAMESPACE, f"{order_id}/{n}")) for n in range(len(story.after_placed) + 1)]
    types = ("OrderPlaced", *story.after_placed)
    steps = []
    for n, event_type in enumerate(types):
        data = _DATA[event_type](order_id, total, _stamp(at + timedelta(seconds=30 * n)))
        if event_type == "OrderPlaced":
            data.update(customer_id=_customer_id(run, i), items=items, total_minor=total,
                        channel="web" if i % 2 else "app")
        steps.append(DemoStep({"type": event_type, "data": data, "event_id": ids[n],
                               "correlation_id": ids[0], "causation_id": ids[n - 1] if n else ids[0]}))
    return steps


def _interleave(lanes: list[list[DemoStep]], rng: random.Random) -> list[DemoStep]:
    """Merge the orders' event lists at random, each list keeping its own order."""
    pending = [list(lane) for lane in lanes if lane]
    merged: list[DemoStep] = []
    while pending:
        lane = rng.choice(pending)
        merged.append(lane.pop(0))
        if not lane:
            pending.remove(lane)
    return merged


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _payment(order_id: str) -> str:
    return f"pay-{order_id}"


def _reservation(order_id: str) -> str:
    return f"res-{order_id}"


_DATA: dict[str, Callable[[str, int, str], dict[str, Any]]] = {
    "OrderPlaced": lambda o, total, t: {"order_id": o, "currency": "EUR", "placed_at": t},
    "PaymentAuthorized": lambda o, total, t: {"order_id": o, "payment_id": _payment(o), "amount_minor": total,
                                              "currency": "EUR", "authorized_at": t},
    "PaymentFailed": lambda o, total, t: {"order_id": o, "reason": "card declined", "failed_at": t},
    "InventoryReserved": lambda o, total, t: {"order_id": o, "reservation_id": _reservation(o), "reserved_at": t},
    "InventoryReservationFailed": lambda o, total, t: {"order_id": o, "reason": "out of stock", "failed_at": t},
    "OrderShipped": lambda o, total, t: {"order_id": o, "carrier": "dhl", "tracking_number": f"JD{o[-3:]}",
                                         "shipped_at": t},
    "OrderCompleted": lambda o, total, t: {"order_id": o, "completed_at": t},
    "OrderCancelled": lambda o, total, t: {"order_id": o, "reason": "customer request", "cancelled_at": t},
    "PaymentRefunded": lambda o, total, t: {"order_id": o, "payment_id": _payment(o), "amount_minor": total,
                                            "currency": "EUR", "refunded_at": t},
    "InventoryReleased": lambda o, total, t: {"order_id": o, "reservation_id": _reservation(o), "released_at": t},
}
