"""docker-compose.yml cannot run here (no Docker engine), so it is checked by reading it.

Values are read as compose gives them to a container: ``${VAR:-default}`` resolved against a chosen environment
(the one `docker compose` would run in), a variable listed without a value passed on only when that environment
has it.  The ``cluster`` profile is checked against itself (one quorum, names that resolve) and against the dev
cluster's broker settings (``internal_topic_config``), so the two three-broker setups cannot drift apart.
"""

import base64
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from markdown_it import MarkdownIt

from agents.settings import OrderSettings
from streams.devstack.kafka import internal_topic_config
from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_STACK = {"kafka", "schema-registry", "worker-1", "worker-2", "prometheus", "grafana", "jaeger"}
CLUSTER = ("kafka-1", "kafka-2", "kafka-3")
WORKERS = ("worker-1", "worker-2")
SECURITY = ("STREAMS_SECURITY_PROTOCOL", "STREAMS_SASL_MECHANISM", "STREAMS_SASL_USERNAME", "STREAMS_SASL_PASSWORD",
            "STREAMS_SSL_CAFILE", "STREAMS_SSL_CERTFILE", "STREAMS_SSL_KEYFILE")
REPLICATION = ("STREAMS_REPLICATION_FACTOR", "STREAMS_MIN_INSYNC_REPLICAS")
DOMAIN = tuple(f"STREAMS_{name.upper()}" for name in OrderSettings.model_fields)  # the saga's, the services'
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?-)(?P<default>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def interpolate(value: str, environ: Mapping[str, str]) -> str:
    """``${VAR}``, ``${VAR-default}`` and ``${VAR:-default}`` as compose resolves them; any other ``$`` form is
    refused, so that a value this function does not understand fails the test instead of passing unread."""
    def one(match: re.Match[str]) -> str:
        name, op, default = match["name"], match["op"], match["default"] or ""
        if op == ":-":
            return environ.get(name) or default
        return environ.get(name, default) if op == "-" else environ.get(name, "")
    resolved = _VARIABLE.sub(one, value.replace("$$", "\0"))
    assert "$" not in resolved, f"a compose variable form this test cannot read: {value!r}"
    return resolved.replace("\0", "$")


def environment(service: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """The environment a service's container gets when `docker compose` runs in ``environ``."""
    found = {}
    for key, value in (service.get("environment") or {}).items():
        if value is None:  # listed without a value: passed on when set, left out when not
            if key in environ:
                found[key] = environ[key]
        else:
            found[key] = interpolate(str(value), environ)
    return found


def listeners(spec: str) -> dict[str, tuple[str, int]]:
    """``NAME://host:port,...`` (Kafka's listeners and advertised.listeners) by listener name."""
    found = {}
    for item in spec.split(","):
        name, _, address = item.partition("://")
        host, _, port = address.rpartition(":")
        assert name not in found, f"listener {name} twice in {spec}"
        found[name] = (host, int(port))
    return found


def cluster_command_environ() -> dict[str, str]:
    """The variables the README's ``docker compose --profile cluster`` command sets."""
    for token in MarkdownIt().parse((ROOT / "README.md").read_text()):
        if token.type == "fence" and "--profile cluster" in token.content:
            words = shlex.split(token.content.replace("\\\n", " "), comments=True)
            assignments = words[:words.index("docker")]
            return dict(word.split("=", 1) for word in assignments)
    raise AssertionError("README.md shows no `docker compose --profile cluster` command")


def kafka_settings(config: Mapping[str, str]) -> dict[str, str]:
    """Broker properties as the apache/kafka image's environment names them (``KAFKA_`` and the key upper-cased,
    dots as underscores)."""
    return {"KAFKA_" + key.upper().replace(".", "_"): value for key, value in config.items()}


def test_interpolate_reads_what_compose_reads() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d}/${EMPTY:-d}/${UNSET:-d}/${EMPTY-d}/${UNSET-d}/${SET}/$$", env) == "x/d/d//d/x/$"
    with pytest.raises(AssertionError, match="cannot read"):
        interpolate("${SET:?required}", env)
    assert environment({"environment": {"A": None, "B": None, "C": "${SET}"}}, {"A": "1", "SET": "x"}) == {
        "A": "1", "C": "x"}
    assert listeners("INTERNAL://kafka:29092,EXTERNAL://localhost:9092") == {
        "INTERNAL": ("kafka", 29092), "EXTERNAL": ("localhost", 9092)}


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


@pytest.mark.parametrize("name", WORKERS)
def test_workers_use_settings_that_exist_and_parse(compose: dict, name: str) -> None:  # type: ignore[type-arg]
    worker = compose["services"][name]
    fields = {f"STREAMS_{field.upper()}" for field in Settings.model_fields} | set(DOMAIN)
    assert set(worker["environment"]) <= fields, f"unknown settings in {name}: {set(worker['environment']) - fields}"
    env: dict[str, Any] = environment(worker, {})
    settings = Settings(**{key.removeprefix("STREAMS_").lower(): value for key, value in env.items()
                           if key not in DOMAIN})
    OrderSettings(**{key.removeprefix("STREAMS_").lower(): value for key, value in env.items() if key in DOMAIN})
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


def test_the_default_stack_is_the_one_broker_stack(compose: dict) -> None:  # type: ignore[type-arg]
    """Without a profile: the same services as before the cluster profile, on the one broker, with no security
    setting but the protocol, and Kafka's own topics in one copy (what ``streams dev`` runs)."""
    services = compose["services"]
    assert {name for name, service in services.items() if not service.get("profiles")} == DEFAULT_STACK
    kafka = services["kafka"]
    internal = "{}:{}".format(*listeners(kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"])["INTERNAL"])
    for name in WORKERS:
        env = environment(services[name], {})
        assert Settings(broker=env["STREAMS_BROKER"]).bootstrap_servers == internal
        assert {key: env[key] for key in SECURITY + REPLICATION if key in env} == {
            "STREAMS_SECURITY_PROTOCOL": "PLAINTEXT"}
    registry = environment(services["schema-registry"], {})
    assert registry["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"] == f"PLAINTEXT://{internal}"
    replication = kafka_settings(internal_topic_config(1))
    assert {key: kafka["environment"].get(key) for key in replication} == replication
    assert "KAFKA_DEFAULT_REPLICATION_FACTOR" not in kafka["environment"]
    assert "KAFKA_MIN_INSYNC_REPLICAS" not in kafka["environment"]


def test_the_cluster_profile_is_three_nodes_of_the_one_broker_image(compose: dict) -> None:  # type: ignore[type-arg]
    services = compose["services"]
    assert {name for name, service in services.items() if "cluster" in service.get("profiles", [])} == set(CLUSTER)
    for name in CLUSTER:
        node = services[name]
        assert node["profiles"] == ["cluster"]
        assert node["image"] == services["kafka"]["image"]
        assert node["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert node["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")


def test_the_cluster_nodes_form_one_quorum(compose: dict) -> None:  # type: ignore[type-arg]
    """Every node names every node as a voter, at the port that node's CONTROLLER listener has, under the name
    compose's network resolves (the service name); ids unique; one cluster id, a KRaft one (16 bytes)."""
    nodes = {name: compose["services"][name]["environment"] for name in CLUSTER}
    ids = [int(env["KAFKA_NODE_ID"]) for env in nodes.values()]
    assert len(set(ids)) == len(ids) == 3
    controllers = {}
    for name, env in nodes.items():
        controller_names = env["KAFKA_CONTROLLER_LISTENER_NAMES"].split(",")
        own = listeners(env["KAFKA_LISTENERS"])
        controllers[name] = (int(env["KAFKA_NODE_ID"]), own[controller_names[0]][1])
    expected = {f"{node_id}@{name}:{port}" for name, (node_id, port) in controllers.items()}
    for name, env in nodes.items():
        voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
        assert len(voters) == len(set(voters)), name
        assert set(voters) == expected, name
    cluster_ids = {env["CLUSTER_ID"] for env in nodes.values()}
    assert len(cluster_ids) == 1
    (cluster_id,) = cluster_ids
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_the_cluster_nodes_advertise_addresses_that_reach_them(compose: dict) -> None:  # type: ignore[type-arg]
    """Inside compose's network a node is its service name; from the host it is localhost on a published port
    that is its own.  Every advertised listener is one the node listens on, on the same port, never the
    controller's; every listener has a security protocol; the brokers talk to each other on an advertised one."""
    services = compose["services"]
    published: dict[str, str] = {}
    for service_name, service in services.items():
        for mapping in service.get("ports", []):
            host_port = str(mapping).split(":")[0]
            assert host_port not in published, f"{service_name} and {published.get(host_port)} both publish {host_port}"
            published[host_port] = service_name
    for name in CLUSTER:
        node = services[name]
        env = node["environment"]
        own = listeners(env["KAFKA_LISTENERS"])
        advertised = listeners(env["KAFKA_ADVERTISED_LISTENERS"])
        protocols = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
        assert set(own) <= set(protocols), name
        assert not set(advertised) & set(env["KAFKA_CONTROLLER_LISTENER_NAMES"].split(",")), name
        assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised, name
        for listener, (host, port) in advertised.items():
            assert listener in own, f"{name} advertises {listener}, which it does not listen on"
            assert own[listener][1] == port, f"{name} advertises {listener} on {port}, listens on {own[listener][1]}"
            if host == "localhost":
                assert f"{port}:{port}" in node["ports"], f"{name} advertises localhost:{port}, not published"
            else:
                assert host == name, f"{name} advertises {listener} as {host}, which compose does not resolve to it"
        assert {host for host, _ in advertised.values()} == {name, "localhost"}, name


def test_the_cluster_keeps_three_copies_and_writes_two(compose: dict) -> None:  # type: ignore[type-arg]
    """Kafka's own topics and topics created without a factor: 3 copies, a write needs 2 (one node may go); the
    same broker settings as the three-node dev cluster (``streams dev --brokers 3``)."""
    expected = kafka_settings(internal_topic_config(3))
    assert expected["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
    assert expected["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    for name in CLUSTER:
        env = compose["services"][name]["environment"]
        assert {key: env.get(key) for key in expected} == expected, name


def test_the_readme_command_runs_workers_and_registry_on_every_node(compose: dict) -> None:  # type: ignore[type-arg]
    """The README's command (and the file's header, which says the same) points the workers and the registry at
    the INTERNAL listener of all three nodes, not at the one broker."""
    environ = cluster_command_environ()
    text = (ROOT / "docker-compose.yml").read_text()
    for key, value in environ.items():
        assert f"{key}={value}" in text, f"the compose file's header does not say {key}={value}"
    services = compose["services"]
    nodes = {"{}:{}".format(*listeners(services[name]["environment"]["KAFKA_ADVERTISED_LISTENERS"])["INTERNAL"])
             for name in CLUSTER}
    for name in WORKERS:
        broker = environment(services[name], environ)["STREAMS_BROKER"]
        assert set(Settings(broker=broker).bootstrap_servers.split(",")) == nodes, name
    registry = environment(services["schema-registry"], environ)["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"]
    assert {url.removeprefix("PLAINTEXT://") for url in registry.split(",")} == nodes


@pytest.mark.parametrize("name", [*WORKERS, "schema-registry"])
def test_they_wait_for_the_cluster_only_when_it_is_on(compose: dict, name: str) -> None:  # type: ignore[type-arg]
    """``required: false``: with the profile off the nodes are not in the project and compose drops the
    dependency; with it on, the service starts once every node answers its healthcheck."""
    depends_on = compose["services"][name]["depends_on"]
    assert depends_on["kafka"] == {"condition": "service_healthy"}  # the default stack's dependency, still required
    for node in CLUSTER:
        assert depends_on[node] == {"condition": "service_healthy", "required": False}, node


@pytest.mark.parametrize("name", WORKERS)
def test_workers_pass_security_and_replication_on(compose: dict, name: str) -> None:  # type: ignore[type-arg]
    """Each variable, set where `docker compose` runs, reaches the worker as it is; unset, it is left out (the
    setting's default holds), except the protocol, PLAINTEXT as the setting's own default."""
    worker = compose["services"][name]
    environ = {key: f"value of {key}" for key in SECURITY + REPLICATION}
    env = environment(worker, environ)
    assert {key: env.get(key) for key in environ} == environ
    unset = environment(worker, {})
    assert [key for key in SECURITY + REPLICATION if key in unset] == ["STREAMS_SECURITY_PROTOCOL"]
    assert unset["STREAMS_SECURITY_PROTOCOL"] == "PLAINTEXT"


@pytest.mark.parametrize("name", WORKERS)
def test_workers_run_the_simulated_services_and_pass_the_saga_settings_on(
        compose: dict, name: str) -> None:  # type: ignore[type-arg]
    """Every setting of the order domain is listed; set where `docker compose` runs, it reaches the worker as it
    is; unset, it is left out (its default holds), except the simulated services, on unless turned off there."""
    worker = compose["services"][name]
    assert set(DOMAIN) <= set(worker["environment"])
    environ = {key: f"value of {key}" for key in DOMAIN}
    env = environment(worker, environ)
    assert {key: env.get(key) for key in DOMAIN} == environ
    unset = environment(worker, {})
    assert {key: unset[key] for key in DOMAIN if key in unset} == {"STREAMS_SIMULATED_SERVICES": "true"}
    assert OrderSettings(simulated_services=unset["STREAMS_SIMULATED_SERVICES"]).simulated_services
    off = environment(worker, {"STREAMS_SIMULATED_SERVICES": "false"})
    assert not OrderSettings(simulated_services=off["STREAMS_SIMULATED_SERVICES"]).simulated_services
