"""GET /dashboard in Debian's headless Chromium: the numbers it renders are those of GET /api/lag and /api/cards.

The page is rendered by its own JavaScript (fetching /api/lag and /api/cards), the DOM
dumped and compared row by row with the JSON of the same sample, and the saga card
(two orders placed: one completed, one declined) stat by stat; a screenshot is kept
in ``.artifacts/dashboard.png``.

The worker samples lag every second, faster than a browser renders on a loaded machine, so the test holds the
sample still: chromium loads the page through a relay the test owns, which passes every request to the worker but
answers ``/api/lag`` with one sample taken from the worker before the render.
"""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.harness import ROOT, wait_until
from tests.integration.lag.conftest import LaggingStack, system_tool
from tests.integration.orders.builders import body as event_body
from tests.integration.orders.builders import placed

pytestmark = pytest.mark.integration

ARTIFACTS = ROOT / ".artifacts"


class Hooks(HTMLParser):
    """Every element's ``data-*`` attributes, by its ``data-testid``, and the root's."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, list[dict[str, str]]] = {}
        self.root: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = {k.removeprefix("data-"): v or "" for k, v in attrs if k.startswith("data-")}
        if "loaded" in data:
            self.root = data
        if "testid" in data:
            self.found.setdefault(data["testid"], []).append(data)


def chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=8000"]
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=90)


def rendered(browser: str, profile: Path, url: str) -> Hooks:
    result = chromium(browser, profile, "--dump-dom", url)
    assert result.returncode == 0, result.stderr[-2000:]
    hooks = Hooks()
    hooks.feed(result.stdout)
    return hooks


@contextmanager
def relay(upstream: str, lag_sample: bytes) -> Iterator[str]:
    """An HTTP relay to ``upstream`` on a free loopback port that answers ``/api/lag`` with ``lag_sample``; its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/api/lag":
                status, kind, content = 200, "application/json", lag_sample
            else:
                answer = httpx.get(f"{upstream}{self.path}", timeout=30)
                status, kind, content = answer.status_code, answer.headers.get("content-type", ""), answer.content
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def saga_card(lagging: LaggingStack) -> dict[str, Any]:
    [card] = [c for c in lagging.cards_api()["cards"] if c["title"] == "Order sagas"]
    return {stat["label"]: stat["value"] for stat in card["stats"]}


def test_the_dashboard_renders_the_numbers_of_api_lag(lagging: LaggingStack, tmp_path: Path) -> None:
    browser = system_tool("chromium")
    url = f"{lagging.worker.url}/dashboard"
    tag = uuid.uuid4().hex[:8]
    for order_id, price in ((f"ok-{tag}", 100), (f"declined-{tag}", 500_000)):  # the limit is 100,000
        order = event_body("OrderPlaced", placed(order_id, price=price))
        response = httpx.post(f"{lagging.worker.url}/events", json=order, timeout=30)
        assert response.status_code == 202, response.text
    wait_until(lambda: (saga_card(lagging)["Completed"], saga_card(lagging)["Failed"]) == (1, 1), timeout=60,
               what="one saga completed and one failed")
    sagas = saga_card(lagging)
    assert (sagas["Started"], sagas["Compensated"], sagas["Waiting now"]) == (2, 0, 0)
    assert sagas["Duration p99"] is not None
    sample = lagging.worker.get("/api/lag")
    assert sample.status_code == 200
    body = sample.json()
    with relay(lagging.worker.url, sample.content) as held:
        hooks = rendered(browser, tmp_path / "profile", f"{held}/dashboard")
    assert hooks.root.get("sampled-at") == str(body["sampled_at"])  # the page shows the sample it was served
    assert hooks.root["loaded"] == "true"

    rows = {(r["group"], r["topic"], r["partition"]): r for r in hooks.found.get("lag-row", [])}
    expected: list[dict[str, Any]] = [p for g in body["groups"] for p in g["partitions"]]
    assert len(rows) == len(expected) > 0
    for p in expected:
        row = rows[(p["group"], p["topic"], str(p["partition"]))]
        assert int(row["lag"]) == p["lag"]
        assert float(row["lag-seconds"]) == pytest.approx(p["lag_seconds"])
        assert row["status"] == p["status"]
    groups = {g["group"]: g for g in hooks.found["group"]}
    stopped = groups[lagging.group]
    assert (stopped["status"], int(stopped["total-lag"])) == ("STOPPED", 20)
    letters = {(r["topic"], r["reason"]): int(r["count"]) for r in hooks.found.get("dlq-row", [])}
    assert letters == {(d["topic"], d["reason"]): d["count"] for d in body["dead_letters"]}
    assert hooks.root["cards-loaded"] == "true"
    shown = {r["label"]: (float(r["value"]) if r["value"] else None) for r in hooks.found.get("card-stat", [])
             if r["card"] == "Order sagas"}
    assert shown == pytest.approx(sagas)  # the sagas ended: the card's numbers no longer move

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    result = chromium(browser, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1400,1000", url)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.stat().st_size > 10_000  # a real picture, kept as the test's artifact
