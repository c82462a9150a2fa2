"""The provisioned Grafana dashboard, checked by reading it (no Grafana or Prometheus here).

Every metric a query names must be one the workers export: a typo would leave a panel silently empty.  The order
saga's are read from its own metrics object (what a worker with the saga on registers), not listed here.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from agents.saga.metrics import SagaMetrics

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = ROOT / "deploy/grafana/dashboards/streams.json"
DATASOURCES = ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml"
DASHBOARD_PROVIDER = ROOT / "deploy/grafana/provisioning/dashboards/streams.yml"

# What the workers export (streams/web/metrics.py, streams/lag/metrics.py), as Prometheus names them.
EXPORTED_METRICS = frozenset({
    # counters
    "streams_events_total",
    "streams_produced_total",
    "streams_ingested_total",
    "streams_dead_letters_total",
    "streams_retries_total",
    "streams_fanout_total",
    "streams_rejected_transitions_total",
    "streams_parked_records_total",
    # histograms
    "streams_processing_seconds_bucket",
    "streams_query_seconds_bucket",
    # gauges
    "streams_consumer_lag_messages",
    "streams_consumer_lag_seconds",
    "streams_consumer_committed_offset",
    "streams_consumer_log_end_offset",
    "streams_consumer_partition_status",
    "streams_consumer_group_status",
    "streams_consumer_group_members",
    "streams_breaker_state",
    "streams_paused_partitions",
    "streams_parked_keys",
})
# Every worker samples every group, so these series come once per worker and must be deduplicated.
PER_PARTITION_LAG = ("streams_consumer_lag_messages", "streams_consumer_lag_seconds",
                     "streams_consumer_partition_status")
METRIC = re.compile(r"streams_[a-z_]+")
_SAMPLES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


def exported(registry: CollectorRegistry) -> frozenset[str]:
    """The series names a registry's metric families are scraped under (even those with no samples yet)."""
    return frozenset(family.name + suffix for family in registry.collect() for suffix in _SAMPLES[family.type])


def saga_metrics() -> frozenset[str]:
    registry = CollectorRegistry()
    SagaMetrics(registry, running=lambda: 0.0)
    return exported(registry)


@pytest.fixture(scope="module")
def text() -> str:
    return DASHBOARD.read_text()


@pytest.fixture(scope="module")
def dashboard(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text)
    return data


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def _exprs(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in _panels(dashboard) for target in panel.get("targets", [])]


def test_identity(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] == "streams"
    assert dashboard["title"] == "Streams"
    assert dashboard["schemaVersion"] >= 39
    assert dashboard.get("id") is None  # provisioned: Grafana assigns the id


def test_the_file_is_formatted_with_two_space_indent(text: str, dashboard: dict[str, Any]) -> None:
    assert text == json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"


def test_the_provider_loads_the_folder_compose_mounts() -> None:
    provider = yaml.safe_load(DASHBOARD_PROVIDER.read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert f"./deploy/grafana/dashboards:{path}:ro" in compose["services"]["grafana"]["volumes"]


def test_the_datasource_is_prometheus_by_uid(dashboard: dict[str, Any]) -> None:
    datasource = yaml.safe_load(DATASOURCES.read_text())["datasources"][0]
    assert datasource["uid"] == "prometheus"
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    for panel in _panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, panel["title"]
        for target in panel["targets"]:
            assert target.get("datasource", panel["datasource"])["uid"] == "prometheus", panel["title"]
    for variable in dashboard["templating"]["list"]:
        assert variable["datasource"]["uid"] == "prometheus"


def test_every_panel_queries_something(dashboard: dict[str, Any]) -> None:
    panels = [p for p in _panels(dashboard) if p["type"] != "row"]
    assert len(panels) >= 12
    for panel in panels:
        targets = panel.get("targets", [])
        assert targets, f"panel {panel['title']!r} has no target"
        ref_ids = [t["refId"] for t in targets]
        assert all(ref_ids), panel["title"]
        assert len(set(ref_ids)) == len(ref_ids), panel["title"]
        for target in targets:
            assert target["expr"].strip(), f"panel {panel['title']!r} has an empty expr"
            assert METRIC.search(target["expr"]), f"panel {panel['title']!r} queries no streams metric"


def test_panel_ids_are_unique_and_fit_the_grid(dashboard: dict[str, Any]) -> None:
    panels = _panels(dashboard)
    ids = [p["id"] for p in panels]
    assert len(set(ids)) == len(ids)
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] >= 0, panel["title"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]


def test_every_metric_named_is_exported(dashboard: dict[str, Any]) -> None:
    queries = _exprs(dashboard)
    for variable in dashboard["templating"]["list"]:
        query = variable["query"]
        queries.append(query["query"] if isinstance(query, dict) else query)
    used = {name for query in queries for name in METRIC.findall(query)}
    assert used, "no streams metric found in any query"
    known = EXPORTED_METRICS | saga_metrics()
    assert used <= known, f"not exported by the workers: {sorted(used - known)}"


def test_the_saga_row_shows_what_happened_to_sagas(dashboard: dict[str, Any]) -> None:
    """A row of its own: outcomes and timeouts by step, late and duplicate replies, p50 and p99 of the duration,
    sagas waiting; every saga metric is shown somewhere."""
    rows = [p for p in dashboard["panels"] if p["type"] == "row"]
    assert [row["title"] for row in rows] == ["Order saga"]
    saga = [p for p in dashboard["panels"] if p["gridPos"]["y"] > rows[0]["gridPos"]["y"]]
    exprs = " ".join(target["expr"] for panel in saga for target in panel["targets"])
    assert {re.sub(r"_(bucket|total)$", "", name) for name in METRIC.findall(exprs)} == {
        "streams_sagas", "streams_saga_replies", "streams_saga_duration_seconds", "streams_sagas_waiting"}
    assert 'event=~"started|completed|compensated|failed"' in exprs
    assert 'event="timed_out"' in exprs
    assert 'kind=~"late|duplicate"' in exprs
    assert "histogram_quantile(0.5," in exprs
    assert "histogram_quantile(0.99," in exprs
    assert saga_metrics() == {"streams_sagas_total", "streams_saga_replies_total", "streams_sagas_waiting",
                              *(f"streams_saga_duration_seconds_{s}" for s in ("bucket", "sum", "count"))}


def test_group_variable_lists_the_lagging_groups(dashboard: dict[str, Any]) -> None:
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    group = variables["group"]
    query = group["query"]["query"] if isinstance(group["query"], dict) else group["query"]
    assert query == "label_values(streams_consumer_lag_messages, group)"
    for expr in _exprs(dashboard):
        if "streams_consumer_" in expr:
            assert 'group=~"$group"' in expr, expr


def test_lag_is_deduplicated_across_workers(dashboard: dict[str, Any]) -> None:
    for expr in _exprs(dashboard):
        if any(name in expr for name in PER_PARTITION_LAG):
            assert "max by (group, topic, partition)" in expr, expr


def _mapping_texts(panel: dict[str, Any]) -> dict[str, str]:
    texts: dict[str, str] = {}
    for mapping in panel["fieldConfig"]["defaults"]["mappings"]:
        if mapping["type"] == "value":
            texts.update({value: option["text"] for value, option in mapping["options"].items()})
    return texts


@pytest.mark.parametrize(("metric", "texts"), [
    ("streams_consumer_partition_status", {"0": "OK", "1": "WARNING", "2": "REWIND", "3": "STALLED", "4": "STOPPED"}),
    ("streams_consumer_group_status", {"0": "OK", "1": "WARNING", "2": "REWIND", "3": "STALLED", "4": "STOPPED"}),
    ("streams_breaker_state", {"0": "closed", "1": "open", "2": "half-open"}),
])
def test_state_panels_map_numbers_to_names(dashboard: dict[str, Any], metric: str, texts: dict[str, str]) -> None:
    panels = [p for p in _panels(dashboard) if any(metric in t["expr"] for t in p.get("targets", []))]
    assert panels, f"no panel shows {metric}"
    for panel in panels:
        assert _mapping_texts(panel) == texts, panel["title"]
