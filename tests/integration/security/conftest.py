"""A dev broker that needs what a managed Kafka needs: SASL/SCRAM and TLS, with certificates made by the test.

``secure_broker`` starts one broker of its own for the session (its own data dir: the shared ``kafka_broker`` and
the tests on it are untouched) with four client listeners besides CONTROLLER:

- PLAINTEXT: between brokers, and the fixture's own admin client (it creates the SCRAM user);
- SASL_PLAINTEXT: SCRAM-SHA-256 and SCRAM-SHA-512;
- SSL: the broker's certificate, and ``ssl.client.auth=required`` (mutual TLS: a client certificate signed by the
  test CA, nothing else, is let in);
- SASL_SSL: SCRAM over TLS, without a client certificate (what managed clusters mostly ask for).

The key and trust stores are PEM files (``ssl.keystore.type=PEM``, Kafka reads them since 2.7), so no keytool and
no JKS. The SCRAM user is created after start through the admin API over PLAINTEXT (its password random); the
fixture yields only once that user authenticates and the SSL listener takes the client certificate, so a test
that fails later failed on what it tests, not on a broker still applying its credentials.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # exported, but not in an __all__
    AdminClient,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from streams.devstack.kafka import KafkaBroker
from streams.devstack.ports import free_port
from streams.settings import Settings
from tests.integration.security.certs import make_pems

__all__ = ["PROTOCOLS", "SecureBroker"]

PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL")
_SCRAM = ("SCRAM-SHA-256", "SCRAM-SHA-512")
_SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
_READY_TIMEOUT = 30.0


@dataclass(frozen=True)
class SecureBroker:
    """The secure broker's listeners (``host:port`` each), its SCRAM user and the PEM files of the session."""

    broker: KafkaBroker
    plaintext: str
    sasl_plaintext: str
    ssl: str
    sasl_ssl: str
    username: str
    password: str  # random per session: a test may grep output for it
    mechanism: str  # SCRAM-SHA-256; the user has SCRAM-SHA-512 credentials too, same password
    ca: Path  # trusted by the broker and to be trusted by clients
    client_cert: Path  # signed by ``ca``: what the SSL listener (mutual TLS) lets in
    client_key: Path
    untrusted_ca: Path  # an unrelated CA: a client trusting only it must refuse the broker
    untrusted_client_cert: Path  # signed by ``untrusted_ca``: the SSL listener must refuse it
    untrusted_client_key: Path

    def address(self, protocol: str) -> str:
        """``host:port`` of the listener speaking ``protocol`` (one of ``PROTOCOLS``)."""
        return {"PLAINTEXT": self.plaintext, "SASL_PLAINTEXT": self.sasl_plaintext, "SSL": self.ssl,
                "SASL_SSL": self.sasl_ssl}[protocol]

    def librdkafka(self, protocol: str, *, mechanism: str | None = None) -> dict[str, Any]:
        """A working confluent-kafka (librdkafka) configuration for the listener speaking ``protocol``: the
        SCRAM user on SASL listeners, the CA on TLS ones, the client certificate on SSL (mutual TLS)."""
        config: dict[str, Any] = {"bootstrap.servers": self.address(protocol), "security.protocol": protocol}
        if protocol.startswith("SASL_"):
            config |= {"sasl.mechanism": mechanism or self.mechanism, "sasl.username": self.username,
                       "sasl.password": self.password}
        if protocol.endswith("SSL"):
            config["ssl.ca.location"] = str(self.ca)
        if protocol == "SSL":
            config |= {"ssl.certificate.location": str(self.client_cert), "ssl.key.location": str(self.client_key)}
        return config


def _server_config(ports: dict[str, int], controller_port: int, ca: Path, keystore: Path) -> dict[str, str]:
    """The server.properties keys that differ from the plain dev broker's (``KafkaBroker.extra_config``)."""
    listeners = [f"{name}://127.0.0.1:{port}" for name, port in ports.items()]
    config = {
        "listeners": ",".join([*listeners, f"CONTROLLER://127.0.0.1:{controller_port}"]),
        "advertised.listeners": ",".join(listeners),
        "listener.security.protocol.map": ",".join(f"{name}:{name}" for name in [*ports, "CONTROLLER"])
        .replace("CONTROLLER:CONTROLLER", "CONTROLLER:PLAINTEXT"),
        "sasl.enabled.mechanisms": ",".join(_SCRAM),
        # the global key and trust stores serve both TLS listeners; only SSL asks for a client certificate
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(ca),
        "listener.name.ssl.ssl.client.auth": "required",
    }
    for listener in ("sasl_plaintext", "sasl_ssl"):  # a SASL listener needs a login module per mechanism
        for mechanism in _SCRAM:
            config[f"listener.name.{listener}.{mechanism.lower()}.sasl.jaas.config"] = _SCRAM_LOGIN
    return config


def _create_scram_user(admin: AdminClient, username: str, password: str) -> None:
    """Give ``username`` credentials for both SCRAM mechanisms (one request each: Kafka refuses to alter one user
    twice in a request)."""
    for mechanism in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512):
        upsert = UserScramCredentialUpsertion(username, ScramCredentialInfo(mechanism, 8192), password.encode())
        for future in admin.alter_user_scram_credentials([upsert]).values():
            future.result(timeout=_READY_TIMEOUT)


def _answers(config: dict[str, Any]) -> bool:
    """True when a fresh client with ``config`` gets metadata (a fresh one: no reconnect backoff carried over)."""
    try:
        AdminClient(config).list_topics(timeout=2.0)
    except KafkaException:
        return False
    return True


@pytest.fixture(scope="session")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    settings = Settings()
    pems = make_pems(tmp_path_factory.mktemp("pems"))
    ports = {name: free_port() for name in PROTOCOLS}
    controller_port = free_port()
    broker = KafkaBroker(
        data_dir=tmp_path_factory.mktemp("kafka-secure"), cache_dir=settings.kafka_cache_dir,
        kafka_home=settings.kafka_home, port=ports["PLAINTEXT"], controller_port=controller_port,
        extra_config=_server_config(ports, controller_port, pems.ca, pems.server_keystore),
        name="the secure Kafka broker",
    )
    broker.start()
    try:
        secure = SecureBroker(
            broker=broker, username="streams-test", password=secrets.token_urlsafe(18), mechanism="SCRAM-SHA-256",
            ca=pems.ca, client_cert=pems.client_cert, client_key=pems.client_key, untrusted_ca=pems.untrusted_ca,
            untrusted_client_cert=pems.untrusted_client_cert, untrusted_client_key=pems.untrusted_client_key,
            plaintext=f"127.0.0.1:{ports['PLAINTEXT']}", sasl_plaintext=f"127.0.0.1:{ports['SASL_PLAINTEXT']}",
            ssl=f"127.0.0.1:{ports['SSL']}", sasl_ssl=f"127.0.0.1:{ports['SASL_SSL']}",
        )
        _create_scram_user(AdminClient({"bootstrap.servers": secure.plaintext}), secure.username, secure.password)
        pending = [secure.librdkafka(protocol) for protocol in PROTOCOLS[1:]]
        pending.append(secure.librdkafka("SASL_SSL", mechanism="SCRAM-SHA-512"))
        deadline = time.monotonic() + _READY_TIMEOUT
        while pending and time.monotonic() < deadline:
            pending = [config for config in pending if not _answers(config)]
        if pending:
            raise RuntimeError(f"the secure broker did not let these clients in within {_READY_TIMEOUT:.0f}s: "
                               f"{[(c['security.protocol'], c.get('sasl.mechanism')) for c in pending]}; "
                               f"see {broker.log_path}")
        yield secure
    finally:
        broker.stop()
