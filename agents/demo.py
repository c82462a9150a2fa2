"""The order stories ``streams demo`` tells: events to produce and what the read models must then say.

Pure data, no I/O: ``create_demo(settings, orders=..., seed=...)`` returns a
``streams.demo.Scenario`` that the platform's demo runner produces through
``create_ingest`` and checks over HTTP.  Two kinds, by the order saga setting
(STREAMS_SAGA, read here as the worker reads it):

* the saga on (``saga_scenario``): the demo places orders and nothing else; the
  worker's saga and services (STREAMS_SIMULATED_SERVICES=true) take each one
  through payment, stock and shipment.  Every order's end is predicted from the
  STREAMS_SIM_* settings (the simulated services decide failures by a hash of
  the command id, so which orders are declined is known beforehand) and watched
  over ``GET /sagas/{order_id}`` and ``GET /orders/{order_id}``.  The demo's
  environment must say what the worker's says (the same ``.env``, or the same
  shell): a prediction made from other settings is reported as a failed story.
* the saga off (``scenario``): the demo tells whole stories, playing the
  services itself.  Every story is a path the lifecycle allows
  (``agents.orders.state_machine``); each order's events share one correlation
  id, and each event's causation id is the event before it.

The told stories are not mixed with a saga: it would answer them too (two
payments for one order, say).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agents.events.models import MAX_MINOR
from agents.fanout import FRAUD_REVIEW_OVER_MINOR
from agents.saga.state import COMMANDS, record_id
from agents.services.base import chance
from agents.settings import OrderSettings
from streams.demo import DemoCheck, DemoGate, DemoRead, DemoStep, DemoWatch, Scenario
from streams.settings import Settings

__all__ = ["STORIES", "SagaStall", "Story", "create_demo", "predict", "saga_scenario", "scenario"]

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
    """What ``streams demo`` loads (beside ``create_app``): the saga's stories when STREAMS_SAGA is on (the
    default), the told ones when it is off; ``settings`` is unused."""
    del settings
    domain = OrderSettings()
    return saga_scenario(orders=orders, seed=seed, domain=domain) if domain.saga else scenario(orders=orders, seed=seed)


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


# The order saga's stories: the demo places orders; the worker's saga and services finish them.

_LIMITED = "sku-last-units"
_LIMITED_PRICE = 299
_SAGA_ENDED = frozenset({"completed", "compensated", "failed"})
_FIXED_ROLES = ("big ticket", "over the limit", "takes the last units", "out of stock")
_MORE_ROLES = (("completed", 8), ("over the limit", 1), ("out of stock", 1))


@dataclass(frozen=True)
class Prediction:
    """How an order's saga ends, given the simulated services' settings: what ``GET /sagas/{id}`` and ``GET
    /orders/{id}`` must then say, and why, in a few words."""

    saga_status: str
    failed_step: str | None
    order_status: str
    why: str


def predict(order_id: str, total_minor: int, in_stock: bool, domain: OrderSettings) -> Prediction:
    """The end of an order's saga with the simulated services of ``domain``: each service decides by its settings and
    a hash of the command id (``agents.services.base.chance``), and the command ids are derived from the order id,
    so the answer is known beforehand.  ``in_stock``: whether its reservation finds the units."""
    silent, attempts = domain.silent, domain.saga_max_attempts
    if "payments" in silent:
        return Prediction("failed", "payment", "failed", f"payment never answered ({attempts} attempts)")
    if total_minor > domain.sim_payment_limit_minor:
        return Prediction("failed", "payment", "failed", "declined: over the payment limit")
    if chance(record_id(order_id, "AuthorizePayment"), "payment") < domain.sim_payment_failure_rate:
        return Prediction("failed", "payment", "failed", "declined by the issuer (the failure rate)")
    if "inventory" in silent:
        return Prediction("compensated", "inventory", "failed",
                          f"the reservation never answered ({attempts} attempts): refunded")
    if not in_stock:
        return Prediction("compensated", "inventory", "failed", "out of stock: refunded")
    if "shipping" in silent:
        return Prediction("compensated", "shipment", "failed",
                          f"the shipment timed out ({attempts} attempts): stock released, refunded")
    if chance(record_id(order_id, "CreateShipment"), "shipment") < domain.sim_shipping_failure_rate:
        return Prediction("compensated", "shipment", "failed",
                          "no carrier (the failure rate): stock released, refunded")
    return Prediction("completed", None, "completed", "paid, reserved, shipped: completed")


@dataclass(frozen=True)
class SagaStall:
    """Why a saga cannot go on, from its ``GET /sagas/{id}`` answer, or None: it sent its step's command again
    (nobody answered within the step's timeout) to a service that is not meant to be silent, or a compensation is
    stuck.  The same words for every saga stalled alike: the demo prints each line once."""

    silent: frozenset[str]

    def __call__(self, saga: Mapping[str, Any]) -> str | None:
        step = saga.get("step")
        if step is None or step not in COMMANDS:
            return None
        service, command = COMMANDS[step]
        if saga.get("status") == "stuck":
            return (f"a saga is stuck: {command} (to {service}) never answered; see GET /sagas/<order_id>, then "
                    "POST /sagas/<order_id>/retry")
        if service in self.silent:
            return None
        sent = sum(1 for entry in saga.get("history", ()) if entry.get("kind") == "command" and entry.get("type") ==
                   command)
        if sent < 2:
            return None
        return (f"the sagas wait on {step}: {command} was sent again and nobody answers on {service}; does the worker "
                f"run the simulated services (STREAMS_SIMULATED_SERVICES=true), or a real {service} service?")


def saga_scenario(*, orders: int, seed: int, domain: OrderSettings, start: datetime | None = None) -> Scenario:
    """``orders`` orders placed, each taken through the worker's saga; every story at least once with four orders or
    more: a big-ticket order (fraud review), one over the payment limit, one that takes every unit of a SKU and one
    that then finds it out of stock (held back until the first one has its units), more at random.

    SKUs carry the run's id (the simulated warehouse keeps its stock between runs), and the orders that should
    find their units share a SKU with at most as many others as the stock covers, so which sagas get units does
    not depend on the order they ask in.
    """
    if orders < 1:
        raise ValueError("orders must be at least 1")
    rng = random.Random(seed)
    run = uuid.uuid5(_NAMESPACE, str(seed)).hex[:6]
    clock = (start or datetime(2026, 11, 22, 9, 0, tzinfo=UTC)).astimezone(UTC)
    stock, limit = domain.sim_stock, domain.sim_payment_limit_minor
    notes = [f"predicted from this shell's settings (the worker's must be the same): payment limit {limit}, "
             f"decline rate {domain.sim_payment_failure_rate:g}, shipping failure rate "
             f"{domain.sim_shipping_failure_rate:g}, stock {stock} per SKU, silent: {domain.sim_silent or 'none'}"]
    roles = [_FIXED_ROLES[i] if i < len(_FIXED_ROLES) else
             rng.choices([r for r, _ in _MORE_ROLES], [w for _, w in _MORE_ROLES])[0] for i in range(orders)]
    if limit >= MAX_MINOR:
        roles = ["completed" if r == "over the limit" else r for r in roles]
        notes.append("the over-the-limit story is left out: STREAMS_SIM_PAYMENT_LIMIT_MINOR is above any order's total")
    if stock > 1_000_000:  # what one order line may hold
        roles = ["completed" if r in ("takes the last units", "out of stock") else r for r in roles]
        notes.append("the out-of-stock story is left out: STREAMS_SIM_STOCK is more than one order line can take")
    short = [i for i, r in enumerate(roles) if r == "out of stock"]
    for i in short[max(1, stock):]:  # more of them than units would make who gets the units a race
        roles[i] = "completed"
    if "shipping" in domain.silent:
        notes.append("shipping is silent (STREAMS_SIM_SILENT=shipping): every shipment times out and is undone")
    else:
        notes.append("the timeout story is left out: it needs the worker's shipping service silent "
                     "(STREAMS_SIM_SILENT=shipping, on the worker and here)")
    limited = f"{_LIMITED}-{run}"
    per_block = max(1, stock // 2)  # orders sharing a catalogue SKU: at most 2 units each, within the stock
    lines: list[list[tuple[str, int, int]]] = []
    for i, role in enumerate(roles):
        if role == "big ticket":
            lines.append([(f"{_BIG_TICKET[0]}-{run}", _BIG_TICKET[1], 1)])
        elif role == "over the limit":
            lines.append([(f"{_BIG_TICKET[0]}-{run}", limit + 1, 1)])
        elif role == "takes the last units":
            lines.append([(limited, _LIMITED_PRICE, max(1, stock))])
        elif role == "out of stock":
            lines.append([(limited, _LIMITED_PRICE, 1)])
        else:
            lines.append([(f"{sku}-{run}-{i // per_block}", price, rng.randint(1, max(1, min(2, stock))))
                          for sku, price in rng.sample(_CATALOGUE, rng.randint(1, 3))])
    ids = [_order_id(run, i) for i in range(orders)]
    totals = [sum(price * quantity for _, price, quantity in order) for order in lines]
    predictions: list[Prediction] = []
    gates: list[DemoGate | None] = []
    taker = roles.index("takes the last units") if "takes the last units" in roles else None
    for i, role in enumerate(roles):
        gate = None
        if role == "out of stock" and taker is not None:
            first = predictions[taker]
            holds = first.failed_step not in ("payment", "inventory")  # it got the units
            if first.failed_step == "shipment" and "shipping" not in domain.silent:
                gate = DemoGate(f"/sagas/{ids[taker]}", "status", _SAGA_ENDED)  # its units come back at once: after
                holds = False
            else:  # once it has its units (or never will): a saga past inventory, or ended
                gate = DemoGate(f"/sagas/{ids[taker]}", "step", frozenset({"shipment", "release", "refund", None}))
            in_stock = not holds and len([r for r in roles if r == "out of stock"]) <= stock
        else:
            in_stock = all(quantity <= stock for _, _, quantity in lines[i])
        predictions.append(predict(ids[i], totals[i], in_stock, domain))
        gates.append(gate)
    steps = [DemoStep(_placed(run, i, ids[i], lines[i], totals[i], clock + timedelta(minutes=i)), gates[i])
             for i in range(orders)]
    stall = SagaStall(domain.silent)
    watches = []
    for i, (role, prediction) in enumerate(zip(roles, predictions, strict=True)):
        story = prediction.why
        if role == "big ticket":
            story += " (a big ticket: fraud review)"
        elif role == "takes the last units":
            story = f"takes all {max(1, stock)} units of {limited}; {story}"
        elif role == "out of stock":
            story = f"asks {limited} after that; {story}"
        watches.append(DemoWatch(
            f"{ids[i]}: {story}", f"/sagas/{ids[i]}", "status", _SAGA_ENDED,
            {"status": prediction.saga_status, "failed_step": prediction.failed_step},
            show=("status", "failed_step", "reason", "compensations"),
            then=(DemoRead("order", f"/orders/{ids[i]}", {"status": prediction.order_status}),),
            missing="GET /sagas/<order_id> answers 404: the worker runs no order saga (STREAMS_SAGA=false there?); "
                    "turn it on there, or set STREAMS_SAGA=false here too for the stories told without one",
            stalled=stall))
    checks = []
    for customer in sorted({_customer_id(run, i) for i in range(orders)}):
        placed = _placed_steps(steps, customer)
        checks.append(DemoCheck(f"customer {customer}", f"/customers/{customer}", placed,
                                {"order_count": len(placed)}))
    return Scenario(steps=tuple(steps), checks=tuple(checks), poison_key=f"demo-{run}-poison",
                    links=("/dashboard", f"/sagas/{ids[0]}", f"/orders/{ids[0]}", "/metrics"),
                    watches=tuple(watches), watch_s=_watch_bound(orders, domain), notes=tuple(notes),
                    watch_title="what the order saga did")


def _watch_bound(orders: int, domain: OrderSettings) -> float:
    """Seconds the sagas may take in all: a few with answering services, two chains of timeouts (the held-back
    order waits for another) with a silent one."""
    bound = 30 + 0.05 * orders
    if domain.silent:
        waits = sum(domain.saga_step_timeout_s * 2 ** (attempt - 1) * 1.2
                    for attempt in range(1, domain.saga_max_attempts + 1))
        bound += 2 * (waits + domain.saga_tick_s)
    return bound


def _placed(run: str, i: int, order_id: str, lines: list[tuple[str, int, int]], total: int,
            at: datetime) -> dict[str, Any]:
    event_id = str(uuid.uuid5(_NAMESPACE, f"{order_id}/0"))
    items = [{"sku": sku, "quantity": quantity, "unit_price_minor": price} for sku, price, quantity in lines]
    return {"type": "OrderPlaced", "event_id": event_id, "correlation_id": event_id, "causation_id": event_id,
            "data": {"order_id": order_id, "customer_id": _customer_id(run, i), "items": items, "total_minor": total,
                     "currency": "EUR", "channel": "web" if i % 2 else "app", "placed_at": _stamp(at)}}
