"""An embedded schema registry speaking Confluent Schema Registry's REST API, stored in Kafka."""

from streams.registry.compat import Level, incompatibilities
from streams.registry.server import RegistryServer, build_web_app, serve

__all__ = ["Level", "RegistryServer", "build_web_app", "incompatibilities", "serve"]
