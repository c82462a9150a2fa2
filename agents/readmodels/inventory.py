"""Stock read model per SKU: units reserved and released by orders."""

from __future__ import annotations

from typing import TypedDict

from agents.orders.deltas import SkuDelta

__all__ = ["SkuView", "apply_sku"]


class SkuView(TypedDict):
    sku: str
    reserved: int
    released: int
    held: int


def apply_sku(view: SkuView | None, delta: SkuDelta) -> SkuView:
    """The view after the delta (each delta is handed over once: ``streams.recordpath.inbox``)."""
    if view is None:
        view = SkuView(sku=delta["sku"], reserved=0, released=0, held=0)
    reserved = view["reserved"] + delta["reserved"]
    released = view["released"] + delta["released"]
    return SkuView(sku=view["sku"], reserved=reserved, released=released, held=reserved - released)
