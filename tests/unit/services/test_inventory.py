"""The simulated inventory service's pure handler: real stock, all or nothing, releases once, rows of one warehouse."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from agents.services.base import Command, epoch_ms
from agents.services.inventory import Reservation, Warehouse, handle, keys, reservation_id
from tests.support import NOW

INITIAL = 5


def reserve(*lines: tuple[str, int], warehouse: str = "main", command_id: str | None = None,
            order_id: str = "o-1") -> Command:
    return Command(command_id or str(uuid.uuid4()), "ReserveInventory",
                   {"order_id": order_id, "lines": [{"sku": s, "quantity": q} for s, q in lines],
                    "warehouse": warehouse})


def release(rid: str, *lines: tuple[str, int], warehouse: str = "main", command_id: str | None = None) -> Command:
    return Command(command_id or str(uuid.uuid4()), "ReleaseInventory",
                   {"order_id": "o-1", "reservation_id": rid, "lines": [{"sku": s, "quantity": q} for s, q in lines],
                    "warehouse": warehouse})


def test_a_reservation_takes_the_units_and_is_recorded_under_an_id_derived_from_the_command() -> None:
    command = reserve(("a", 2), ("b", 5))
    state, reply = handle(Warehouse("main"), command, INITIAL, NOW)
    rid = reservation_id(command.command_id)
    assert (reply.event_type, reply.outcome) == ("InventoryReserved", "reserved")
    assert reply.fields == {"order_id": "o-1", "reservation_id": rid, "reserved_at": epoch_ms(NOW)}
    assert rid.startswith("res-")
    assert state.stock == {"a": 3, "b": 0}  # b: all there was
    assert state.reservations == {rid: Reservation("o-1", {"a": 2, "b": 5})}


def test_a_reservation_is_all_or_nothing() -> None:
    state, _ = handle(Warehouse("main"), reserve(("b", 4)), INITIAL, NOW)
    after, reply = handle(state, reserve(("a", 2), ("b", 2), ("c", 9)), INITIAL, NOW)
    assert (reply.event_type, reply.outcome) == ("InventoryReservationFailed", "out_of_stock")
    assert reply.fields == {"order_id": "o-1", "reason": "out of stock: b has 1, 2 asked", "failed_at": epoch_ms(NOW)}
    assert after.stock == state.stock == {"b": 1}  # a, which had enough, was not taken either
    assert after.reservations == state.reservations


def test_two_lines_of_one_sku_ask_for_their_sum() -> None:
    _, reply = handle(Warehouse("main"), reserve(("a", 3), ("a", 3)), INITIAL, NOW)
    assert reply.fields["reason"] == "out of stock: a has 5, 6 asked"
    state, reply = handle(Warehouse("main"), reserve(("a", 2), ("a", 3)), INITIAL, NOW)
    assert reply.outcome == "reserved"
    assert state.stock == {"a": 0}


def test_stock_runs_out_then_a_release_makes_it_available_again() -> None:
    first = reserve(("a", 3))
    state, reserved = handle(Warehouse("main"), first, INITIAL, NOW)
    state, failed = handle(state, reserve(("a", 3)), INITIAL, NOW)
    assert failed.fields["reason"] == "out of stock: a has 2, 3 asked"
    state, released = handle(state, release(reserved.fields["reservation_id"], ("a", 3)), INITIAL, NOW)
    assert (released.event_type, released.outcome) == ("InventoryReleased", "released")
    assert released.fields == {"order_id": "o-1", "reservation_id": reserved.fields["reservation_id"],
                               "released_at": epoch_ms(NOW)}
    assert state.stock == {"a": INITIAL}
    state, again = handle(state, reserve(("a", 3)), INITIAL, NOW)
    assert again.outcome == "reserved"


def test_a_reservation_is_released_once_and_by_its_own_units() -> None:
    state, reserved = handle(Warehouse("main"), reserve(("a", 2)), INITIAL, NOW)
    rid = reserved.fields["reservation_id"]
    state, first = handle(state, release(rid, ("a", 5), ("z", 1)), INITIAL, NOW)  # the command's lines do not count
    assert first.outcome == "released"
    assert state.stock == {"a": INITIAL}
    assert state.reservations[rid].released
    state, second = handle(state, release(rid, ("a", 2)), INITIAL, NOW)  # another command, the same reservation
    assert (second.event_type, second.outcome) == ("InventoryReleased", "already_released")
    assert state.stock == {"a": INITIAL}


def test_releasing_a_reservation_never_made_puts_nothing_back() -> None:
    state, reply = handle(Warehouse("main"), release("res-unknown", ("a", 2)), INITIAL, NOW)
    assert (reply.event_type, reply.outcome) == ("InventoryReleased", "unknown_reservation")
    assert reply.fields["reservation_id"] == "res-unknown"
    assert state.stock == {}
    assert state.reservations == {}


@pytest.mark.parametrize("kind", ["reserve", "release"])
def test_a_command_seen_again_gets_the_same_reply_and_changes_nothing(kind: str) -> None:
    state, reserved = handle(Warehouse("main"), reserve(("a", 1)), INITIAL, NOW)
    command = reserve(("a", 2)) if kind == "reserve" else release(reserved.fields["reservation_id"], ("a", 1))
    state, first = handle(state, command, INITIAL, NOW)
    again, second = handle(state, command, 0, NOW + timedelta(minutes=1))
    assert again is state
    assert second.repeated
    assert replace(second, repeated=False) == first


def test_warehouses_keep_their_own_stock_in_their_own_rows() -> None:
    main, _ = handle(Warehouse("main"), reserve(("a", 5)), INITIAL, NOW)
    north, reply = handle(Warehouse("north"), reserve(("a", 5), warehouse="north"), INITIAL, NOW)
    assert reply.outcome == "reserved"
    assert all(key.startswith("north/") for key in north.rows())
    assert Warehouse.from_rows("main", {**main.rows(), **north.rows()}) == main
    with pytest.raises(ValueError, match="warehouse 'north'"):
        handle(main, reserve(("a", 1), warehouse="north"), INITIAL, NOW)


def test_a_command_of_another_service_is_refused() -> None:
    with pytest.raises(ValueError, match="does not take AuthorizePayment"):
        handle(Warehouse("main"), Command(str(uuid.uuid4()), "AuthorizePayment", {"order_id": "o-1"}), INITIAL, NOW)


def test_stock_adds_up_after_any_sequence_of_reservations_releases_and_repeats() -> None:
    rng = random.Random(7)
    skus = ["a", "b", "c"]
    state, sent, made = Warehouse("main"), [], []
    for _ in range(600):
        roll = rng.random()
        if roll < 0.15 and sent:
            command = rng.choice(sent)  # a command re-sent
        elif roll < 0.55 and made:
            command = release(rng.choice(made), ("a", 1))  # possibly released before
        else:
            command = reserve(*((sku, rng.randint(1, 3)) for sku in rng.sample(skus, rng.randint(1, 3))))
        sent.append(command)
        before = state
        state, reply = handle(state, command, INITIAL, NOW)
        if reply.outcome == "reserved":
            made.append(reply.fields["reservation_id"])
        if reply.outcome == "out_of_stock" or reply.repeated:
            assert state.stock == before.stock
        held: Counter[str] = Counter()
        for reservation in state.reservations.values():
            if not reservation.released:
                held.update(reservation.lines)
        for sku in skus:
            assert 0 <= state.units(sku, INITIAL) <= INITIAL
            assert state.units(sku, INITIAL) + held[sku] == INITIAL  # every unit on the shelf or reserved, once
    outcomes = Counter(handle(state, c, INITIAL, NOW)[1].outcome for c in sent)
    assert {"reserved", "out_of_stock", "released", "already_released"} <= set(outcomes)


def _load(rows: dict[str, Any], command: Command) -> Warehouse:
    """The warehouse as the agent reads it for ``command``: only the rows ``keys`` lists."""
    loaded: dict[str, Any] = {}
    while missing := keys(command, loaded) - loaded.keys():
        loaded.update({key: rows.get(key) for key in missing})
    return Warehouse.from_rows("main", loaded)


def test_the_rows_keys_lists_are_all_a_command_reads() -> None:
    rng = random.Random(11)
    full, rows, made = Warehouse("main"), {}, []
    for _ in range(300):
        if made and rng.random() < 0.4:
            command = release(rng.choice(made), ("b", 1))
        else:
            command = reserve(*((sku, rng.randint(1, 2)) for sku in rng.sample("abcd", 2)))
        partial, reply = handle(_load(rows, command), command, INITIAL, NOW)
        full, expected = handle(full, command, INITIAL, NOW)
        assert reply == expected
        rows.update(partial.rows())  # what the agent writes: the rows it read, changed or not
        assert rows == full.rows()
        if reply.outcome == "reserved":
            made.append(reply.fields["reservation_id"])
