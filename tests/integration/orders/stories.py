"""Order stories of every shape for the crash tests, with what the read models must say at the end.

The expectation is computed here, by hand from each story's shape, never by
calling ``agents/``: a bug in the projection must not be able to agree with
itself.  Money is in minor units; every story's total is its price times its
quantities.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from agents.ingest import OrderIngest, Prepared
from tests.integration.orders.builders import NOW, body

__all__ = ["SHAPES", "Expected", "Send", "Story", "write_stories"]

SHAPES = ("completed", "cancelled", "rejected", "same_sku", "resent", "poisoned")


@dataclass
class Send:
    """One record to produce: an event (``prepared``), or a poison record (``raw``) with a key."""

    key: bytes
    prepared: Prepared | None = None
    raw: bytes | None = None


@dataclass
class Story:
    order: str
    shape: str
    customer: str
    sku: str
    lines: list[int]  # quantities, all of ``sku``
    price: int
    sends: list[Send] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.lines) * self.price


@dataclass
class Expected:
    orders: dict[str, dict[str, Any]]
    customers: dict[str, dict[str, Any]]
    skus: dict[str, dict[str, int]]
    by_status: dict[str, int]
    revenue: int
    poison_keys: Counter[bytes]  # dead letters that are not parked records, each exactly once
    parked_keys: Counter[bytes]  # records parked behind them
    placed_ids: set[str]  # event ids of the OrderPlaced events (each fans out to payments, inventory, ...)
    analytics_ids: set[str]  # event ids that must reach analytics (accepted or rejected, not duplicates)


def _event(ingest: OrderIngest, event_type: str, data: dict[str, Any]) -> Send:
    prepared = ingest.prepare(body(event_type, data))
    return Send(key=prepared.key, prepared=prepared)


def write_stories(ingest: OrderIngest, tag: str, per_shape: int, seed: int,
                  stray_poison: int = 10) -> tuple[list[list[Send]], Expected]:
    """Stories of every shape, as rounds of sends (round k: the k-th record of every story, shuffled)."""
    rng = random.Random(seed)
    stories: list[Story] = []
    for shape in SHAPES:
        for i in range(per_shape):
            n = len(stories)
            lines = [1 + n % 3, 2] if shape == "same_sku" else [1 + n % 4]
            price = 150_000 if n % 7 == 0 else 100 + n  # some orders go to fraud review
            stories.append(Story(order=f"{tag}-{shape}-{i}", shape=shape, customer=f"{tag}-c{n % 12}",
                                 sku=f"{tag}-s{n % 9}", lines=lines, price=price))
    for story in stories:
        o = story.order
        items = [{"sku": story.sku, "quantity": q, "unit_price_minor": story.price} for q in story.lines]
        placed = {"order_id": o, "customer_id": story.customer, "currency": "EUR", "placed_at": NOW,
                  "items": items, "total_minor": story.total}
        pay = {"order_id": o, "payment_id": f"pay-{o}", "amount_minor": story.total, "currency": "EUR",
               "authorized_at": NOW}
        reserve = {"order_id": o, "reservation_id": f"res-{o}", "reserved_at": NOW}
        ship = {"order_id": o, "carrier": "dhl", "tracking_number": f"T-{o}", "shipped_at": NOW}
        e = [_event(ingest, "OrderPlaced", placed), _event(ingest, "PaymentAuthorized", pay)]
        if story.shape == "completed":
            e += [_event(ingest, "InventoryReserved", reserve), _event(ingest, "OrderShipped", ship),
                  _event(ingest, "OrderCompleted", {"order_id": o, "completed_at": NOW})]
        elif story.shape == "cancelled":
            e += [_event(ingest, "InventoryReserved", reserve),
                  _event(ingest, "OrderCancelled", {"order_id": o, "reason": "changed mind", "cancelled_at": NOW}),
                  _event(ingest, "PaymentRefunded", {"order_id": o, "payment_id": f"pay-{o}",
                                                     "amount_minor": story.total, "currency": "EUR",
                                                     "refunded_at": NOW}),
                  _event(ingest, "InventoryReleased", {"order_id": o, "reservation_id": f"res-{o}",
                                                       "released_at": NOW})]
        elif story.shape == "rejected":  # shipped before it was paid: refused, then the story goes on
            e.insert(1, _event(ingest, "OrderShipped", ship))
            e.append(_event(ingest, "InventoryReserved", reserve))
        elif story.shape == "same_sku":
            e.append(_event(ingest, "InventoryReserved", reserve))
        elif story.shape == "resent":  # the very same record (same event id) sent twice
            e.insert(2, Send(key=e[1].key, prepared=e[1].prepared))
            e.append(_event(ingest, "InventoryReserved", reserve))
        elif story.shape == "poisoned":  # poison mid-life: the reservation is parked behind it
            e.append(Send(key=o.encode(), raw=b"\x07 not avro"))
            e.append(_event(ingest, "InventoryReserved", reserve))
        story.sends = e
    strays = [Send(key=f"{tag}-stray-{i}".encode(), raw=b"\x07 stray poison") for i in
              range(stray_poison)]
    rounds: list[list[Send]] = []
    for k in range(max(len(s.sends) for s in stories)):
        batch = [s.sends[k] for s in stories if k < len(s.sends)]
        if k == 1:
            batch += strays
        rng.shuffle(batch)
        rounds.append(batch)
    return rounds, _expect(stories, strays)


def _expect(stories: list[Story], strays: list[Send]) -> Expected:
    orders: dict[str, dict[str, Any]] = {}
    customers: dict[str, dict[str, Any]] = {}
    skus: dict[str, dict[str, int]] = defaultdict(lambda: {"reserved": 0, "released": 0, "held": 0})
    by_status: Counter[str] = Counter()
    revenue = 0
    poison: Counter[bytes] = Counter(s.key for s in strays)
    parked: Counter[bytes] = Counter()
    placed_ids: set[str] = set()
    analytics: set[str] = set()
    for story in stories:
        total, units = story.total, sum(story.lines)
        status, paid, refunded, reserved, released = "reserved", total, 0, True, False
        history = ["OrderPlaced", "PaymentAuthorized", "InventoryReserved"]
        if story.shape == "completed":
            status = "completed"
            history += ["OrderShipped", "OrderCompleted"]
        elif story.shape == "cancelled":
            status, refunded, released = "cancelled", total, True
            history += ["OrderCancelled", "PaymentRefunded", "InventoryReleased"]
        elif story.shape == "poisoned":
            status, reserved = "paid", False
            history = history[:2]
            poison[story.order.encode()] += 1
            parked[story.order.encode()] += 1
        orders[story.order] = {"status": status, "paid_minor": paid, "refunded_minor": refunded,
                               "reserved": reserved, "released": released, "history": history,
                               "customer_id": story.customer, "total_minor": total}
        by_status[status] += 1
        revenue += paid - refunded
        customer = customers.setdefault(story.customer, {"order_count": 0, "order_ids": set(), "value": 0})
        customer["order_count"] += 1
        customer["order_ids"].add(story.order)
        customer["value"] += total - refunded
        if reserved:
            skus[story.sku]["reserved"] += units
        if released:
            skus[story.sku]["released"] += units
        sku = skus[story.sku]
        sku["held"] = sku["reserved"] - sku["released"]
        events = [s for s in story.sends if s.prepared is not None]
        placed_ids.add(events[0].prepared.envelope.event_id)  # type: ignore[union-attr]
        parked_id = events[-1].prepared.envelope.event_id if story.shape == "poisoned" else None  # type: ignore[union-attr]
        analytics.update(str(s.prepared.envelope.event_id) for s in events  # type: ignore[union-attr]
                         if s.prepared.envelope.event_id != parked_id)  # type: ignore[union-attr]
    return Expected(orders=orders, customers=customers, skus=dict(skus), by_status=dict(by_status),
                    revenue=revenue, poison_keys=poison, parked_keys=parked,
                    placed_ids={str(i) for i in placed_ids}, analytics_ids=analytics)
