"""The topics of the simulated services: each service's command topic, its dead letters and their control topic.

``guarded_agent`` consumes ``<topic>.dlq.control`` beside its source and dead-letters to ``<topic>.dlq``, so each
service topic comes with both.  ``agents.topics`` lists these in the domain's topic table; ``register_services``
declares them too (a topic declared twice is created once).  No import of ``agents.topics`` here: it imports this.
"""

from __future__ import annotations

from agents.settings import SERVICES
from streams.recordpath.agent import control_topic
from streams.settings import Settings
from streams.topics import TopicSpec, dlq_topic

__all__ = ["service_topic", "service_topic_specs"]


def service_topic(settings: Settings, service: str) -> str:
    """The topic ``service`` takes its commands from, behind STREAMS_TOPIC_PREFIX (as ``agents.topics.topic_name``)."""
    return f"{settings.topic_prefix}{service}"


def service_topic_specs(settings: Settings) -> list[TopicSpec]:
    n = settings.topic_partitions
    topics = [service_topic(settings, service) for service in SERVICES]
    return [spec for topic in topics
            for spec in (TopicSpec(topic, n), TopicSpec(dlq_topic(topic), n), TopicSpec(control_topic(topic), n))]
