"""The simulated payment service: AuthorizePayment and RefundPayment in, payment events out.  Pure.

* AuthorizePayment: an amount above the limit is declined (``declined: over the limit``); otherwise the issuer
  declines a share of payments (the failure rate, decided by the command id: ``chance``); otherwise the payment is
  authorized, its ``payment_id`` derived from the command id.
* RefundPayment: refunded, for the payment and the amount the command names (the simulation keeps no balances).

State: the replies given, by command id (records keyed by order id: one order's commands are one partition's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agents.services.base import Command, Replies, Reply, chance, epoch_ms, reference, remembered
from agents.settings import OrderSettings

__all__ = ["COMMANDS", "OVER_LIMIT", "PaymentPolicy", "handle"]

COMMANDS = ("AuthorizePayment", "RefundPayment")

OVER_LIMIT = "declined: over the limit"
DECLINED = "declined: by the simulated issuer"


@dataclass(frozen=True, slots=True)
class PaymentPolicy:
    limit_minor: int = 10**12
    failure_rate: float = 0.0

    @classmethod
    def from_settings(cls, settings: OrderSettings) -> PaymentPolicy:
        return cls(limit_minor=settings.sim_payment_limit_minor, failure_rate=settings.sim_payment_failure_rate)


def handle(state: Replies, command: Command, policy: PaymentPolicy, now: datetime) -> tuple[Replies, Reply]:
    """The reply to ``command`` and the state that remembers it; a command seen before gets its reply again."""
    before = remembered(state.replies, command)
    if before is not None:
        return state, before
    fields, at = command.fields, epoch_ms(now)
    if command.name == "AuthorizePayment":
        amount = int(fields["amount_minor"])
        if amount > policy.limit_minor or chance(command.command_id, "payment") < policy.failure_rate:
            over = amount > policy.limit_minor
            reply = Reply("PaymentFailed", {"order_id": command.order_id, "reason": OVER_LIMIT if over else DECLINED,
                                            "failed_at": at}, at, "over_limit" if over else "declined")
        else:
            reply = Reply("PaymentAuthorized", {"order_id": command.order_id,
                                                "payment_id": reference("pay", command.command_id),
                                                "amount_minor": amount, "currency": fields["currency"],
                                                "authorized_at": at}, at, "authorized")
    elif command.name == "RefundPayment":
        reply = Reply("PaymentRefunded", {"order_id": command.order_id, "payment_id": fields["payment_id"],
                                          "amount_minor": int(fields["amount_minor"]), "currency": fields["currency"],
                                          "refunded_at": at}, at, "refunded")
    else:
        raise ValueError(f"the payment service does not take {command.name}")  # the decoder reads only COMMANDS
    return state.remember(command, reply), reply
