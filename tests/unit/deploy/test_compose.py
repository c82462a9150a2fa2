"""docker-compose.yml cannot run here (no Docker engine), so it is checked by reading it."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_stack_has_every_service(compose: dict) -> None:  # type: ignore[type-arg]
    assert set(compose["services"]) >= {"kafka", "schema-registry", "worker-1", "worker-2", "prometheus", "grafana",
                                        "jaeger"}
    assert compose["services"]["kafka"]["image"].startswith("apache/kafka:")
    assert compose["services"]["schema-registry"]["image"].startswith("confluentinc/cp-schema-registry:")


def test_kafka_runs_kraft_and_publishes_the_default_broker_port(compose: dict) -> None:  # type: ignore[type-arg]
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    default_port = urlsplit(Settings.model_fields["broker"].default).port
    assert f"{default_port}:{default_port}" in kafka["ports"]
    assert f"localhost:{default_port}" in env["KAFKA_ADVERTISED_LISTENERS"]


def test_registry_port_matches_the_default_registry_url(compose: dict) -> None:  # type: ignore[type-arg]
    port = urlsplit(Settings.model_fields["schema_registry_url"].default).port
    assert f"{port}:{port}" in compose["services"]["schema-registry"]["ports"]


@pytest.mark.parametrize("name", ["worker-1", "worker-2"])
def test_workers_use_settings_that_exist_and_parse(compose: dict, name: str) -> None:  # type: ignore[type-arg]
    worker = compose["services"][name]
    env = worker["environment"]
    fields = {f"STREAMS_{field.upper()}" for field in Settings.model_fields}
    assert set(env) <= fields, f"unknown settings in {name}: {set(env) - fields}"
    settings = Settings(**{key.removeprefix("STREAMS_").lower(): value for key, value in env.items()})
    assert f"{settings.web_port}:{settings.web_port}" in worker["ports"]
    assert urlsplit(settings.schema_registry_url).hostname == "schema-registry"
    internal_listener = compose["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert settings.bootstrap_servers in internal_listener


def test_prometheus_scrapes_both_workers(compose: dict) -> None:  # type: ignore[type-arg]
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    targets = {t for job in scrape["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    for name in ("worker-1", "worker-2"):
        port = compose["services"][name]["environment"]["STREAMS_WEB_PORT"]
        assert f"{name}:{port}" in targets


def test_grafana_is_provisioned_with_prometheus(compose: dict) -> None:  # type: ignore[type-arg]
    mounts = compose["services"]["grafana"]["volumes"]
    assert any(m.startswith("./deploy/grafana/provisioning:") for m in mounts)
    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"


def test_compose_runs_the_kafka_version_the_tests_run(compose: dict) -> None:  # type: ignore[type-arg]
    pom = (ROOT / "streams" / "devstack" / "kafka-pom.xml").read_text()
    version = pom.split("<kafka.version>")[1].split("<")[0]
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{version}"


def test_grafana_loads_the_dashboard_from_the_provisioned_folder(compose: dict) -> None:  # type: ignore[type-arg]
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/streams.yml").read_text())
    folder = provider["providers"][0]["options"]["path"]
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{folder}:ro" in mounts
    assert (ROOT / "deploy/grafana/dashboards/streams.json").is_file()


@pytest.mark.parametrize("name", ["worker-1", "worker-2"])
def test_workers_send_traces_to_jaegers_otlp_http_receiver(compose: dict, name: str) -> None:  # type: ignore[type-arg]
    jaeger = compose["services"]["jaeger"]
    assert jaeger["image"].startswith("jaegertracing/jaeger:2.")  # v2: OTLP in natively
    assert "--set=receivers.otlp.protocols.http.endpoint=0.0.0.0:4318" in jaeger["command"]  # not only localhost
    assert "16686:16686" in jaeger["ports"]
    worker = compose["services"][name]
    endpoint = Settings(otlp_endpoint=worker["environment"]["STREAMS_OTLP_ENDPOINT"]).otlp_endpoint
    assert endpoint is not None
    assert (urlsplit(endpoint).hostname, urlsplit(endpoint).port) == ("jaeger", 4318)
    assert "jaeger" in worker["depends_on"]
