"""The simulated inventory service: ReserveInventory and ReleaseInventory in, inventory events out.  Pure.

Real stock, per warehouse and SKU, starting at the initial stock (STREAMS_SIM_STOCK):

* ReserveInventory is all or nothing over its lines (two lines of one SKU ask for their sum): if every SKU has
  the units, they are taken and the reservation recorded under a ``reservation_id`` derived from the command id
  (InventoryReserved); if one has not, nothing is taken (InventoryReservationFailed, ``out of stock: <sku> has N,
  M asked``, naming the first SKU short, in the order of the lines).
* ReleaseInventory puts back the units the named reservation took, once (InventoryReleased).  The units are the
  reservation's own, not the command's lines: a release can only undo what was reserved.  A reservation already
  released, or one this warehouse never made, puts nothing back and is still answered InventoryReleased (there is
  nothing reserved under that id: the compensation's goal holds).

Commands are keyed by warehouse, so one consumer owns a warehouse's stock: every row of a warehouse (its stock,
its reservations, its replies) is written from one partition, the only way a Faust table keyed by something else
than the record key stays one copy per key (docs/faust-notes.md).  ``Warehouse.rows`` is that table's layout;
``keys`` says which rows a command reads, so the agent loads only those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from agents.services.base import Command, Reply, epoch_ms, reference, remembered

__all__ = ["COMMANDS", "Reservation", "Warehouse", "handle", "keys", "reservation_id", "warehouse_of"]

COMMANDS = ("ReserveInventory", "ReleaseInventory")


@dataclass(frozen=True, slots=True)
class Reservation:
    order_id: str
    lines: Mapping[str, int]  # SKU -> units taken
    released: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "lines": dict(self.lines), "released": self.released}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reservation:
        return cls(str(data["order_id"]), {str(k): int(v) for k, v in data["lines"].items()}, bool(data["released"]))


@dataclass(frozen=True, slots=True)
class Warehouse:
    """One warehouse's state, or the part of it a command reads (``keys``).

    ``stock`` holds the SKUs whose units moved; any other SKU has the initial stock.
    """

    name: str
    stock: Mapping[str, int] = field(default_factory=dict)
    reservations: Mapping[str, Reservation] = field(default_factory=dict)
    replies: Mapping[str, Reply] = field(default_factory=dict)

    def units(self, sku: str, initial: int) -> int:
        return self.stock.get(sku, initial)

    def rows(self) -> dict[str, Any]:
        """The table rows of this state: ``<warehouse>/stock/<sku>``, ``/reservation/<id>``, ``/reply/<id>``."""
        return {
            **{_stock(self.name, sku): units for sku, units in self.stock.items()},
            **{_reservation(self.name, rid): r.to_json() for rid, r in self.reservations.items()},
            **{_reply(self.name, cid): reply.to_json() for cid, reply in self.replies.items()},
        }

    @classmethod
    def from_rows(cls, name: str, rows: Mapping[str, Any]) -> Warehouse:
        """The state these rows hold (absent rows, ``None``, are left out; rows of other warehouses ignored)."""
        stock, reservations, replies = {}, {}, {}
        prefix = f"{name}/"
        for key, value in rows.items():
            if value is None or not key.startswith(prefix):
                continue
            kind, _, ident = key.removeprefix(prefix).partition("/")
            if kind == "stock":
                stock[ident] = int(value)
            elif kind == "reservation":
                reservations[ident] = Reservation.from_json(value)
            elif kind == "reply":
                replies[ident] = Reply.from_json(value)
        return cls(name, stock, reservations, replies)


def _stock(warehouse: str, sku: str) -> str:
    return f"{warehouse}/stock/{sku}"


def _reservation(warehouse: str, reservation: str) -> str:
    return f"{warehouse}/reservation/{reservation}"


def _reply(warehouse: str, command_id: str) -> str:
    return f"{warehouse}/reply/{command_id}"


def reservation_id(command_id: str) -> str:
    return reference("res", command_id)


def warehouse_of(command: Command) -> str:
    return str(command.fields.get("warehouse") or "main")


def _asked(command: Command) -> dict[str, int]:
    """Units per SKU, in the order the lines name them (two lines of one SKU: their sum)."""
    asked: dict[str, int] = {}
    for line in command.fields["lines"]:
        asked[str(line["sku"])] = asked.get(str(line["sku"]), 0) + int(line["quantity"])
    return asked


def keys(command: Command, loaded: Mapping[str, Any]) -> set[str]:
    """The rows ``handle`` reads for ``command``, given the rows ``loaded`` so far: a release reads the stock of
    the SKUs its reservation took, known once the reservation's row is loaded (call until nothing is missing)."""
    name = warehouse_of(command)
    wanted = {_reply(name, command.command_id)}
    if command.name == "ReserveInventory":
        wanted |= {_stock(name, sku) for sku in _asked(command)}
    elif command.name == "ReleaseInventory":
        row = _reservation(name, str(command.fields["reservation_id"]))
        wanted.add(row)
        if loaded.get(row) is not None:
            wanted |= {_stock(name, sku) for sku in Reservation.from_json(loaded[row]).lines}
    return wanted


def handle(state: Warehouse, command: Command, initial: int, now: datetime) -> tuple[Warehouse, Reply]:
    """The reply to ``command`` and the warehouse after it (``initial``: the stock of a SKU never moved).

    ``state`` is the warehouse the command names, whole or as the rows ``keys`` lists."""
    if warehouse_of(command) != state.name:
        raise ValueError(f"a command for warehouse {warehouse_of(command)!r} given the state of {state.name!r}")
    before = remembered(state.replies, command)
    if before is not None:
        return state, before
    at, order_id = epoch_ms(now), command.order_id
    stock = dict(state.stock)
    reservations = dict(state.reservations)
    if command.name == "ReserveInventory":
        asked = _asked(command)
        short = next(((sku, units) for sku, units in asked.items() if state.units(sku, initial) < units), None)
        if short is not None:
            sku, units = short
            reason = f"out of stock: {sku} has {state.units(sku, initial)}, {units} asked"
            reply = Reply("InventoryReservationFailed", {"order_id": order_id, "reason": reason, "failed_at": at},
                          at, "out_of_stock")
        else:
            rid = reservation_id(command.command_id)
            for sku, units in asked.items():
                stock[sku] = state.units(sku, initial) - units
            reservations[rid] = Reservation(order_id, asked)
            reply = Reply("InventoryReserved", {"order_id": order_id, "reservation_id": rid, "reserved_at": at}, at,
                          "reserved")
    elif command.name == "ReleaseInventory":
        rid = str(command.fields["reservation_id"])
        reservation = state.reservations.get(rid)
        if reservation is None:
            outcome = "unknown_reservation"
        elif reservation.released:
            outcome = "already_released"
        else:
            outcome = "released"
            for sku, units in reservation.lines.items():
                stock[sku] = state.units(sku, initial) + units
            reservations[rid] = replace(reservation, released=True)
        reply = Reply("InventoryReleased", {"order_id": order_id, "reservation_id": rid, "released_at": at}, at,
                      outcome)
    else:
        raise ValueError(f"the inventory service does not take {command.name}")  # the decoder reads only COMMANDS
    return Warehouse(state.name, stock, reservations, {**state.replies, command.command_id: reply}), reply
