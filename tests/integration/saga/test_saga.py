"""The order saga on the real broker, the test playing the payment, inventory and shipping services: every path of
the diagram, a cancellation mid-saga, duplicate and late replies, timeouts, a stuck compensation and its retry."""

from __future__ import annotations

import json

import httpx
import pytest

from agents.saga.state import record_id
from tests.integration.harness import Worker, metric, streams_cli, wait_until
from tests.integration.saga.saga_story import Story

pytestmark = pytest.mark.integration


def story(workers: dict[str, Worker], name: str) -> Story:
    worker = workers[name]
    return Story(worker, worker.env)


def test_a_placed_order_is_paid_reserved_shipped_and_completed(saga_workers: dict[str, Worker]) -> None:
    s = story(saga_workers, "answered")
    placed = s.place()
    s.wait_sent("AuthorizePayment")
    paid = s.reply("PaymentAuthorized")
    s.wait_sent("ReserveInventory")
    reserved = s.reply("InventoryReserved")
    s.wait_sent("CreateShipment")
    s.reply("ShipmentCreated")
    saga = s.wait_saga("completed")
    s.wait_order("completed")  # the saga's OrderCompleted, applied by the orders agent
    pay, reserve, ship = s.commands()  # as a service reads them: Confluent's deserializer, envelope headers
    assert pay.fields == {"order_id": s.order_id, "customer_id": "cust", "amount_minor": 300, "currency": "EUR"}
    assert (pay.command_id, pay.causation_id, pay.key) == (record_id(s.order_id, "AuthorizePayment"), placed,
                                                           s.order_id)
    assert reserve.fields == {"order_id": s.order_id, "lines": [{"sku": "sku", "quantity": 3}], "warehouse": "main"}
    assert (reserve.causation_id, reserve.key) == (paid, "main")  # inventory commands: keyed by warehouse
    assert (ship.name, ship.causation_id, ship.key) == ("CreateShipment", reserved, s.order_id)
    assert s.sent() == ["AuthorizePayment", "ReserveInventory", "CreateShipment"]
    assert [(e["kind"], e["type"]) for e in saga["history"]] == [
        ("reply", "OrderPlaced"), ("command", "AuthorizePayment"), ("reply", "PaymentAuthorized"),
        ("command", "ReserveInventory"), ("reply", "InventoryReserved"), ("command", "CreateShipment"),
        ("reply", "ShipmentCreated"), ("event", "OrderCompleted")]
    assert (saga["step"], saga["deadline"], saga["_meta"]["read_model"]) == (None, None, "sagas")


@pytest.mark.parametrize(("replies", "undo", "order_status"), [
    (("PaymentFailed",), [], "failed"),
    (("PaymentAuthorized", "InventoryReservationFailed"), ["RefundPayment"], "failed"),
    (("PaymentAuthorized", "InventoryReserved", "ShipmentFailed"), ["ReleaseInventory", "RefundPayment"], "failed"),
], ids=["payment-fails", "reservation-fails", "shipment-fails"])
def test_a_failed_step_undoes_the_earlier_ones_last_first_then_fails_the_order(
        saga_workers: dict[str, Worker], replies: tuple[str, ...], undo: list[str], order_status: str) -> None:
    s = story(saga_workers, "answered")
    s.place()
    for reply, command in zip(replies, ("AuthorizePayment", "ReserveInventory", "CreateShipment"), strict=False):
        s.wait_sent(command)
        s.reply(reply)
    for compensation in undo:
        s.wait_sent(compensation)
        s.reply({"RefundPayment": "PaymentRefunded", "ReleaseInventory": "InventoryReleased"}[compensation])
    saga = s.wait_saga("compensated" if undo else "failed")
    s.wait_order(order_status)
    assert saga["compensations"] == [{"RefundPayment": "refund", "ReleaseInventory": "release"}[c] for c in undo]
    assert s.sent()[len(replies):] == undo  # the saga's order: last done, first undone


@pytest.mark.parametrize(("step", "command", "undo"), [
    ("payment", "AuthorizePayment", []),
    ("inventory", "ReserveInventory", ["RefundPayment"]),
    ("shipment", "CreateShipment", ["ReleaseInventory", "RefundPayment"]),
], ids=["payment", "inventory", "shipment"])
def test_a_step_that_never_answers_is_sent_again_then_failed_and_undone(
        saga_workers: dict[str, Worker], step: str, command: str, undo: list[str]) -> None:
    """On the worker whose own deadlines are ten minutes off, the test writes each timer record itself, as the
    timer loop would: every attempt's deadline passes when the test says, never racing a reply."""
    s = story(saga_workers, "answered")
    s.run_until(command)
    for attempt in (1, 2):
        s.time_out(step, attempt)
        s.wait_sent(command, times=attempt + 1)  # the same command again
    s.time_out(step, 3)  # STREAMS_SAGA_MAX_ATTEMPTS' default: the step has failed
    for compensation, answer in zip(undo, ("InventoryReleased", "PaymentRefunded")[2 - len(undo):], strict=True):
        s.wait_sent(compensation)
        s.reply(answer)
    saga = s.wait_saga("compensated" if undo else "failed")
    assert (saga["failed_step"], "did not answer after 3 attempts" in saga["reason"]) == (step, True)
    assert [c.command_id for c in s.wait_commands(command, 3)] == [record_id(s.order_id, command)] * 3
    s.wait_order("failed")


def test_a_cancellation_mid_saga_refunds_and_a_late_reservation_is_released(
        saga_workers: dict[str, Worker]) -> None:
    s = story(saga_workers, "answered")
    s.run_until("ReserveInventory")
    s.reply("OrderCancelled")  # the reservation is in flight
    s.wait_sent("RefundPayment")
    s.reply("InventoryReserved")  # it answers after all: undone after the refund
    s.reply("PaymentRefunded")
    s.wait_sent("ReleaseInventory")
    s.reply("InventoryReleased")
    saga = s.wait_saga("compensated")
    assert saga["cancelled"]
    assert saga["compensations"] == ["refund", "release"]
    assert "OrderFailed" not in saga["emitted"]
    s.wait_order("cancelled")
    view = s.worker.get(f"/orders/{s.order_id}").json()
    assert (view["reserved"], view["released"], view["paid_minor"], view["refunded_minor"]) == (True, True, 300, 300)


def test_a_shipment_that_answers_after_a_cancellation_stops_the_compensations_for_a_person(
        saga_workers: dict[str, Worker]) -> None:
    s = story(saga_workers, "answered")
    s.run_until("CreateShipment")
    s.reply("OrderCancelled")  # the shipment is in flight
    s.wait_sent("ReleaseInventory")
    s.reply("ShipmentCreated")  # the goods left after all: nothing cancels a shipment
    saga = s.wait_saga("stuck")
    assert (saga["step"], saga["undo"]) == (None, [])
    assert "no command cancels a shipment" in saga["reason"]
    s.reply("InventoryReleased")  # the release already sent answers; the refund is never sent
    wait_until(lambda: (s.saga() or {}).get("history", [{}])[-1].get("type") == "InventoryReleased",
               what="the release's answer in the saga's history")
    assert s.sent() == ["AuthorizePayment", "ReserveInventory", "CreateShipment", "ReleaseInventory"]
    refused = httpx.post(f"{s.worker.url}/sagas/{s.order_id}/retry", timeout=30)
    assert refused.status_code == 409, refused.text
    assert "no step to retry" in refused.json()["error"]["message"]


def test_duplicate_and_out_of_order_replies_move_the_saga_once(saga_workers: dict[str, Worker]) -> None:
    s = story(saga_workers, "answered")
    s.place()
    s.wait_sent("AuthorizePayment")
    s.reply("InventoryReserved")  # an answer to a command not sent yet: recorded as unexpected, nothing more
    wait_until(lambda: any(e["kind"] == "unexpected" for e in (s.saga() or {"history": []})["history"]),
               what="the out-of-order reply recorded")
    paid = s.reply("PaymentAuthorized")
    s.reply("PaymentAuthorized", event_id=paid)  # the same event again: the orders agent drops it
    s.wait_sent("ReserveInventory")
    s.reply("PaymentAuthorized")  # the same outcome under a new id: the saga's duplicate
    s.reply("InventoryReserved")
    s.wait_sent("CreateShipment")
    s.reply("ShipmentCreated")
    s.wait_saga("completed")
    assert s.sent() == ["AuthorizePayment", "ReserveInventory", "CreateShipment"]
    text = s.worker.get("/metrics").text
    assert metric(text, "streams_saga_replies_total", kind="duplicate", type="PaymentAuthorized") >= 1
    assert metric(text, "streams_saga_replies_total", kind="unexpected", type="InventoryReserved") >= 1


def test_silent_services_time_out_a_late_payment_is_refunded_and_a_stuck_refund_is_retried(
        saga_workers: dict[str, Worker]) -> None:
    """On the worker whose steps time out in about a second, nothing is answered until a timeout made its move:
    the test never races a deadline."""
    s = story(saga_workers, "silent")
    s.place()
    s.wait_sent("AuthorizePayment", times=2)
    first, again = s.wait_commands("AuthorizePayment", 2)
    assert again.command_id == first.command_id  # the same command: a service that got both pays once
    saga = s.wait_saga("failed")
    assert "did not answer after 2 attempts" in saga["reason"]
    s.wait_order("failed")

    s.reply("PaymentAuthorized")  # too late: it happened all the same, so it is refunded
    s.wait_sent("RefundPayment", times=2)  # and the payment service is silent again
    saga = s.wait_saga("stuck")
    assert (saga["step"], saga["deadline"]) == ("refund", None)

    def listed_stuck() -> list[str]:  # what an operator lists: the changelog, a moment behind the worker's store
        listed = streams_cli(s.env, "tables", "show", "sagas", "--where", "status=stuck", "--json")
        assert listed.returncode == 0, listed.stderr
        return [row["value"]["step"] for row in map(json.loads, listed.stdout.splitlines())
                if row["key"] == s.order_id]

    wait_until(lambda: listed_stuck() == ["refund"], timeout=30, what="the stuck saga listed")
    assert [e["kind"] for e in saga["history"] if e["type"] == "PaymentAuthorized"] == ["late", "reopened"]
    url = f"{s.worker.url}/sagas/{s.order_id}/retry"
    retried = httpx.post(url, timeout=30)
    assert retried.status_code == 202, retried.text
    assert retried.json()["step"] == "refund"
    s.wait_sent("RefundPayment", times=3)
    s.reply("PaymentRefunded")  # taken whether the retried step is waiting or stuck again
    saga = s.wait_saga("compensated")
    assert saga["emitted"] == ["OrderFailed"]  # written once
    view = s.worker.get(f"/orders/{s.order_id}").json()
    assert (view["status"], view["paid_minor"], view["refunded_minor"]) == ("failed", 300, 300)
    refused = httpx.post(url, timeout=30)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "conflict"
    text = s.worker.get("/metrics").text
    assert metric(text, "streams_sagas_total", event="timed_out", step="payment") >= 2
    assert metric(text, "streams_sagas_total", event="stuck", step="refund") >= 1
    assert metric(text, "streams_saga_replies_total", kind="late", type="PaymentAuthorized") >= 1


def test_an_unknown_saga_is_a_404_json_error(saga_workers: dict[str, Worker]) -> None:
    response = saga_workers["answered"].get("/sagas/no-such-order")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
