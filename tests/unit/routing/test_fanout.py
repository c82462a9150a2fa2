"""Fan-out with the real rules and schemas: where each event goes, what it goes as, and what start-up refuses."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from agents.events import EventCatalog, to_avro
from agents.fanout import RULES
from streams import headers as h
from streams.avro import AvroCodec, load_schemas
from streams.envelope import Envelope
from streams.errors import ConfigError
from streams.routing import ANY_EVENT, Fanout, Output, PatternError, Rule
from tests.support import NOW, MemoryRegistry, placed

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
CATALOG = EventCatalog.load(SCHEMAS)
COMMANDS = load_schemas(SCHEMAS / "commands")
ALL = ["p.notifications", "p.fraud-review", "p.analytics"]


def authorize_payment(placed: Mapping[str, Any]) -> dict[str, Any]:
    return {"order_id": placed["order_id"], "customer_id": placed["customer_id"],
            "amount_minor": placed["total_minor"], "currency": placed["currency"]}


def reserve_inventory(placed: Mapping[str, Any]) -> dict[str, Any]:
    return {"order_id": placed["order_id"],
            "lines": [{"sku": item["sku"], "quantity": item["quantity"]} for item in placed["items"]]}


COMMAND_RULES = (  # the domain sends its commands from the saga; the platform can still make them by fan-out
    Rule("payments", source="OrderPlaced", target="payments", command="AuthorizePayment", transform=authorize_payment),
    Rule("inventory", source="OrderPlaced", target="inventory", command="ReserveInventory",
         transform=reserve_inventory),
)


def fanout(rules: Any = RULES, codec: AvroCodec | None = None) -> Fanout:
    return Fanout(rules, events=CATALOG.schemas, commands=COMMANDS, codec=codec or AvroCodec(MemoryRegistry()),
                  topic=lambda target: "p." + target, producer="test")


def order(total_minor: int) -> dict[str, Any]:
    """An OrderPlaced as the Avro record it decodes to, for ``total_minor``."""
    return to_avro(placed(items=[{"sku": "sku-a", "quantity": 1, "unit_price_minor": total_minor}],
                          total_minor=total_minor))


PAYMENT: dict[str, Any] = {"order_id": "o-1", "payment_id": "pay-1", "amount_minor": 150_000, "currency": "EUR",
                           "authorized_at": NOW}


class Source:
    """One event as the order agent has it: its bytes from the topic, the decoded record, its envelope."""

    def __init__(self, codec: AvroCodec, event_type: str, fields: Mapping[str, Any]) -> None:
        self.event_type = event_type
        self.value = codec.encode("p.orders", CATALOG.schemas[event_type], fields)
        self.record = codec.decode(self.value, CATALOG.readers).record
        self.envelope = Envelope.new(event_type, "ingest")

    async def outputs(self, router: Fanout) -> list[Output]:
        return await router.outputs(self.event_type, self.record, key=b"o-1", value=self.value,
                                    envelope=self.envelope)


def topics(router: Fanout, event_type: str, record: Mapping[str, Any]) -> list[str]:
    return ["p." + rule.target for rule in router.matching(event_type, record)]


def test_a_large_order_goes_everywhere_including_fraud_review() -> None:
    assert topics(fanout(), "OrderPlaced", order(150_000)) == ALL


@pytest.mark.parametrize(("total", "reviewed"), [(100_000, False), (100_001, True), (99_999, False)])
def test_fraud_review_is_only_for_orders_over_the_threshold(total: int, reviewed: bool) -> None:
    assert ("p.fraud-review" in topics(fanout(), "OrderPlaced", order(total))) is reviewed
    assert len(topics(fanout(), "OrderPlaced", order(total))) == 2 + reviewed


def test_other_events_go_to_analytics_only() -> None:
    assert topics(fanout(), "PaymentAuthorized", PAYMENT) == ["p.analytics"]
    assert topics(fanout(), "NotAnEventType", PAYMENT) == []


def test_an_event_the_lifecycle_refused_goes_to_analytics_only() -> None:
    router = fanout()
    assert [r.name for r in router.matching("OrderPlaced", order(150_000), accepted=False)] == ["analytics"]
    assert [r.name for r in router.matching("PaymentAuthorized", PAYMENT, accepted=False)] == ["analytics"]
    assert [r.name for r in router.matching("OrderPlaced", order(150_000))][-1] == "analytics"


async def test_a_refused_event_goes_out_as_it_came_with_a_derived_envelope() -> None:
    codec = AvroCodec(MemoryRegistry())
    source = Source(codec, "OrderPlaced", order(150_000))
    [out] = await fanout(codec=codec).outputs(source.event_type, source.record, key=b"o-1", value=source.value,
                                              envelope=source.envelope, accepted=False)
    assert (out.rule, out.topic, out.key, out.value) == ("analytics", "p.analytics", b"o-1", source.value)
    headers = dict(out.headers)
    assert headers[h.CAUSATION_ID] == source.envelope.event_id.encode()
    assert headers[h.EVENT_TYPE] == b"OrderPlaced"


def test_the_targets_are_every_topic_a_rule_writes() -> None:
    assert fanout().targets == sorted(ALL)


async def test_outputs_keep_the_key_and_derive_the_envelope_deterministically_per_rule() -> None:
    codec = AvroCodec(MemoryRegistry())
    router = fanout(codec=codec)
    source = Source(codec, "OrderPlaced", order(150_000))
    outputs = await source.outputs(router)
    assert [(o.rule, o.topic) for o in outputs] == [(t.removeprefix("p."), t) for t in ALL]
    assert all(o.key == b"o-1" for o in outputs)
    envelopes = [Envelope.from_headers(o.headers) for o in outputs]
    for envelope in envelopes:
        assert envelope.correlation_id == source.envelope.correlation_id
        assert envelope.causation_id == source.envelope.event_id
        assert envelope.occurred_at == source.envelope.occurred_at
        assert envelope.producer == "test"
    assert [e.event_type for e in envelopes] == ["OrderPlaced"] * 3
    ids = [e.event_id for e in envelopes]
    assert len(set(ids)) == len(ids)
    assert source.envelope.event_id not in ids

    again = await source.outputs(router)  # reprocessing the same event: the same ids, so consumers deduplicate
    assert [Envelope.from_headers(o.headers).event_id for o in again] == ids
    assert [o.headers for o in again] == [o.headers for o in outputs]


async def test_another_source_event_gets_other_output_ids() -> None:
    codec = AvroCodec(MemoryRegistry())
    router = fanout(codec=codec)
    first = await Source(codec, "OrderPlaced", order(150_000)).outputs(router)
    second = await Source(codec, "OrderPlaced", order(150_000)).outputs(router)
    assert not {h_ for o in first for h_ in o.headers if h_[0] == h.EVENT_ID} & {
        h_ for o in second for h_ in o.headers if h_[0] == h.EVENT_ID}


async def test_commands_are_encoded_from_the_order_through_the_registry() -> None:
    registry = MemoryRegistry()
    codec = AvroCodec(registry)
    router = fanout(COMMAND_RULES, codec=codec)
    outputs = {o.rule: o for o in await Source(codec, "OrderPlaced", order(150_000)).outputs(router)}

    payment = codec.decode(outputs["payments"].value, COMMANDS["AuthorizePayment"])
    assert payment.writer_name == "com.acme.orders.AuthorizePayment"
    assert payment.record == {"order_id": "o-1", "customer_id": "c-1", "amount_minor": 150_000, "currency": "EUR"}
    reserve = codec.decode(outputs["inventory"].value, COMMANDS["ReserveInventory"])
    # The transform names no warehouse: the schema's default fills it in.
    assert reserve.record == {"order_id": "o-1", "lines": [{"sku": "sku-a", "quantity": 1}], "warehouse": "main"}
    assert "p.payments-com.acme.orders.AuthorizePayment" in registry.subjects


async def test_events_that_go_out_as_they_are_keep_their_bytes() -> None:
    codec = AvroCodec(MemoryRegistry())
    router = fanout(codec=codec)
    source = Source(codec, "OrderPlaced", order(150_000))
    outputs = {o.rule: o for o in await source.outputs(router)}
    for rule in ("notifications", "fraud-review", "analytics"):
        assert outputs[rule].value == source.value
    payment = Source(codec, "PaymentAuthorized", PAYMENT)
    [analytics] = await payment.outputs(router)
    assert (analytics.topic, analytics.value) == ("p.analytics", payment.value)
    assert Envelope.from_headers(analytics.headers).event_type == "PaymentAuthorized"


def transform(record: Mapping[str, Any]) -> dict[str, Any]:
    return dict(record)


@pytest.mark.parametrize(("rule", "error", "says"), [
    (Rule("big-spenders", source="OrderPlaced", target="x", pattern={"total": [{"numeric": [">", 1]}]}),
     PatternError, "total"),
    (Rule("everything-big", source=ANY_EVENT, target="x", pattern={"total_minor": [{"numeric": [">", 1]}]}),
     PatternError, "total_minor"),
    (Rule("teleports", source="OrderTeleported", target="x"), ConfigError, "OrderTeleported"),
    (Rule("half-command", source="OrderPlaced", target="x", command="AuthorizePayment"), ConfigError, "transform"),
    (Rule("half-transform", source="OrderPlaced", target="x", transform=transform), ConfigError, "command"),
    (Rule("unknown-command", source="OrderPlaced", target="x", command="TeleportOrder", transform=transform),
     ConfigError, "TeleportOrder"),
    (Rule("bad-pattern", source="OrderPlaced", target="x", pattern={"total_minor": [{"numeric": [">"]}]}),
     PatternError, "numeric"),
])
def test_a_rule_that_cannot_work_is_refused_at_start_up_by_name(rule: Rule, error: type[ConfigError],
                                                                 says: str) -> None:
    with pytest.raises(error) as caught:
        fanout([*RULES, rule])
    assert f"fan-out rule {rule.name!r}" in caught.value.message
    assert says in caught.value.message


def test_a_rule_name_used_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="'analytics' is defined twice"):
        fanout([*RULES, Rule("analytics", source="OrderPlaced", target="analytics-again")])
