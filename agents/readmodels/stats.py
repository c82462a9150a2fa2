"""Global statistics: orders by status, and revenue per hour (tumbling one-hour windows).

One key holds it all; hours older than ``KEEP_HOURS`` are dropped from the view.
"""

from __future__ import annotations

from typing import TypedDict

from agents.orders.deltas import StatsDelta

__all__ = ["STATS_KEY", "StatsView", "apply_stats"]

STATS_KEY = "all"
KEEP_HOURS = 24 * 7


class StatsView(TypedDict):
    orders_by_status: dict[str, int]
    revenue_minor_by_hour: dict[str, dict[str, int]]
    revenue_minor_total: dict[str, int]


def apply_stats(view: StatsView | None, delta: StatsDelta) -> StatsView:
    """The view after the delta (each delta is handed over once: ``streams.recordpath.inbox``)."""
    if view is None:
        view = StatsView(orders_by_status={}, revenue_minor_by_hour={}, revenue_minor_total={})
    counts = dict(view["orders_by_status"])
    if delta["from_status"] is not None:
        counts[delta["from_status"]] = counts.get(delta["from_status"], 0) - 1
    counts[delta["to_status"]] = counts.get(delta["to_status"], 0) + 1
    by_hour = view["revenue_minor_by_hour"]
    totals = view["revenue_minor_total"]
    if delta["revenue_minor"]:
        hour = dict(by_hour.get(delta["hour"], {}))
        hour[delta["currency"]] = hour.get(delta["currency"], 0) + delta["revenue_minor"]
        by_hour = {**by_hour, delta["hour"]: hour}
        if len(by_hour) > KEEP_HOURS:
            by_hour = dict(sorted(by_hour.items())[-KEEP_HOURS:])
        totals = {**totals, delta["currency"]: totals.get(delta["currency"], 0) + delta["revenue_minor"]}
    return StatsView(orders_by_status=counts, revenue_minor_by_hour=by_hour, revenue_minor_total=totals)
