"""The secure dev broker with raw clients (no app code): SCRAM and mutual TLS let a record through, a wrong password
and an untrusted certificate are refused with an error that says so, and aiokafka (Faust's client) gets in too."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from aiokafka.helpers import create_ssl_context
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from tests.integration.security.conftest import SecureBroker

_WAIT = 15.0  # every wait below is bounded by this
_QUIET = logging.getLogger("tests.security.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@pytest.fixture
def topic(secure_broker: SecureBroker) -> str:
    name = f"secure-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": secure_broker.plaintext})
    admin.create_topics([NewTopic(name, 1, 1)])[name].result(timeout=_WAIT)
    return name


def _round_trip(config: dict[str, Any], topic: str) -> None:
    value = uuid.uuid4().bytes
    producer = Producer(config | {"acks": "all"})
    producer.produce(topic, key=b"k", value=value)
    assert producer.flush(_WAIT) == 0
    consumer = Consumer(config | {"group.id": topic, "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    try:
        deadline = time.monotonic() + _WAIT
        message = None
        while message is None and time.monotonic() < deadline:
            message = consumer.poll(0.5)
        assert message is not None, "no record within the wait"
        assert message.error() is None, message.error()
        assert (message.key(), message.value()) == (b"k", value)
    finally:
        consumer.close()


def _refusal(config: dict[str, Any]) -> KafkaError:
    """The first error librdkafka reports (error_cb) for a client that must not get in: its metadata request fails
    within the wait instead of hanging.  (Its log lines go nowhere: the error is what a caller gets to see.)"""
    errors: list[KafkaError] = []
    admin = AdminClient(config | {"error_cb": errors.append, "logger": _QUIET})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=3.0)
    deadline = time.monotonic() + _WAIT
    while not errors and time.monotonic() < deadline:
        admin.poll(0.2)
    assert errors, "refused, but error_cb said nothing"
    return errors[0]


@pytest.mark.parametrize(("protocol", "mechanism"), [
    ("SASL_PLAINTEXT", "SCRAM-SHA-256"),
    ("SASL_SSL", "SCRAM-SHA-512"),
    ("SSL", None),
])
def test_a_record_goes_through(secure_broker: SecureBroker, topic: str, protocol: str, mechanism: str | None) -> None:
    _round_trip(secure_broker.librdkafka(protocol, mechanism=mechanism), topic)


def test_a_wrong_password_is_an_authentication_error(secure_broker: SecureBroker) -> None:
    config = secure_broker.librdkafka("SASL_PLAINTEXT") | {"sasl.password": "not-" + secure_broker.password}
    error = _refusal(config)
    # "sasl_plaintext://127.0.0.1:<port>/bootstrap: SASL authentication error: Authentication failed during
    # authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256 (after 322ms in state AUTH_REQ)"
    assert error.code() == KafkaError._AUTHENTICATION
    assert "Authentication failed during authentication due to invalid credentials" in error.str()
    assert secure_broker.password not in error.str()


def test_an_untrusted_broker_certificate_is_refused(secure_broker: SecureBroker) -> None:
    config = secure_broker.librdkafka("SSL") | {"ssl.ca.location": str(secure_broker.untrusted_ca)}
    error = _refusal(config)
    # "ssl://127.0.0.1:<port>/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed:
    # broker certificate could not be verified, verify that ssl.ca.location is correctly configured or root CA
    # certificates are installed (install ca-certificates package) (after 15ms in state SSL_HANDSHAKE)"
    assert error.code() == KafkaError._SSL
    assert "certificate verify failed" in error.str()


def test_the_ssl_listener_refuses_a_client_certificate_from_another_ca(secure_broker: SecureBroker) -> None:
    config = secure_broker.librdkafka("SSL") | {"ssl.certificate.location": str(secure_broker.untrusted_client_cert),
                                                "ssl.key.location": str(secure_broker.untrusted_client_key)}
    error = _refusal(config)
    # TLS 1.3: the client's handshake is over before the broker checks its certificate, so the refusal arrives as
    # an alert on the first request: "ssl://127.0.0.1:<port>/bootstrap: Receive failed: error:0A000412:SSL
    # routines::ssl/tls alert bad certificate: SSL alert number 42 (after 0ms in state APIVERSION_QUERY)"
    assert error.code() == KafkaError._TRANSPORT
    assert "bad certificate" in error.str()


def _aiokafka(secure: SecureBroker, protocol: str, password: str | None = None,
              cafile: str | None = None) -> AIOKafkaProducer:
    """An aiokafka producer configured as Faust configures its own: SASL fields and an ``ssl.SSLContext``."""
    options: dict[str, Any] = {"bootstrap_servers": secure.address(protocol), "security_protocol": protocol,
                               "request_timeout_ms": int(_WAIT * 1000)}
    if protocol.startswith("SASL_"):
        options |= {"sasl_mechanism": secure.mechanism, "sasl_plain_username": secure.username,
                    "sasl_plain_password": password or secure.password}
    if protocol.endswith("SSL"):
        options["ssl_context"] = create_ssl_context(cafile=cafile or str(secure.ca), certfile=str(secure.client_cert),
                                                    keyfile=str(secure.client_key))
    return AIOKafkaProducer(**options)


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SSL"])
async def test_aiokafka_produces_through(secure_broker: SecureBroker, topic: str, protocol: str) -> None:
    producer = _aiokafka(secure_broker, protocol)
    async with asyncio.timeout(_WAIT * 2):
        await producer.start()
        try:
            metadata = await producer.send_and_wait(topic, b"v", key=b"k")
        finally:
            await producer.stop()
    assert (metadata.topic, metadata.offset) == (topic, 0)


@pytest.mark.parametrize(("case", "cause"), [
    ("wrong password", "[Error 58] SaslAuthenticationFailed: Authentication failed during authentication due to "
                       "invalid credentials with SASL mechanism SCRAM-SHA-256"),
    ("untrusted CA", "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
], ids=["wrong password", "untrusted CA"])
async def test_aiokafka_is_refused(secure_broker: SecureBroker, case: str, cause: str,
                                   caplog: pytest.LogCaptureFixture) -> None:
    """aiokafka raises only ``KafkaConnectionError("Unable to bootstrap from [...]")``; the cause is in its log,
    at ERROR: ``Unable connect to "127.0.0.1:<port>": <cause>``."""
    if case == "wrong password":
        producer = _aiokafka(secure_broker, "SASL_PLAINTEXT", password="not-" + secure_broker.password)
    else:
        producer = _aiokafka(secure_broker, "SSL", cafile=str(secure_broker.untrusted_ca))
    async with asyncio.timeout(_WAIT * 2):
        try:
            with pytest.raises(KafkaConnectionError, match="Unable to bootstrap from"):
                await producer.start()
        finally:
            await producer.stop()
    said = [record.getMessage() for record in caplog.records if record.name.startswith("aiokafka")]
    assert any(cause in line for line in said), said
