"""How every Kafka client of the project reaches the cluster: servers and security, in one object.

``KafkaConnection`` is made from the settings (``Settings.kafka``) and turns them into each client's own
configuration: librdkafka's (confluent-kafka producers, consumers, admin: ``config``), aiokafka's through
Faust's credentials (``faust_credentials``).  Nothing else in the project builds a client configuration
from ``bootstrap.servers`` alone, so a cluster that needs SASL or TLS works for the worker, the CLI and the
registry's store alike.

``reachable`` is the first contact of a command or a worker: it returns an admin client once the cluster
answers, and turns what the clients only log (a refused password, an untrusted certificate, a plaintext
client on a TLS listener) into one ``ConfigError`` naming the setting to fix, at once, where the clients
themselves would retry until a timeout.  The password is never part of a message, a repr or a log line.
"""

from __future__ import annotations

import logging
import re
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from pydantic import SecretStr

from streams.errors import ConfigError, TransientError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from faust.types.auth import CredentialsT

    from streams.settings import Settings

__all__ = ["KafkaConnection", "SecurityRefusedError"]

# librdkafka's own log lines (connection refused while a broker boots, each failed authentication) go nowhere:
# what matters reaches ``reachable`` through the error callback and is said once, as one line.
_QUIET = logging.getLogger("streams.connection.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False

_THREAD = re.compile(r"^\[thrd:[^\]]*\]: ")
_SASL_HINT = "check STREAMS_SASL_USERNAME, STREAMS_SASL_PASSWORD and STREAMS_SASL_MECHANISM"
_FILES_HINT = ("check STREAMS_SSL_CAFILE, STREAMS_SSL_CERTFILE and STREAMS_SSL_KEYFILE: PEM files, the key without "
               "a pass phrase")


@dataclass(frozen=True)
class KafkaConnection:
    """Where the cluster is and how to authenticate to it (Kafka's own meanings; PLAINTEXT by default)."""

    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = field(default=None, repr=False)
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaConnection:
        return cls(settings.bootstrap_servers, settings.security_protocol, settings.sasl_mechanism,
                   settings.sasl_username, settings.sasl_password, settings.ssl_cafile, settings.ssl_certfile,
                   settings.ssl_keyfile)

    def __str__(self) -> str:
        """What messages say of the cluster: its servers (never a credential)."""
        return self.bootstrap_servers

    def describe(self) -> str:
        """What a startup line says of the connection: the protocol, and the SASL user and mechanism."""
        if self.uses_sasl:
            return f"{self.security_protocol} as {self.sasl_username} ({self.sasl_mechanism})"
        return self.security_protocol

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def config(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A librdkafka (confluent-kafka) client configuration: servers, security, then ``extra``."""
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap_servers,
                                  "security.protocol": self.security_protocol}
        if self.uses_sasl:
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username or ""
            config["sasl.password"] = self.sasl_password.get_secret_value() if self.sasl_password else ""
        if self.uses_tls:
            if self.ssl_cafile is not None:
                config["ssl.ca.location"] = str(self.ssl_cafile)
            if self.ssl_certfile is not None and self.ssl_keyfile is not None:
                config["ssl.certificate.location"] = str(self.ssl_certfile)
                config["ssl.key.location"] = str(self.ssl_keyfile)
        config.update(extra or {})
        return config

    def admin(self, extra: Mapping[str, Any] | None = None) -> AdminClient:
        return AdminClient(self.config({"logger": _QUIET, **(extra or {})}))

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of Python clients (aiokafka): the CA file (else the system's), the client certificate."""
        if not self.uses_tls:
            return None
        try:
            context = ssl.create_default_context(cafile=str(self.ssl_cafile) if self.ssl_cafile else None)
            if self.ssl_certfile is not None and self.ssl_keyfile is not None:
                # no pass phrase: OpenSSL would prompt for one on the terminal (a worker would hang)
                context.load_cert_chain(str(self.ssl_certfile), str(self.ssl_keyfile), password=lambda: b"")
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"cannot use the TLS files of the Kafka connection: {exc}", hint=_FILES_HINT) from None
        return context

    def faust_credentials(self) -> CredentialsT | None:
        """Faust's ``broker_credentials`` (its aiokafka consumer, producer and topic creation); None: plaintext."""
        from faust.auth import SASLCredentials, SSLCredentials

        if self.uses_sasl:
            return SASLCredentials(
                username=self.sasl_username,
                password=self.sasl_password.get_secret_value() if self.sasl_password else None,
                mechanism=self.sasl_mechanism, ssl_context=self.ssl_context())  # a context: SASL_SSL
        context = self.ssl_context()
        return SSLCredentials(context) if context is not None else None

    def reachable(self, timeout: float = 10.0) -> AdminClient:
        """An admin client of the cluster once it answers.

        ``ConfigError`` when the cluster refuses this connection's security: at once for a refused password or
        an untrusted certificate (retrying cannot help), at ``timeout`` for what may also be a broker going
        away (a failed TLS handshake, a plaintext client on a TLS listener); ``TransientError`` when nothing
        answers within ``timeout``.
        """
        refused: list[KafkaError | str] = []
        try:
            admin = self.admin({"error_cb": refused.append, "logger": _Said(refused)})  # some causes are only logged
        except KafkaException as exc:  # librdkafka refused its configuration: a TLS file it cannot read
            raise ConfigError(f"cannot configure a Kafka client: {exc.args[0].str()}", hint=_FILES_HINT) from None
        deadline = time.monotonic() + timeout
        last, suspected = "no answer", None
        while True:
            try:
                admin.list_topics(timeout=min(1.0, max(0.1, deadline - time.monotonic())))
                return admin
            except KafkaException as exc:
                last = str(exc.args[0])
            admin.poll(0)  # serves the error callback
            explained = [self.explain(error) for error in refused]
            certain = next((e for e in explained if e is not None and e.certain), None)
            if certain is not None:
                raise certain
            if any("connection refused" in _text(error).lower() for error in refused):
                suspected = None  # nothing listens there (now): a broker down, whatever was suspected before
            else:
                suspected = next((e for e in explained if e is not None), suspected)
            refused.clear()
            if time.monotonic() >= deadline:
                raise suspected or TransientError(
                    f"cannot reach Kafka at {self}: {last}",
                    hint="start it with `streams dev` or docker compose, or set STREAMS_BROKER")

    def explain(self, error: KafkaError | str) -> SecurityRefusedError | None:
        """The setting to fix, when ``error`` says the cluster refused this connection's security; else None."""
        text = _text(error)
        lowered = text.lower()
        if "verify failed" in lowered:
            trusted = f"STREAMS_SSL_CAFILE={self.ssl_cafile}" if self.ssl_cafile else "the system's CAs"
            return SecurityRefusedError(f"the certificate of Kafka at {self} is not trusted by {trusted}: {text}",
                                   hint="set STREAMS_SSL_CAFILE to the CA that signed the brokers' certificates")
        if (isinstance(error, KafkaError) and error.code() == KafkaError._AUTHENTICATION) \
                or "authentication" in lowered:
            return SecurityRefusedError(f"Kafka at {self} refused the credentials of STREAMS_SASL_USERNAME="
                                   f"{self.sasl_username} (STREAMS_SASL_MECHANISM={self.sasl_mechanism}): {text}",
                                   hint=_SASL_HINT)
        if "ssl" in lowered or "handshake" in lowered:
            return SecurityRefusedError(
                f"the TLS handshake with Kafka at {self} failed (STREAMS_SECURITY_PROTOCOL={self.security_protocol})"
                f": {text}", certain=False,
                hint="check STREAMS_SECURITY_PROTOCOL, STREAMS_SSL_CAFILE, and STREAMS_SSL_CERTFILE with "
                     "STREAMS_SSL_KEYFILE when the brokers ask for a client certificate")
        if "security.protocol" in lowered or ("disconnected" in lowered and "state apiversion_query" in lowered):
            # the broker hangs up on the first request it cannot read: a plaintext client on a TLS listener
            return SecurityRefusedError(f"Kafka at {self} does not seem to speak STREAMS_SECURITY_PROTOCOL="
                                   f"{self.security_protocol}: {text}", certain=False,
                                   hint="set STREAMS_SECURITY_PROTOCOL to the protocol of the brokers' listener")
        return None


class SecurityRefusedError(ConfigError):
    """The cluster refused the connection's security settings; ``certain``: no broker restart explains it."""

    def __init__(self, message: str, *, hint: str, certain: bool = True) -> None:
        super().__init__(message, hint=hint)
        self.certain = certain


def _text(error: KafkaError | str) -> str:
    return error.str() if isinstance(error, KafkaError) else error


class _Said:
    """librdkafka's logger (``log(level, format, *args)``, served by ``poll``): keeps each line, to be explained."""

    def __init__(self, lines: list[KafkaError | str]) -> None:
        self.lines = lines

    def log(self, level: int, fmt: str, *args: object) -> None:
        # ("%s [%s] %s", facility, client, "[thrd:...]: message"): the message, as the error callback says it
        self.lines.append(_THREAD.sub("", str(args[-1])) if args else fmt)
