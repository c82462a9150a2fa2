"""Debian's Prometheus scrapes a live worker: the lag reads back with PromQL, and every Grafana panel's query runs.

Each expression of ``deploy/grafana/dashboards/streams.json`` is evaluated by
this Prometheus; a query that does not parse fails, and so does one naming a
metric the worker does not export (Prometheus knows every metric family the
scrape announced, even one with no samples yet, through its metadata API).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from streams.devstack.ports import free_port
from tests.integration.harness import ROOT, wait_until
from tests.integration.lag.conftest import LaggingStack, system_tool

pytestmark = pytest.mark.integration

DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "streams.json"


@pytest.fixture
def prometheus(lagging: LaggingStack, tmp_path: Path) -> Iterator[str]:
    binary = system_tool("prometheus")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "streams", "static_configs": [
            {"targets": [lagging.worker.url.removeprefix("http://")]}]}],
    }))
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(url), timeout=60, what="prometheus ready")
        yield url
    finally:
        process.terminate()
        process.wait(15)
        log.close()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def query(url: str, promql: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=10)
    body = response.json()
    assert body["status"] == "success", f"{promql}: {body}"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def test_prometheus_reads_the_lag_back_and_every_dashboard_query_runs(lagging: LaggingStack,
                                                                     prometheus: str) -> None:
    selector = f'streams_consumer_lag_messages{{group="{lagging.group}"}}'
    wait_until(lambda: len(query(prometheus, selector)) == 2, timeout=60, what="the lag scraped")
    scraped = {int(r["metric"]["partition"]): float(r["value"][1]) for r in query(prometheus, selector)}
    api = {p["partition"]: p["lag"] for p in lagging.stopped_group(lagging.lag_api())["partitions"]}
    assert scraped == api == {0: 20, 1: 0}
    status = query(prometheus, f'streams_consumer_group_status{{group="{lagging.group}"}}')
    assert float(status[0]["value"][1]) == 4  # STOPPED

    metadata = httpx.get(f"{prometheus}/api/v1/targets/metadata", timeout=10).json()["data"]
    families = {entry["metric"] for entry in metadata}
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert len(expressions) >= 10
    for expr in expressions:
        query(prometheus, expr.replace("$group", ".*"))
        for name in set(re.findall(r"\bstreams_[a-z_]+", expr)):
            family = re.sub(r"_(bucket|sum|count|total)$", "", name)
            assert name in families or family in families, f"{expr} queries {name}, which the worker does not export"
