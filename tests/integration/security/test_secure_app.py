"""The app on a cluster that needs SASL/SCRAM and TLS: the worker, the CLI and the registry connect through the
secure listeners with the STREAMS_* security settings; a wrong password or an untrusted certificate is one line
naming the setting and exit code 1, at once; and the password appears nowhere in what a run prints or serves."""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

import pytest

from streams import headers as h
from streams.connection import KafkaConnection
from streams.devstack.ports import free_port
from streams.devstack.processes import ChildProcess
from streams.recordpath.records import header
from streams.scan import scan
from tests.integration.harness import Worker, streams_cli, wait_until
from tests.integration.orders.builders import placed
from tests.integration.security.conftest import SecureBroker

REFUSED_WITHIN_S = 30.0  # a refusal is said at once; this only bounds a hang


def secure_env(secure: SecureBroker, protocol: str, **overrides: str) -> dict[str, str]:
    """STREAMS_* settings of a run on ``secure``'s listener speaking ``protocol`` (its own topics and group)."""
    tag = uuid.uuid4().hex[:8]
    env = {"STREAMS_BROKER": f"kafka://{secure.address(protocol)}", "STREAMS_SECURITY_PROTOCOL": protocol,
           "STREAMS_TOPIC_PREFIX": f"s{tag}.", "STREAMS_APP_ID": f"secure-{tag}", "STREAMS_LOG_LEVEL": "info",
           "STREAMS_LAG_INTERVAL_S": "1"}
    if protocol.startswith("SASL_"):
        env |= {"STREAMS_SASL_MECHANISM": "SCRAM-SHA-512", "STREAMS_SASL_USERNAME": secure.username,
                "STREAMS_SASL_PASSWORD": secure.password}
    if protocol.endswith("SSL"):
        env["STREAMS_SSL_CAFILE"] = str(secure.ca)
    if protocol == "SSL":
        env |= {"STREAMS_SSL_CERTFILE": str(secure.client_cert), "STREAMS_SSL_KEYFILE": str(secure.client_key)}
    return env | overrides


def start_registry(env: dict[str, str], log: Path) -> tuple[ChildProcess, str]:
    """``streams registry`` as a user runs it, its store on the secure listener; its URL."""
    url = f"http://127.0.0.1:{free_port()}"
    registry = ChildProcess(name="registry", argv=[sys.executable, "-m", "streams.cli", "registry"], log_path=log,
                            ready_url=f"{url}/subjects", env={**env, "STREAMS_SCHEMA_REGISTRY_URL": url})
    registry.start(timeout=60)
    return registry, url


def test_worker_cli_and_registry_work_through_sasl_ssl_and_never_show_the_password(
        secure_broker: SecureBroker, tmp_path: Path) -> None:
    env = secure_env(secure_broker, "SASL_SSL", STREAMS_SCHEMAS_DIR=str(Path(__file__).parents[3] / "schemas"))
    registry, url = start_registry(env, tmp_path / "registry.log")
    env["STREAMS_SCHEMA_REGISTRY_URL"] = url
    printed: list[str] = []
    worker = Worker(env=env, data_dir=tmp_path / "w").start()
    try:
        assert "(SASL_SSL as streams-test (SCRAM-SHA-512))" in worker.log()  # the startup line says how
        order_id = f"o-{uuid.uuid4().hex[:8]}"
        produced = streams_cli(env, "produce", "OrderPlaced", "--data", json.dumps(placed(order_id)))
        printed += [produced.stdout, produced.stderr]
        assert produced.returncode == 0, produced.stderr
        read = wait_until(lambda: worker.get(f"/orders/{order_id}").status_code == 200, timeout=60,
                          what="the order applied by the worker")
        assert read
        for args in (["lag", "--samples", "1"], ["dlq", "list"], ["schemas", "check"]):
            done = streams_cli(env, *args, timeout=60)
            printed += [done.stdout, done.stderr]
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        lag = streams_cli(env, "lag", "--samples", "1", "--json", timeout=60)
        assert env["STREAMS_APP_ID"] in lag.stdout  # the group was read through SASL_SSL
        served = [worker.get(path).text for path in ("/health", "/metrics", "/api/lag", f"/orders/{order_id}")]
    finally:
        worker.stop()
        registry.stop()
    logs = [worker.log(), (tmp_path / "registry.log").read_text(errors="replace")]
    for text in [*printed, *served, *logs]:
        assert secure_broker.password not in text


def test_the_cli_works_through_mutual_tls(secure_broker: SecureBroker, tmp_path: Path) -> None:
    env = secure_env(secure_broker, "SSL")
    registry, url = start_registry(env, tmp_path / "registry.log")
    try:
        env["STREAMS_SCHEMA_REGISTRY_URL"] = url
        produced = streams_cli(env, "produce", "OrderPlaced", "--data", json.dumps(placed("o-tls")))
        assert produced.returncode == 0, produced.stderr
        receipt = json.loads(produced.stdout)
        mutual_tls = KafkaConnection(secure_broker.ssl, "SSL", ssl_cafile=secure_broker.ca,
                                     ssl_certfile=secure_broker.client_cert, ssl_keyfile=secure_broker.client_key)
        [record] = [r for r in scan(mutual_tls, f"{env['STREAMS_TOPIC_PREFIX']}orders")
                    if (r.partition, r.offset) == (receipt["partition"], receipt["offset"])]
        assert header(record.headers, h.EVENT_ID) == receipt["event_id"].encode()  # written, and read back, over TLS
    finally:
        registry.stop()


REFUSALS = {
    "a wrong password": ("SASL_PLAINTEXT", {"STREAMS_SASL_PASSWORD": "not-the-password"},
                         ["STREAMS_SASL_USERNAME", "STREAMS_SASL_PASSWORD"]),
    "an unknown mechanism for the user": ("SASL_SSL", {"STREAMS_SASL_MECHANISM": "PLAIN"},
                                          ["STREAMS_SASL_MECHANISM"]),
    "an untrusted broker certificate": ("SASL_SSL", {"STREAMS_SSL_CAFILE": "UNTRUSTED"}, ["STREAMS_SSL_CAFILE"]),
    "no client certificate on mutual TLS": ("SSL", {"STREAMS_SSL_CERTFILE": "", "STREAMS_SSL_KEYFILE": ""},
                                            ["STREAMS_SSL_CERTFILE", "STREAMS_SSL_KEYFILE"]),
    "plaintext on a TLS listener": ("SSL", {"STREAMS_SECURITY_PROTOCOL": "PLAINTEXT", "STREAMS_SSL_CAFILE": "",
                                            "STREAMS_SSL_CERTFILE": "", "STREAMS_SSL_KEYFILE": ""},
                                    ["STREAMS_SECURITY_PROTOCOL"]),
}


CASES = [  # every command on the commonest mistake; each other mistake on one command (each run costs seconds)
    *(("a wrong password", command) for command in ("worker", "registry", "produce", "lag")),
    ("an untrusted broker certificate", "worker"), ("an untrusted broker certificate", "registry"),
    ("an unknown mechanism for the user", "produce"), ("no client certificate on mutual TLS", "lag"),
    ("plaintext on a TLS listener", "worker"),
]
ARGS = {"worker": ["worker"], "registry": ["registry"], "produce": ["produce", "OrderPlaced", "--data", "{}"],
        "lag": ["lag", "--samples", "1"]}


@pytest.mark.parametrize(("case", "command"), CASES)
def test_a_refused_connection_is_one_line_naming_the_setting_and_exit_1(
        secure_broker: SecureBroker, case: str, command: str, tmp_path: Path) -> None:
    protocol, overrides, named = REFUSALS[case]
    if overrides.get("STREAMS_SSL_CAFILE") == "UNTRUSTED":
        overrides = {**overrides, "STREAMS_SSL_CAFILE": str(secure_broker.untrusted_ca)}
    env = secure_env(secure_broker, protocol, STREAMS_DATA_DIR=str(tmp_path), STREAMS_WEB_PORT=str(free_port()),
                     STREAMS_SCHEMA_REGISTRY_URL=f"http://127.0.0.1:{free_port()}", **overrides)
    started = time.monotonic()
    done = streams_cli(env, *ARGS[command], timeout=REFUSED_WITHIN_S + 30)
    took = time.monotonic() - started
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("streams"), lines
    assert all(name in lines[0] for name in named), lines[0]
    assert secure_broker.password not in done.stdout + done.stderr
    print(f"{case} / {command}: exit 1 after {took:.1f}s: {lines[0]}")
