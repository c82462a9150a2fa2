"""Every setting, read from the environment in one place.

``Settings()`` reads ``STREAMS_*`` variables once; the frozen object is then
passed explicitly to whatever needs it.  Nothing else in the project reads the
environment (``KAFKA_HOME`` included: it is a field here).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from streams.connection import KafkaConnection

__all__ = ["Settings", "explain_invalid", "variables", "without_credentials"]

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class Settings(BaseSettings):
    """Configuration of a worker, the registry and the CLI."""

    model_config = SettingsConfigDict(env_prefix="STREAMS_", frozen=True, extra="ignore")

    broker: str = Field(default="kafka://127.0.0.1:9092", description="Kafka bootstrap URL(s), comma separated")
    security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT",
        description="how every Kafka client of the project connects: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
        examples=["SASL_SSL"],
    )
    sasl_mechanism: SaslMechanism = Field(
        default="PLAIN", description="SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
        examples=["SCRAM-SHA-512"],
    )
    sasl_username: str | None = Field(default=None, description="SASL user (SASL_PLAINTEXT, SASL_SSL)",
                                      examples=["orders-app"])
    sasl_password: SecretStr | None = Field(default=None, validate_default=True,
                                            description="SASL password (SASL_PLAINTEXT, SASL_SSL); never shown")
    ssl_cafile: Path | None = Field(default=None, description="PEM file of the CA(s) that signed the brokers' "
                                    "certificates (default: the system's)", examples=["/etc/kafka/ca.pem"])
    ssl_certfile: Path | None = Field(default=None, description="PEM client certificate, when the brokers ask "
                                      "for one (mutual TLS)", examples=["/etc/kafka/client.pem"])
    ssl_keyfile: Path | None = Field(default=None, validate_default=True,
                                     description="PEM private key of STREAMS_SSL_CERTFILE",
                                     examples=["/etc/kafka/client.key"])
    schema_registry_url: str = Field(default="http://127.0.0.1:8081", description="Confluent-compatible registry")
    schema_registry_basic_auth_user_info: SecretStr | None = Field(
        default=None, description="`user:password` the registry asks for (HTTP basic auth); never shown",
    )
    schema_registry_ssl_cafile: Path | None = Field(
        default=None, description="PEM file of the CA that signed an https registry's certificate (default: the "
                                  "system's)", examples=["/etc/registry/ca.pem"],
    )
    web_port: int = Field(default=6066, ge=0, le=65535, description="HTTP port of the worker")
    web_host: str = Field(default="127.0.0.1", description="HTTP bind address of the worker")
    data_dir: Path = Field(default=Path("./.streams"), description="table stores, broker data, audit logs")
    api_token: SecretStr | None = Field(default=None, description="Bearer token for mutating HTTP calls",
                                        examples=["a-long-random-string"])
    app_id: str = Field(default="orders-app", description="Faust app id, also the consumer group")
    app_factory: str = Field(
        default="agents.app:create_app",
        description="module:function that builds the worker's faust.App from Settings",
    )
    log_level: str = Field(default="info", description="worker log level")
    schemas_dir: Path | None = Field(default=None, description=".avsc directory (default: the repo's schemas/)",
                                     examples=["./schemas"])
    topic_prefix: str = Field(default="", description="prefix of every topic name (isolates test runs)")
    producer_name: str = Field(default="streams", description="the `producer` header of events we write")
    topic_partitions: int = Field(default=4, ge=1, description="partitions of topics the app creates")
    replication_factor: int | None = Field(
        default=None, ge=1,
        description="copies of each partition of every topic the app creates, Faust's included (default: 3 on a "
                    "cluster of three brokers or more, else 1)",
        examples=[3],
    )
    min_insync_replicas: int | None = Field(
        default=None, ge=1,
        description="min.insync.replicas of every topic the app creates: copies that must have a write before it "
                    "is acknowledged (default: 2 when the replication factor is 3 or more, else 1)",
        examples=[2],
    )
    read_wait_timeout_s: float = Field(default=5.0, gt=0, description="default bound of ?after= waits")
    repartition_linger_ms: float = Field(
        default=50.0, gt=0, le=10_000,
        description="how long deltas wait for others bound to the same read-model partition (one record for all)",
    )
    outbox_linger_ms: float = Field(
        default=10.0, ge=0, le=1_000,
        description="how long the records agents write (changelogs, deltas, fan-out, dead letters) wait for others "
                    "of their partition before they go to Kafka; each event is acknowledged once its records are "
                    "delivered",
    )
    agent_turn_ms: float = Field(
        default=0.0, ge=0, le=100,
        description="how long an agent may hold the event loop before HTTP reads and the other agents get a turn "
                    "(0: after every event)",
    )
    retry_max_attempts: int = Field(default=5, ge=1, description="attempts of a record failing transiently")
    retry_base_delay_s: float = Field(default=0.1, gt=0, description="first backoff (doubles, full jitter)")
    retry_max_delay_s: float = Field(default=5.0, gt=0, description="longest backoff between attempts")
    breaker_open_s: float = Field(default=1.0, gt=0, description="first wait of an open breaker before a probe")
    breaker_max_open_s: float = Field(default=30.0, gt=0, description="longest wait between probes")
    session_timeout_s: float = Field(
        default=10.0, ge=6, le=1800,
        description="how long the group waits for a worker that stopped answering (a kill -9) before moving its "
                    "partitions (heartbeats run on the consumer's own thread: a busy worker still sends them)",
    )
    heartbeat_interval_s: float | None = Field(
        default=None, gt=0,
        description="how often a worker tells the group it is alive (default: a third of the session timeout, at "
                    "most 3 s); less than the session timeout",
        examples=[3],
    )
    instance_id: str | None = Field(
        default=None, max_length=249, pattern=r"^[A-Za-z0-9._-]*$",
        description="the worker's static group membership id: a worker restarted with it gets its partitions back "
                    "at once (default: made on first start and kept in the data dir; empty: no static membership)",
        examples=["orders-app-1f2e3d4c"],
    )
    standby_replicas: int = Field(
        default=1, ge=0, le=10,
        description="warm copies of each read-model table partition kept on other workers (Faust's standby replicas): "
                    "the worker that takes a partition over restores only the tail; 0: none",
    )
    processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        default="at_least_once",
        description="at_least_once: after a crash, outputs and dead letters may be written again (readers "
                    "deduplicate by event id); exactly_once: the table changes, outputs, dead letters and consumed "
                    "offsets of each commit interval are one Kafka transaction (readers use read_committed)",
    )
    commit_interval_s: float = Field(
        default=1.0, gt=0, le=60,
        description="how often a worker commits what it has processed (in exactly_once: how long a transaction "
                    "stays open, and so how long read_committed readers wait for its outputs)",
    )
    transaction_timeout_s: float = Field(
        default=10.0, ge=1, le=900,
        description="exactly_once: a transaction still open after this long is aborted by Kafka (the worker "
                    "stopped answering); the outputs of a worker that died are held from read_committed readers "
                    "until then",
    )
    lag_interval_s: float = Field(default=5.0, gt=0, description="how often a worker samples consumer lag")
    lag_window: int = Field(default=10, ge=2, description="samples in the window lag statuses are judged on")
    lag_groups: str = Field(default="", description="more consumer groups to watch, comma separated",
                            examples=["billing,shipping"])
    otlp_endpoint: str | None = Field(
        default=None,
        description="OpenTelemetry collector (OTLP over HTTP) that receives traces; unset: tracing off",
        examples=["http://127.0.0.1:4318"],
    )
    service_name: str | None = Field(
        default=None,
        description="service.name of this process's traces (default: OTEL_SERVICE_NAME, else streams-worker, "
                    "streams-cli)",
        examples=["orders-worker"],
    )
    trace_sample_ratio: float = Field(
        default=1.0, ge=0, le=1,
        description="share of new traces recorded (parent-based: a record or request continues its caller's choice)",
    )
    otel_traces_sampler: str | None = Field(
        default=None, validation_alias="OTEL_TRACES_SAMPLER",
        description="OpenTelemetry's own sampler choice; when set it replaces STREAMS_TRACE_SAMPLE_RATIO",
    )
    otel_sdk_disabled: bool = Field(
        default=False, validation_alias="OTEL_SDK_DISABLED",
        description="OpenTelemetry's switch: true turns tracing off",
    )
    traceparent: str | None = Field(
        default=None, validation_alias="TRACEPARENT",
        description="W3C trace context a CLI command continues (as OpenTelemetry's environment carrier)",
    )
    kafka_home: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("KAFKA_HOME", "STREAMS_KAFKA_HOME"),
        description="an installed Kafka distribution, used instead of the Maven jars",
        examples=["/opt/kafka"],
    )
    kafka_cache_dir: Path = Field(
        default=Path.home() / ".cache" / "streams" / "kafka",
        description="where the broker's jars are fetched to, once",
    )

    @field_validator("security_protocol", "sasl_mechanism", mode="before")
    @classmethod
    def _upper(cls, value: object, info: ValidationInfo) -> object:
        """Kafka's names, in any case (``sasl_ssl`` as ``SASL_SSL``); empty (compose's default): the default."""
        if isinstance(value, str):
            return value.strip().upper() or cls.model_fields[str(info.field_name)].default
        return value

    @field_validator("api_token", "sasl_username", "sasl_password", "ssl_cafile", "ssl_certfile", "ssl_keyfile",
                     "schema_registry_basic_auth_user_info", "schema_registry_ssl_cafile", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """``STREAMS_API_TOKEN=`` (compose's ``${STREAMS_API_TOKEN:-}``) means unset, not an empty value."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(text, str) and not text.strip() else value

    @field_validator("ssl_cafile", "ssl_certfile", "ssl_keyfile", "schema_registry_ssl_cafile")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("no such file (a PEM file the process can read)")
        return value

    @field_validator("schema_registry_basic_auth_user_info")
    @classmethod
    def _user_info(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None and ":" not in value.get_secret_value():
            raise ValueError("not user:password")
        if value is not None and urlsplit(info.data.get("schema_registry_url", "")).username:
            raise ValueError("STREAMS_SCHEMA_REGISTRY_URL has a user:password@ already: give one of the two")
        return value

    @field_validator("sasl_password")
    @classmethod
    def _sasl_complete(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        protocol = info.data.get("security_protocol", "")
        if protocol.startswith("SASL_") and (value is None or not info.data.get("sasl_username")):
            raise ValueError(f"STREAMS_SECURITY_PROTOCOL={protocol} needs STREAMS_SASL_USERNAME and "
                             "STREAMS_SASL_PASSWORD")
        if protocol and not protocol.startswith("SASL_") and (value is not None or info.data.get("sasl_username")):
            raise ValueError(f"STREAMS_SECURITY_PROTOCOL={protocol} sends no SASL credentials: set it to "
                             "SASL_SSL or SASL_PLAINTEXT, or unset STREAMS_SASL_USERNAME and STREAMS_SASL_PASSWORD")
        return value

    @field_validator("ssl_keyfile")
    @classmethod
    def _pair(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if (value is None) != (info.data.get("ssl_certfile") is None) and "ssl_certfile" in info.data:
            raise ValueError("STREAMS_SSL_CERTFILE and STREAMS_SSL_KEYFILE go together (a client certificate and "
                             "its key)")
        protocol = info.data.get("security_protocol", "")
        files = value is not None or info.data.get("ssl_cafile") is not None
        if protocol in ("PLAINTEXT", "SASL_PLAINTEXT") and files:
            raise ValueError(f"STREAMS_SECURITY_PROTOCOL={protocol} uses no TLS files: set it to SSL or SASL_SSL, "
                             "or unset STREAMS_SSL_CAFILE, STREAMS_SSL_CERTFILE and STREAMS_SSL_KEYFILE")
        return value

    @field_validator("broker")
    @classmethod
    def _check_broker(cls, value: str) -> str:
        for url in value.split(","):
            if not urlsplit(url.strip()).hostname:
                raise ValueError("not a broker URL (expected kafka://host:port)")
            _port(url.strip())
        return value

    @field_validator("heartbeat_interval_s")
    @classmethod
    def _check_heartbeat(cls, value: float | None, info: ValidationInfo) -> float | None:
        session = info.data.get("session_timeout_s")
        if value is not None and session is not None and value >= session:
            raise ValueError(f"must be less than STREAMS_SESSION_TIMEOUT_S ({session:g} s), or the group evicts "
                             "a worker between two heartbeats")
        return value

    @field_validator("transaction_timeout_s")
    @classmethod
    def _check_transaction_timeout(cls, value: float, info: ValidationInfo) -> float:
        interval = info.data.get("commit_interval_s")
        if interval is not None and value <= 2 * interval:
            raise ValueError(f"must be more than twice STREAMS_COMMIT_INTERVAL_S ({interval:g}): a transaction "
                             "stays open for a commit interval, then has its records delivered and committed")
        return value

    @field_validator("otlp_endpoint", mode="before")
    @classmethod
    def _check_otlp_endpoint(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None  # compose's ${STREAMS_OTLP_ENDPOINT:-}: unset
        if isinstance(value, str):
            split = urlsplit(value)
            if split.scheme not in ("http", "https") or not split.hostname:
                raise ValueError("not an http(s) URL (expected http://host:4318, OTLP over HTTP)")
            _port(value)
        return value

    @field_validator("schema_registry_url")
    @classmethod
    def _check_registry_url(cls, value: str) -> str:
        split = urlsplit(value)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise ValueError("not an http(s) URL (expected http://host:port)")
        _port(value)
        return value

    @property
    def bootstrap_servers(self) -> str:
        """``host:port,...`` as Kafka clients want it (no ``kafka://``)."""
        parts = []
        for url in self.broker.split(","):
            split = urlsplit(url.strip())
            parts.append(f"{split.hostname}:{split.port or 9092}")
        return ",".join(parts)

    @property
    def kafka(self) -> KafkaConnection:
        """The Kafka connection every client of the project is configured from (servers, security)."""
        from streams.connection import KafkaConnection

        return KafkaConnection.from_settings(self)

    @property
    def registry_client_config(self) -> dict[str, str]:
        """confluent-kafka ``SchemaRegistryClient`` configuration: the URL, basic auth, the CA."""
        config = {"url": self.schema_registry_url}
        if self.schema_registry_basic_auth_user_info is not None:
            config["basic.auth.user.info"] = self.schema_registry_basic_auth_user_info.get_secret_value()
        if self.schema_registry_ssl_cafile is not None:
            config["ssl.ca.location"] = str(self.schema_registry_ssl_cafile)
        return config

    @property
    def lag_group_names(self) -> list[str]:
        return [name.strip() for name in self.lag_groups.split(",") if name.strip()]

    @property
    def registry_host_port(self) -> tuple[str, int]:
        split = urlsplit(self.schema_registry_url)
        return split.hostname or "127.0.0.1", split.port or 8081


def _port(url: str) -> int | None:
    try:
        return urlsplit(url).port
    except ValueError:  # the message names no URL: it could hold a password (the error line shows the input)
        raise ValueError("the port is not a number from 0 to 65535") from None


_USERINFO = re.compile(r"(?<=://)[^/?#@\s]*@")


def without_credentials(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it removed, to show a URL setting safely."""
    return _USERINFO.sub("", text)


def variables(model: type[BaseSettings] | None = None) -> list[tuple[str, str]]:
    """Each setting as a user sets it: its environment variable (an alias's own name) and what it is for.

    ``model``: another settings class read from the environment (the domain's, which the app factory's module
    offers); default: the platform's ``Settings``."""
    model = model or Settings
    prefix = str(model.model_config.get("env_prefix", "")).upper()
    found = []
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        variable = (str(alias.choices[0]) if isinstance(alias, AliasChoices) else str(alias)) if alias \
            else f"{prefix}{name.upper()}"
        found.append((variable, field.description or ""))
    return found


def explain_invalid(error: ValidationError, model: type[BaseSettings] | None = None) -> str:
    """One line for settings the environment got wrong: each variable, what is wrong, and a good value.

    ``model``: the settings class that refused them (default: the platform's; the domain's settings use it too).

    The variable is named as the user set it (``STREAMS_WEB_PORT``, not ``web_port``; ``KAFKA_HOME``, an
    alias, as such); the good value is the field's first example, else its default.  No secret is echoed:
    the value of a ``SecretStr`` field shows as ``<hidden>``, and a URL without its ``user:password@``.
    """
    parts = []
    for item in error.errors(include_url=False):
        loc = str(item["loc"][0]) if item["loc"] else "?"
        name, field = _field(loc, model or Settings)
        variable = loc if name != loc else f"STREAMS_{name.upper()}"  # an alias is the variable's own name
        what = item["msg"].removeprefix("Value error, ")
        what = what if what[1:2].isupper() else what[:1].lower() + what[1:]  # a sentence's word, not a NAME
        part = f"{variable}={_shown(field, item.get('input'))} is not valid: {what}"
        if field is not None:
            example = field.examples[0] if field.examples else field.default
            if example not in (None, ""):
                part += f" (a good value: {variable}={example})"
        parts.append(part)
    return "; ".join(parts)


def _field(loc: str, model: type[BaseSettings]) -> tuple[str, FieldInfo | None]:
    """The field an error location names: its own name, or one of its validation aliases."""
    if loc in model.model_fields:
        return loc, model.model_fields[loc]
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        if loc in choices:
            return name, field
    return loc, None


def _shown(field: FieldInfo | None, value: object) -> str:
    if field is not None and (field.annotation is SecretStr or SecretStr in get_args(field.annotation)):
        return "<hidden>"
    return repr(without_credentials(value) if isinstance(value, str) else value)
