"""Dashboard cards (``streams.web.cards``): sums of the matching samples, histogram quantiles as Prometheus
estimates them, and a metric the worker does not have said as such, not shown as zero."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from streams.web.cards import Card, Stat, read_card


@pytest.fixture
def registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    things = Counter("things", "things by kind and place", ["kind", "place"], registry=registry)
    things.labels("a", "x").inc(2)
    things.labels("a", "y").inc(3)
    things.labels("b", "x").inc(7)
    Gauge("level", "a level", registry=registry).set(4.5)
    took = Histogram("took_seconds", "how long", ["how"], buckets=(1, 2, 4), registry=registry)
    for value in (0.5, 1.5, 1.5, 3.0):  # le=1: 1, le=2: 3, le=4: 4
        took.labels("ok").observe(value)
    took.labels("bad").observe(100)  # +Inf only
    return registry


def values(card: Card, registry: CollectorRegistry) -> dict[str, float | None]:
    body = read_card(card, registry)
    assert [stat.get("error") for stat in body["stats"]] == [None] * len(card.stats)
    return {stat["label"]: stat["value"] for stat in body["stats"]}


def test_a_stat_sums_the_samples_whose_labels_match(registry: CollectorRegistry) -> None:
    card = Card("c", (Stat("all", "things"), Stat("a", "things", {"kind": "a"}),
                      Stat("a at x", "things", {"kind": "a", "place": "x"}), Stat("none", "things", {"kind": "z"}),
                      Stat("level", "level")))
    assert values(card, registry) == {"all": 12.0, "a": 5.0, "a at x": 2.0, "none": 0.0, "level": 4.5}


def test_a_quantile_is_interpolated_within_its_bucket_as_histogram_quantile_does(registry: CollectorRegistry) -> None:
    card = Card("c", (Stat("p50", "took_seconds", {"how": "ok"}, quantile=0.5, unit="s"),
                      Stat("p25", "took_seconds", {"how": "ok"}, quantile=0.25),
                      Stat("p99", "took_seconds", {"how": "ok"}, quantile=0.99),
                      Stat("p50 inf", "took_seconds", {"how": "bad"}, quantile=0.5),
                      Stat("p99 all", "took_seconds", quantile=0.99),
                      Stat("p99 none", "took_seconds", {"how": "never"}, quantile=0.99)))
    got = values(card, registry)
    assert got["p50"] == pytest.approx(1.5)  # rank 2 of 4: half way through (1, 2], which holds 2
    assert got["p25"] == pytest.approx(1.0)  # rank 1: the top of the first bucket, which starts at 0
    assert got["p99"] == pytest.approx(2 + 2 * (3.96 - 3))  # rank 3.96 in (2, 4], which holds 1
    assert got["p50 inf"] == 4.0  # in the +Inf bucket: the highest finite bound
    assert got["p99 all"] == 4.0  # 5 observations, the fifth past 4
    assert got["p99 none"] is None  # no observation: nothing to say, not 0
    assert read_card(card, registry)["stats"][0]["unit"] == "s"


def test_a_metric_the_registry_does_not_have_is_an_error_not_a_zero(registry: CollectorRegistry) -> None:
    body = read_card(Card("c", (Stat("typo", "thingz"),), hint="h"), registry)
    assert body == {"title": "c", "hint": "h", "stats": [
        {"label": "typo", "unit": "", "value": None, "error": "this worker has no metric thingz"}]}
