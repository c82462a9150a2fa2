"""Cards the domain adds to GET /dashboard: a title and a few numbers, each read from the worker's metrics.

The platform knows no domain.  An app factory describes a card (``Card``: a title and its ``Stat`` s, each naming a
metric family of the worker's registry and the label values it counts) and registers it (``register_card``);
GET /api/cards reads every registered card from the registry at each request, and the dashboard page shows one
box per card.  A stat is the sum of the matching samples (a counter's or a gauge's), or a quantile of a
histogram's matching buckets, estimated as Prometheus's ``histogram_quantile`` does.  The numbers are this
worker's since it started (its own registry): Grafana is where the workers are added up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric

if TYPE_CHECKING:  # streams.app imports streams.web for its metrics
    from streams.app import StreamsApp

__all__ = ["Card", "Stat", "read_card", "register_card"]


@dataclass(frozen=True)
class Stat:
    """One number of a card: ``metric`` is the family's name as registered (a counter's without ``_total``);
    ``where`` the label values a sample must have to count; ``quantile`` (0 to 1) reads a histogram's buckets
    instead of summing; ``unit`` is how the page shows it (``s``: seconds, else a count)."""

    label: str
    metric: str
    where: Mapping[str, str] = field(default_factory=dict)
    quantile: float | None = None
    unit: str = ""


@dataclass(frozen=True)
class Card:
    title: str
    stats: tuple[Stat, ...]
    hint: str = ""  # one line under the title: what the numbers count


def register_card(app: StreamsApp, card: Card) -> None:
    """Show ``card`` on this worker's dashboard (GET /api/cards), after those registered before it."""
    app.cards.append(card)


def read_card(card: Card, registry: CollectorRegistry) -> dict[str, Any]:
    """The card as GET /api/cards answers it: each stat's value (None: nothing to say yet, as a quantile of no
    observations; or ``error``: the registry has no such metric, which a test of the card should catch)."""
    families = {family.name: family for family in registry.collect()}
    stats = []
    for stat in card.stats:
        family = families.get(stat.metric)
        entry: dict[str, Any] = {"label": stat.label, "unit": stat.unit, "value": None}
        if family is None:
            entry["error"] = f"this worker has no metric {stat.metric}"
        elif stat.quantile is not None:
            entry["value"] = _quantile(stat.quantile, _buckets(family, stat.where))
        else:
            wanted = f"{family.name}_total" if family.type == "counter" else family.name
            entry["value"] = float(sum(sample.value for sample in _matching(family, stat.where)
                                       if sample.name == wanted))
        stats.append(entry)
    return {"title": card.title, "hint": card.hint, "stats": stats}


def _matching(family: Metric, where: Mapping[str, str]) -> Iterable[Any]:
    return (sample for sample in family.samples
            if all(sample.labels.get(name) == value for name, value in where.items()))


def _buckets(family: Metric, where: Mapping[str, str]) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of the matching series added up, by bound."""
    counts: dict[float, float] = {}
    for sample in _matching(family, where):
        if sample.name == f"{family.name}_bucket":
            bound = float(sample.labels["le"])
            counts[bound] = counts.get(bound, 0.0) + sample.value
    return sorted(counts.items())


def _quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """``histogram_quantile(q, ...)`` over cumulative buckets: linear within the bucket the rank falls in; the
    highest finite bound when it falls in the +Inf bucket; None without observations."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower
