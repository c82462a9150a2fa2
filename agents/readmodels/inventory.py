"""Stock read model per SKU: units reserved and released by orders."""

from __future__ import annotations

from typing import TypedDict

from agents.orders.deltas import SkuDelta
from agents.readmodels.tracking import already_applied, mark_applied

__all__ = ["SkuView", "apply_sku"]


class SkuView(TypedDict):
    sku: str
    reserved: int
    released: int
    held: int
    applied: dict[str, int]


def apply_sku(view: SkuView | None, delta: SkuDelta) -> SkuView | None:
    """The view after the delta, or ``None`` when the delta was already applied."""
    if view is None:
        view = SkuView(sku=delta["sku"], reserved=0, released=0, held=0, applied={})
    if already_applied(view["applied"], delta["source"]):
        return None
    reserved = view["reserved"] + delta["reserved"]
    released = view["released"] + delta["released"]
    return SkuView(sku=view["sku"], reserved=reserved, released=released, held=reserved - released,
                   applied=mark_applied(view["applied"], delta["source"]))
