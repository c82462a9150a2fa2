"""An embedded schema registry speaking Confluent Schema Registry's REST API, stored in Kafka."""

from streams.registry.compat import Level, incompatibilities
from streams.registry.server import RegistryServer, build_web_app, serve
from streams.registry.threaded import ThreadedRegistry

__all__ = ["Level", "RegistryServer", "ThreadedRegistry", "build_web_app", "incompatibilities", "serve"]
