"""The Kafka connection settings: what each client gets from them, what is refused, what an error says."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from faust.auth import SASLCredentials, SSLCredentials
from pydantic import SecretStr, ValidationError

from streams.connection import KafkaConnection, SecurityRefusedError
from streams.errors import ConfigError, TransientError
from streams.settings import Settings, explain_invalid

PASSWORD = "pa55-word-never-shown"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECURITY_PROTOCOL", "SASL_MECHANISM", "SASL_USERNAME", "SASL_PASSWORD", "SSL_CAFILE",
                 "SSL_CERTFILE", "SSL_KEYFILE", "BROKER", "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO",
                 "SCHEMA_REGISTRY_SSL_CAFILE", "SCHEMA_REGISTRY_URL"):
        monkeypatch.delenv(f"STREAMS_{name}", raising=False)


@pytest.fixture
def pem(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_text("not parsed by the settings, only checked to exist")
    return path


def test_plaintext_by_default_gives_servers_and_protocol_only() -> None:
    kafka = Settings(broker="kafka://a:9092,kafka://b:9093").kafka
    assert kafka.config() == {"bootstrap.servers": "a:9092,b:9093", "security.protocol": "PLAINTEXT"}
    assert kafka.faust_credentials() is None
    assert kafka.ssl_context() is None
    assert kafka.describe() == "PLAINTEXT"


def test_sasl_ssl_gives_librdkafka_its_credentials_and_ca(monkeypatch: pytest.MonkeyPatch, pem: Path) -> None:
    monkeypatch.setenv("STREAMS_SECURITY_PROTOCOL", "sasl_ssl")  # any case, as users type it
    monkeypatch.setenv("STREAMS_SASL_MECHANISM", "scram-sha-512")
    monkeypatch.setenv("STREAMS_SASL_USERNAME", "orders-app")
    monkeypatch.setenv("STREAMS_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("STREAMS_SSL_CAFILE", str(pem))
    kafka = Settings().kafka
    assert kafka.config({"client.id": "x"}) == {
        "bootstrap.servers": "127.0.0.1:9092", "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "orders-app", "sasl.password": PASSWORD, "ssl.ca.location": str(pem), "client.id": "x"}
    assert kafka.describe() == "SASL_SSL as orders-app (SCRAM-SHA-512)"
    assert PASSWORD not in repr(kafka)
    assert PASSWORD not in str(kafka)


def test_faust_gets_sasl_credentials_with_a_tls_context_only_over_tls() -> None:
    over_tls = KafkaConnection("a:9092", "SASL_SSL", "SCRAM-SHA-256", "u", SecretStr(PASSWORD))
    credentials = over_tls.faust_credentials()
    assert isinstance(credentials, SASLCredentials)
    assert (credentials.protocol.value, credentials.mechanism.value) == ("SASL_SSL", "SCRAM-SHA-256")
    assert (credentials.username, credentials.password) == ("u", PASSWORD)
    assert PASSWORD not in repr(credentials)
    plain = KafkaConnection("a:9092", "SASL_PLAINTEXT", "PLAIN", "u", SecretStr(PASSWORD)).faust_credentials()
    assert isinstance(plain, SASLCredentials)
    assert plain.protocol.value == "SASL_PLAINTEXT"
    assert plain.ssl_context is None


def test_ssl_uses_the_system_cas_when_no_ca_file_is_given() -> None:
    credentials = KafkaConnection("a:9092", "SSL").faust_credentials()
    assert isinstance(credentials, SSLCredentials)
    assert credentials.context.verify_mode == ssl.CERT_REQUIRED
    assert KafkaConnection("a:9092", "SSL").config() == {"bootstrap.servers": "a:9092", "security.protocol": "SSL"}


@pytest.mark.parametrize(("env", "named"), [
    ({"STREAMS_SECURITY_PROTOCOL": "SASL_SSL", "STREAMS_SASL_USERNAME": "u"}, "STREAMS_SASL_PASSWORD"),
    ({"STREAMS_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "STREAMS_SASL_PASSWORD": PASSWORD}, "STREAMS_SASL_USERNAME"),
    ({"STREAMS_SECURITY_PROTOCOL": "TLS"}, "STREAMS_SECURITY_PROTOCOL"),
    ({"STREAMS_SASL_MECHANISM": "GSSAPI"}, "STREAMS_SASL_MECHANISM"),
    ({"STREAMS_SSL_CAFILE": "/nonexistent/ca.pem"}, "STREAMS_SSL_CAFILE"),
    ({"STREAMS_SASL_USERNAME": "u", "STREAMS_SASL_PASSWORD": PASSWORD}, "STREAMS_SECURITY_PROTOCOL=PLAINTEXT"),
    ({"STREAMS_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "STREAMS_SASL_USERNAME": "u", "STREAMS_SASL_PASSWORD": PASSWORD,
      "STREAMS_SSL_CAFILE": __file__}, "uses no TLS files"),
    ({"STREAMS_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": PASSWORD}, "STREAMS_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"),
    ({"STREAMS_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO": f"u:{PASSWORD}",
      "STREAMS_SCHEMA_REGISTRY_URL": "https://a:b@reg:8081"}, "STREAMS_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"),
])
def test_settings_that_cannot_connect_are_refused_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    line = explain_invalid(raised.value)
    assert named in line, line
    assert PASSWORD not in line


def test_a_client_certificate_needs_its_key(monkeypatch: pytest.MonkeyPatch, pem: Path) -> None:
    monkeypatch.setenv("STREAMS_SSL_CERTFILE", str(pem))
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert "STREAMS_SSL_KEYFILE" in explain_invalid(raised.value)


def test_empty_values_mean_unset_as_compose_passes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECURITY_PROTOCOL", "SASL_MECHANISM", "SASL_USERNAME", "SASL_PASSWORD", "SSL_CAFILE",
                 "SSL_CERTFILE", "SSL_KEYFILE"):
        monkeypatch.setenv(f"STREAMS_{name}", "")
    kafka = Settings().kafka
    assert (kafka.security_protocol, kafka.sasl_mechanism, kafka.sasl_password, kafka.ssl_cafile) == (
        "PLAINTEXT", "PLAIN", None, None)


def test_the_registry_client_gets_basic_auth_and_the_ca(monkeypatch: pytest.MonkeyPatch, pem: Path) -> None:
    monkeypatch.setenv("STREAMS_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", f"reg:{PASSWORD}")
    monkeypatch.setenv("STREAMS_SCHEMA_REGISTRY_SSL_CAFILE", str(pem))
    settings = Settings()
    assert settings.registry_client_config == {
        "url": "http://127.0.0.1:8081", "basic.auth.user.info": f"reg:{PASSWORD}", "ssl.ca.location": str(pem)}
    assert PASSWORD not in repr(settings)


SASL = KafkaConnection("a:9092", "SASL_SSL", "SCRAM-SHA-256", "orders-app", SecretStr(PASSWORD), Path("/ca.pem"))


def test_a_refused_password_names_the_sasl_settings_at_once() -> None:
    error = KafkaError(KafkaError._AUTHENTICATION, "SASL authentication error: Authentication failed during "
                       "authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256")
    explained = SASL.explain(error)
    assert explained is not None
    assert explained.certain
    assert "STREAMS_SASL_USERNAME=orders-app" in explained.one_line()
    assert "STREAMS_SASL_PASSWORD" in explained.one_line()
    assert PASSWORD not in explained.one_line()


def test_an_untrusted_certificate_names_the_ca_file_at_once() -> None:
    explained = SASL.explain("ssl://a:9092/bootstrap: SSL handshake failed: error:0A000086:SSL routines::"
                             "certificate verify failed: broker certificate could not be verified")
    assert explained is not None
    assert explained.certain
    assert "STREAMS_SSL_CAFILE=/ca.pem" in explained.one_line()


def test_a_protocol_mismatch_is_suspected_not_certain() -> None:
    explained = KafkaConnection("a:9092").explain(
        "a:9092/bootstrap: Disconnected while requesting ApiVersion: might be caused by incorrect "
        "security.protocol configuration (connecting to a SSL listener?) or broker version is < 0.10")
    assert explained is not None
    assert not explained.certain  # a broker going away mid-request says the same: only its persistence counts
    assert "STREAMS_SECURITY_PROTOCOL=PLAINTEXT" in explained.one_line()


def test_a_broker_that_is_down_is_not_a_security_error() -> None:
    assert SASL.explain(KafkaError(KafkaError._TRANSPORT, "a:9092/bootstrap: Connect to ipv4#127.0.0.1:9092 "
                                   "failed: Connection refused (after 0ms in state CONNECT)")) is None


class ScriptedAdmin:
    """An admin client whose cluster never answers; each poll says the next round of errors of ``rounds``
    (the last one again once they run out), through the error callback as librdkafka would."""

    def __init__(self, extra: dict[str, Any], rounds: list[list[str]]) -> None:
        self.error_cb, self.rounds = extra["error_cb"], rounds

    def list_topics(self, timeout: float) -> None:
        raise KafkaException(KafkaError(KafkaError._TRANSPORT, "Failed to get metadata"))

    def poll(self, timeout: float) -> None:
        for text in self.rounds.pop(0) if len(self.rounds) > 1 else self.rounds[0]:
            self.error_cb(KafkaError(KafkaError._TRANSPORT, text))


DISCONNECTED = "a:9092/bootstrap: Disconnected: connection closed by peer (after 1ms in state APIVERSION_QUERY)"
REFUSED = "a:9092/bootstrap: Connect to ipv4#127.0.0.1:9092 failed: Connection refused (after 0ms in state CONNECT)"


def reach(monkeypatch: pytest.MonkeyPatch, rounds: list[list[str]]) -> None:
    monkeypatch.setattr(KafkaConnection, "admin", lambda self, extra=None: ScriptedAdmin(dict(extra or {}), rounds))
    KafkaConnection("a:9092").reachable(timeout=0.5)


def test_a_protocol_mismatch_that_persists_is_said_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SecurityRefusedError, match="STREAMS_SECURITY_PROTOCOL=PLAINTEXT"):
        reach(monkeypatch, [[DISCONNECTED]])


def test_a_broker_going_away_is_not_taken_for_a_protocol_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """One disconnection while a broker shuts down, then nothing listens: the broker is down, not misconfigured."""
    with pytest.raises(TransientError, match="cannot reach Kafka at a:9092"):
        reach(monkeypatch, [[DISCONNECTED], [REFUSED]])


def test_a_tls_file_librdkafka_cannot_read_is_a_config_error(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(ConfigError) as librdkafka:
        KafkaConnection("127.0.0.1:1", "SSL", ssl_cafile=garbage).reachable(timeout=0.5)
    with pytest.raises(ConfigError) as python:
        KafkaConnection("127.0.0.1:1", "SSL", ssl_cafile=garbage).ssl_context()  # aiokafka's (the worker's)
    for raised in (librdkafka, python):
        assert "STREAMS_SSL_CAFILE" in raised.value.one_line()


def test_a_logged_cause_is_said_without_librdkafka_s_thread_prefix() -> None:
    from streams.connection import _Said

    lines: list[KafkaError | str] = []
    _Said(lines).log(3, "%s [%s] %s", "FAIL", "rdkafka#producer-1", "[thrd:ssl://a:9092/bootstrap]: a:9092: boom")
    assert lines == ["a:9092: boom"]
