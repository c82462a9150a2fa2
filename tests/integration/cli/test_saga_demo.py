"""`streams demo` against workers that run the order saga: each order's end predicted from the simulated services'
settings, watched over HTTP; the timeout story with a silent shipping service; a clear line, and no hang, when
nobody answers the saga's commands.  (A worker without the saga, every GET /sagas 404: tests/unit/demo.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.demo import saga_scenario
from agents.settings import OrderSettings
from streams.devstack.kafka import KafkaBroker
from tests.integration.harness import Worker, streams_cli, worker_env

pytestmark = pytest.mark.integration

SIM = {"STREAMS_SAGA": "true", "STREAMS_SIMULATED_SERVICES": "true", "STREAMS_SIM_PAYMENT_LIMIT_MINOR": "100000",
       "STREAMS_SIM_PAYMENT_FAILURE_RATE": "0.2", "STREAMS_SIM_STOCK": "5"}
FAST = {"STREAMS_SAGA_STEP_TIMEOUT_S": "0.3", "STREAMS_SAGA_TICK_S": "0.1"}


@pytest.fixture(scope="module")
def workers(kafka_broker: KafkaBroker, registry: Any, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[dict[str, Worker]]:
    envs = {
        "answering": worker_env(kafka_broker.url, registry.url, **SIM),
        "silent shipping": worker_env(kafka_broker.url, registry.url, **SIM, **FAST, STREAMS_SAGA_MAX_ATTEMPTS="2",
                                      STREAMS_SIM_SILENT="shipping"),
        "no services": worker_env(kafka_broker.url, registry.url, **{
            **SIM, **FAST, "STREAMS_SIMULATED_SERVICES": "false", "STREAMS_SAGA_MAX_ATTEMPTS": "100"}),
    }
    root: Path = tmp_path_factory.mktemp("saga-demo")
    started = {name: Worker(env=env, data_dir=root / name.replace(" ", "-")) for name, env in envs.items()}
    try:
        for worker in started.values():
            worker.start()
        yield started
    finally:
        for worker in started.values():
            worker.stop()


def demo(worker: Worker, *args: str, **env: str) -> tuple[int, str, str]:
    wide = {"COLUMNS": "200"}  # the tables' cells unwrapped
    result = streams_cli({**worker.env, **wide, **env}, "demo", "--worker", worker.url, "--no-poison", *args,
                         timeout=180)
    return result.returncode, result.stdout, result.stderr


def test_orders_complete_are_declined_or_run_out_of_stock_as_predicted(workers: dict[str, Worker]) -> None:
    worker = workers["answering"]
    code, out, err = demo(worker, "--orders", "10", "--seed", "3")
    told = saga_scenario(orders=10, seed=3, domain=domain(worker.env))
    assert code == 0, out + err
    assert f"all {len(told.checks) + len(told.watches)} checks passed" in err
    assert "the timeout story is left out: it needs the worker's shipping service silent" in err
    assert "(1 more held back until what they wait for happened)" in err
    ends = {w.expect["status"] for w in told.watches}
    assert ends == {"completed", "failed", "compensated"}  # paid and shipped, declined, out of stock and refunded
    assert out.count(" ok ") == len(told.checks) + len(told.watches)
    for watch in told.watches:  # what the demo printed is what the worker says
        saga = worker.get(watch.path).json()
        assert (saga["status"], saga["failed_step"]) == (watch.expect["status"], watch.expect["failed_step"])
    [taker] = [w for w in told.watches if "takes all 5 units" in w.label]
    sku = taker.label.split(" units of ")[1].split(";")[0]
    assert worker.get(f"/inventory/{sku}").json()["held"] == 5  # the taker's units; the later order got none


def test_a_silent_shipping_service_times_out_and_the_order_is_undone(workers: dict[str, Worker]) -> None:
    worker = workers["silent shipping"]
    code, out, err = demo(worker, "--orders", "4", "--seed", "5")
    assert code == 0, out + err
    assert "shipping is silent (STREAMS_SIM_SILENT=shipping): every shipment times out and is undone" in err
    told = saga_scenario(orders=4, seed=5, domain=domain(worker.env))
    taker = told.watches[2]
    assert "the shipment timed out (2 attempts): stock released, refunded" in taker.label
    saga = worker.get(taker.path).json()
    assert (saga["status"], saga["failed_step"], saga["compensations"]) == ("compensated", "shipment",
                                                                           ["release", "refund"])
    assert saga["reason"] == "shipment did not answer after 2 attempts"
    assert "out of stock: refunded" in told.watches[3].label  # it asked while the taker held the units


def test_without_services_the_demo_says_nobody_answers_and_stops(workers: dict[str, Worker]) -> None:
    worker = workers["no services"]
    code, out, err = demo(worker, "--orders", "5", "--seed", "6")  # the fourth held back behind the third
    assert code == 1
    assert ("the sagas wait on payment: AuthorizePayment was sent again and nobody answers on payments; does the "
            "worker run the simulated services (STREAMS_SIMULATED_SERVICES=true), or a real payments service?") in err
    assert out.count("FAILED") == 6  # five stories, and the customer of the one held back: never placed
    assert "not produced" in out


def domain(env: dict[str, str]) -> OrderSettings:
    """The domain settings a worker with ``env`` runs with (what the demo reads from the same environment)."""
    return OrderSettings(**{k.removeprefix("STREAMS_").lower(): v for k, v in env.items()
                            if k.removeprefix("STREAMS_").lower() in OrderSettings.model_fields})
